"""Continuous refinement of a selected plan on the surrogate, by gradient (optax).

CP-SAT chooses among discrete candidates (a 4 mm lattice, a few directions, three duration
levels). Refinement moves each probe's tip and entry by up to ``TIP_MM`` / ``ENTRY_MM`` and sets
each freeze duration continuously inside the protocol's bounds, minimising a smooth objective
in the same potential units as the selection (``select.py``):

* tumour points short of the coverage potential and margin points short of the 0 °C potential,
  as softplus hinges (coverage);
* structure points above their limit potential (limit + safety buffer, with the verification's
  per-structure correction factor), as a softplus hinge weighted ``W_STRUCTURE`` (safety);
* the mean potential put into healthy tissue around the margin, and the total freezing time
  (small weights: over-freezing and time).

Offsets and durations are bounded by construction (``tanh`` and ``sigmoid`` of free
parameters), so Adam needs no projection. Afterwards each probe's trajectory is checked as the
candidates were (entry at the skin inside a window, depth, clearance, bone, grid); a probe whose
refined trajectory fails goes back to its selected one. The refined plan is kept only if its
objective is lower; it is then verified by the solver like any other plan.
"""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax

__all__ = ["Refinement", "refine"]

TIP_MM, ENTRY_MM = 3.0, 6.0
W_STRUCTURE, W_OVERFREEZE, W_TIME = 20.0, 0.01, 0.002
SOFT = 2.0  # °C-equivalent width of the hinges
STEPS, LEARNING_RATE = 80, 0.05


@dataclasses.dataclass(frozen=True)
class Refinement:
    """The refined probes (tips, entries, durations) and what refinement achieved."""

    tips_mm: np.ndarray
    entries_mm: np.ndarray
    freeze_min: np.ndarray
    objective_before: float
    objective_after: float
    reverted: tuple[int, ...]
    accepted: bool


def _cost(probes, t, score):
    """The smooth objective of ``probes`` (see the module docstring)."""
    v = score(probes)

    def mean(x):  # empty groups (no margin or healthy points) add nothing
        return jnp.mean(x) if x.size else 0.0

    cost = mean(jax.nn.softplus((t["tumour_need"] - v[t["tumour"]]) / SOFT))
    cost = cost + mean(jax.nn.softplus((t["margin_need"] - v[t["margin"]]) / SOFT))
    over = jax.nn.softplus(
        (v[t["structure"]] * t["structure_scale"] - t["structure_limit"]) / SOFT
    )
    cost = cost + W_STRUCTURE * mean(over)
    cost = cost + W_OVERFREEZE * mean(v[t["healthy"]])
    return cost + W_TIME * jnp.sum(probes.freeze_min * probes.present[:, None])


def _build(probes, params, bounds):
    lo, hi = bounds
    return dataclasses.replace(
        probes,
        tips_mm=probes.tips_mm + TIP_MM * jnp.tanh(params["tip"]),
        entries_mm=probes.entries_mm + ENTRY_MM * jnp.tanh(params["entry"]),
        freeze_min=lo + (hi - lo) * jax.nn.sigmoid(params["freeze"]),
    )


@functools.partial(jax.jit, static_argnames=("score", "bounds"))
def _optimise(probes, targets, score, bounds):
    """Adam on the bounded parametrisation; one compiled program per (score, padded probe
    count)."""
    lo, hi = bounds
    freeze = jnp.clip(probes.freeze_min, lo + 1e-3, hi - 1e-3)
    params = {
        "tip": jnp.zeros_like(probes.tips_mm),
        "entry": jnp.zeros_like(probes.entries_mm),
        "freeze": jnp.log((freeze - lo) / (hi - freeze)),
    }
    optimiser = optax.adam(LEARNING_RATE)

    def objective(params):
        return _cost(_build(probes, params, bounds), targets, score)

    def step(carry, _):
        params, state = carry
        value, grads = jax.value_and_grad(objective)(params)
        updates, state = optimiser.update(grads, state)
        return (optax.apply_updates(params, updates), state), value

    (params, _), _ = jax.lax.scan(step, (params, optimiser.init(params)), None, length=STEPS)
    return _build(probes, params, bounds)


_cost_jit = jax.jit(_cost, static_argnames=("score",))


def refine(
    probes,
    score,
    targets: dict,
    *,
    bounds_min: tuple[float, float],
    feasible,
) -> Refinement:
    """Refine ``probes`` (a :class:`~optiprobe.surrogate.model.ProbeSet`) on ``score``.

    Parameters
    ----------
    score : ProbeSet -> (points,) summed potentials at the sample points; pass the same
        function object every time, so the compiled optimisation is reused
    targets : dict with ``tumour``, ``margin``, ``healthy`` and ``structure`` index arrays,
        ``tumour_need``, ``margin_need`` (potentials to reach), ``structure_limit`` and
        ``structure_scale`` (per structure point)
    bounds_min : freeze duration bounds (min)
    feasible : (probe index, tip, entry) -> bool, the candidate checks for one trajectory

    ``probes`` may end in absent probes (``present`` 0, :func:`probe_set`'s ``pad_to``): they
    add nothing, do not move, and are left out of the result, so plans of every size up to
    the padded one share one compiled optimisation.
    """
    n = int(np.sum(np.asarray(probes.present) > 0))
    bounds = (float(bounds_min[0]), float(bounds_min[1]))
    targets = {k: jnp.asarray(v) for k, v in targets.items()}
    before = float(_cost_jit(probes, targets, score=score))
    moved = _optimise(probes, targets, score=score, bounds=bounds)
    tips, entries = np.array(moved.tips_mm), np.array(moved.entries_mm)
    freeze = np.array(moved.freeze_min)
    reverted = []
    for i in range(n):
        if not feasible(i, tips[i], entries[i]):
            tips[i], entries[i] = np.asarray(probes.tips_mm[i]), np.asarray(probes.entries_mm[i])
            reverted.append(i)
    final = dataclasses.replace(
        probes,
        tips_mm=jnp.asarray(tips),
        entries_mm=jnp.asarray(entries),
        freeze_min=jnp.asarray(freeze),
    )
    after = float(_cost_jit(final, targets, score=score))
    accepted = after < before
    if not accepted:
        tips, entries = np.asarray(probes.tips_mm), np.asarray(probes.entries_mm)
        freeze = np.asarray(probes.freeze_min)
    return Refinement(tips[:n], entries[:n], freeze[:n], before, after, tuple(reverted), accepted)
