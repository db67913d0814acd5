"""Surrogate speed (issue #5): six-probe plans scored per second at 20,000 query points.

Query points are 20,000 voxel centres of the L4 case (tumour, a margin shell and the protected
structures first, then other voxels near the tumour), in their own tissues, so several medium
groups are evaluated as in planning. Plans are random six-probe sets around the tumour, batched
with ``jax.vmap``. The gradient is that of a scalar score (mean query temperature) with respect
to every tip, entry and freeze duration of every plan in the batch. Target: ≥ 1,000 plans/s,
gradient ≤ 3× a forward evaluation. Writes ``results/benchmarks/surrogate_speed.json``.

    uv run python benchmarks/surrogate_speed.py       # about 1 minute
"""

from __future__ import annotations

import dataclasses
import time

import jax
import jax.numpy as jnp
import numpy as np
from _results import ROOT, machine, write_json
from scipy import ndimage

from optiprobe.surrogate.model import ProbeSet, load_surrogate, make_query
from optiprobe.validation import load_and_voxelize

N_POINTS = 20_000
N_PROBES = 6
BATCHES = (64, 256)
REPEATS = 5


def _points(volume):
    tumor = volume.tumor_mask
    near = ndimage.binary_dilation(tumor, iterations=6)
    order = [tumor, near & ~tumor]
    order += [volume.masks[name] for name in volume.protected]
    order.append(ndimage.binary_dilation(tumor, iterations=25))
    chosen = np.zeros(volume.grid.shape, bool)
    picked = []
    for mask in order:
        index = np.argwhere(mask & ~chosen)
        picked.append(index)
        chosen |= mask
    index = np.concatenate(picked)[:N_POINTS]
    points = volume.grid.lower_mm + index * np.asarray(volume.grid.spacing_mm)
    names = np.array(volume.tissue_names)[volume.tissue_index[tuple(index.T)]]
    return points, names


def _plans(batch: int, centre: np.ndarray, surrogate, rng) -> ProbeSet:
    tips = centre + rng.uniform(-10, 10, size=(batch, N_PROBES, 3))
    direction = np.array([-0.6, -0.8, 0.0])
    entries = tips - 80.0 * direction
    return ProbeSet(
        tips_mm=jnp.asarray(tips, jnp.float32),
        entries_mm=jnp.asarray(entries, jnp.float32),
        freeze_min=jnp.asarray(rng.uniform(3, 15, size=(batch, N_PROBES, 2)), jnp.float32),
        model=jnp.asarray(rng.integers(0, len(surrogate.models), (batch, N_PROBES)), jnp.int32),
        present=jnp.ones((batch, N_PROBES), jnp.float32),
    )


def _time(function, *args) -> float:
    jax.block_until_ready(function(*args))  # compile
    start = time.perf_counter()
    for _ in range(REPEATS):
        out = function(*args)
    jax.block_until_ready(out)
    return (time.perf_counter() - start) / REPEATS


def main() -> None:
    case, volume = load_and_voxelize(ROOT / "scenarios" / "l4_osteoblastic_posterior_wall.yaml")
    surrogate = load_surrogate()
    points, names = _points(volume)
    query = make_query(points, names, surrogate)
    centre = volume.centroid_mm(case.tumor.name)
    rng = np.random.default_rng(0)
    forward = jax.jit(jax.vmap(surrogate.temperature, in_axes=(0, None)))

    def score(tips, entries, freeze, plans, query):
        moved = dataclasses.replace(plans, tips_mm=tips, entries_mm=entries, freeze_min=freeze)
        return jnp.mean(jax.vmap(surrogate.temperature, in_axes=(0, None))(moved, query))

    gradient = jax.jit(jax.grad(score, argnums=(0, 1, 2)))
    rows = []
    for batch in BATCHES:
        plans = _plans(batch, centre, surrogate, rng)
        t_forward = _time(forward, plans, query)
        t_gradient = _time(
            gradient, plans.tips_mm, plans.entries_mm, plans.freeze_min, plans, query
        )
        rows.append(
            {
                "batch": batch,
                "forward_s": round(t_forward, 4),
                "plans_per_s": round(batch / t_forward),
                "gradient_s": round(t_gradient, 4),
                "gradient_over_forward": round(t_gradient / t_forward, 2),
            }
        )
        print(rows[-1])
    best = max(rows, key=lambda r: r["plans_per_s"])
    write_json(
        ROOT / "results" / "benchmarks" / "surrogate_speed.json",
        {
            "workload": f"{N_PROBES}-probe plans, {N_POINTS} query points of the L4 case",
            "medium_groups": len(query.groups),
            "device": str(jax.devices()[0]),
            "runs": rows,
            "best_plans_per_s": best["plans_per_s"],
            "target_plans_per_s": 1000,
            "target_gradient_over_forward": 3.0,
            "machine": machine(),
        },
    )


if __name__ == "__main__":
    main()
