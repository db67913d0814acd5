"""Which scored options the selection sees: a few per active-zone centre.

CP-SAT proves little on thousands of options within its work limit, so
:func:`~optiprobe.planner.problem.build_problem` keeps, per centre, the options that reach
most on their own and, next to a structure, those that trade reach against the share of a
structure limit they use best (:func:`kept_per_centre`).
"""

from __future__ import annotations

import numpy as np

__all__ = ["PER_CENTRE", "kept_per_centre", "structure_load"]

PER_CENTRE = 6


def kept_per_centre(reached, target, load, centres_mm, *, per_centre: int = PER_CENTRE):
    """Sorted indices of the options kept, per active-zone centre (0.5 mm bins).

    - The ``per_centre`` that reach most of each tumour and margin point's ``target`` on their
      own (fraction reached, summed). CP-SAT proves little on thousands of options in its work
      limit; near-duplicates are excluded by the spacing constraint anyway, and keeping every
      centre keeps the layouts diverse.
    - Where one of those alone breaks a structure limit (``load``, each option's largest
      share of a structure point's limit, above 1): the options that trade reach against
      load best, the Pareto front of (reach, load), thinned to at most ``per_centre`` evenly
      along it. The strongest options are the longest freezes of the
      largest probes; near a structure every one of them can break a limit alone, and the
      shorter or smaller freezes that keep it would otherwise be gone before CP-SAT sees them
      (the sacrum case: 3 of 1,109 options that keep every limit alone were left among the
      984 strongest, and CP-SAT found no plan at all).
    """
    alone = np.minimum(reached / target, 1.0).sum(axis=1)
    centre_key = np.round(centres_mm / 0.5).astype(np.int64)
    _, group = np.unique(centre_key, axis=0, return_inverse=True)
    group = group.reshape(-1)
    keep = set()
    for g in range(group.max() + 1):
        members = np.nonzero(group == g)[0]
        strongest = members[np.argsort(-alone[members], kind="stable")[:per_centre]]
        keep.update(strongest.tolist())
        if np.any(load[strongest] > 1.0):
            keep.update(_front(members, alone, load, per_centre))
    return np.asarray(sorted(keep), dtype=np.int64)


def _front(members, alone, load, size):
    """At most ``size`` of ``members`` on the Pareto front of (most ``alone``, least
    ``load``), evenly spaced along it and including both ends."""
    order = members[np.lexsort((-alone[members], load[members]))]  # load up, then reach down
    front, best = [], -np.inf
    for c in order:  # each next one loads the structures more, so it must reach more
        if alone[c] > best:
            front.append(c)
            best = alone[c]
    if len(front) > size:
        picks = np.unique(np.linspace(0, len(front) - 1, size).round().astype(int))
        front = [front[i] for i in picks]
    return [int(c) for c in front]


def structure_load(potentials, limits_v, structure_slices, structures) -> np.ndarray:
    """(options,) each option's largest share of a structure point's limit (as potentials,
    safety buffer included): above 1, the option alone breaks a limit."""
    load = np.zeros(len(potentials))
    for spec, sl in zip(structures, structure_slices, strict=True):
        if sl.stop > sl.start:
            limit = np.maximum(limits_v[spec.structure], 1e-6)
            load = np.maximum(load, np.max(potentials[:, sl] / limit[None, :], axis=1))
    return load
