"""Automatic planning: candidates, CP-SAT selection on the surrogate, solver verification."""

from __future__ import annotations


def objective(case, kind):
    """The case's objective of this kind (``TumorCoverageSpec``, ``IceMarginSpec``), or its
    defaults when the case has none: the planner always plans for coverage and a margin."""
    from optiprobe.case.treatment import IceMarginSpec

    default = kind(type="ice_margin" if kind is IceMarginSpec else "tumor_coverage")
    return next((o for o in case.objectives if isinstance(o, kind)), default)


def subsample(index, rng, limit: int):
    """At most ``limit`` rows of ``index``, drawn without replacement, in their original order."""
    if len(index) <= limit:
        return index
    return index[sorted(rng.choice(len(index), limit, replace=False))]
