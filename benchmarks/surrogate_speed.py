"""Surrogate speed (issue #5): six-probe plans scored per second at 20,000 query points.

Query points are 20,000 voxel centres of the L4 case (tumour, a margin shell and the protected
structures first, then other voxels near the tumour), in their own tissues, so several medium
groups are evaluated as in planning. Plans are random six-probe sets around the tumour, batched
with ``jax.vmap``. The gradient is that of a scalar score (mean query temperature) with respect
to every tip, entry and freeze duration of every plan in the batch. Targets: ≥ 1,000 plans/s,
gradient ≤ 3× a forward evaluation.

The machine's two cores are shared with other jobs, so every batch size is timed in ``ROUNDS``
rounds (each the mean of ``REPEATS`` calls, forward and gradient back to back) and the best and
the median round are reported, with the load average; the gradient/forward ratio is also taken
per round, which other jobs disturb less than either time.

The numbers are checked against the implementation before the hand-written gradient (commit
``BEFORE``, read from git history): temperatures on the whole L4 volume and at the benchmark
points, for ``CHECK_PLANS`` random plans, and both implementations against a float64
evaluation of the previous code (the same formula in exact-enough arithmetic).

Writes ``results/benchmarks/surrogate_speed.json``.

    uv run python benchmarks/surrogate_speed.py       # about 4 minutes
"""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from _results import ROOT, machine, write_json
from scipy import ndimage

from optiprobe.surrogate.model import (
    ARTEFACT,
    ProbeSet,
    Surrogate,
    load_surrogate,
    make_query,
    volume_query,
)
from optiprobe.validation import load_and_voxelize

N_POINTS = 20_000
N_PROBES = 6
BATCHES = (64, 256)
ROUNDS = 7
REPEATS = 3
BEFORE = "f3b90ac"  # the last commit with the autodiff gradient and the binary-search lookup
CHECK_PLANS = 8


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


def _mean_call_s(function, *args) -> float:
    start = time.perf_counter()
    for _ in range(REPEATS):
        out = function(*args)
    jax.block_until_ready(out)
    return (time.perf_counter() - start) / REPEATS


def _speed_row(surrogate, query, plans) -> dict:
    """Forward and gradient times of one batch over ``ROUNDS`` rounds: best and median."""
    forward = jax.jit(jax.vmap(surrogate.temperature, in_axes=(0, None)))

    def score(tips, entries, freeze, plans, query):
        moved = dataclasses.replace(plans, tips_mm=tips, entries_mm=entries, freeze_min=freeze)
        return jnp.mean(jax.vmap(surrogate.temperature, in_axes=(0, None))(moved, query))

    gradient = jax.jit(jax.grad(score, argnums=(0, 1, 2)))
    gradient_args = (plans.tips_mm, plans.entries_mm, plans.freeze_min, plans, query)
    jax.block_until_ready(forward(plans, query))  # compile
    jax.block_until_ready(gradient(*gradient_args))
    forward_s, gradient_s = [], []
    for _ in range(ROUNDS):
        forward_s.append(_mean_call_s(forward, plans, query))
        gradient_s.append(_mean_call_s(gradient, *gradient_args))
    batch = int(plans.tips_mm.shape[0])
    ratios = [g / f for f, g in zip(forward_s, gradient_s, strict=True)]
    return {
        "batch": batch,
        "forward_s": {"best": round(min(forward_s), 4), "median": _median(forward_s, 4)},
        "plans_per_s": {
            "best": round(batch / min(forward_s)),
            "median": round(batch / statistics.median(forward_s)),
        },
        "gradient_s": {"best": round(min(gradient_s), 4), "median": _median(gradient_s, 4)},
        "gradient_over_forward": {
            "best_over_best": round(min(gradient_s) / min(forward_s), 2),
            "median_of_rounds": _median(ratios, 2),
            "lowest_round": round(min(ratios), 2),
        },
        "load_average_1min": round(os.getloadavg()[0], 2),
    }


def _median(values, digits):
    return round(statistics.median(values), digits)


def _previous_model():
    """``optiprobe.surrogate.model`` as of commit :data:`BEFORE`, or None without git history."""
    try:
        source = subprocess.run(
            ["git", "show", f"{BEFORE}:optiprobe/surrogate/model.py"],
            cwd=ROOT,
            capture_output=True,
            check=True,
            text=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "previous_model.py"
        path.write_text(source, encoding="utf-8")
        spec = importlib.util.spec_from_file_location("previous_model", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # dataclasses need the module registered
        spec.loader.exec_module(module)
    return module


def _float64(surrogate):
    """A copy of ``surrogate`` whose tables are float64 (use inside ``jax.enable_x64``)."""
    copy = object.__new__(type(surrogate))
    copy.__dict__.update(surrogate.__dict__)
    for name in ("shapes", "radii", "beta", "knots", "_parameters"):
        if name in copy.__dict__:
            setattr(copy, name, jnp.asarray(np.asarray(getattr(surrogate, name)), jnp.float64))
    for name in ("v_levels", "v_cap"):
        setattr(copy, name, np.asarray(getattr(surrogate, name), np.float64))
    return copy


def _temperatures(surrogate, plans, query, *, float64=False):
    """Temperatures (plans, points) of a batch, one plan at a time (no batching effects)."""
    if float64:
        cast = {"tips_mm", "entries_mm", "freeze_min", "present"}
        plans = dataclasses.replace(
            plans,
            **{f: jnp.asarray(np.asarray(getattr(plans, f)), jnp.float64) for f in cast},
        )
        points = jnp.asarray(np.asarray(query.points_mm), jnp.float64)
        query = dataclasses.replace(query, points_mm=points)
    function = jax.jit(surrogate.temperature)
    count = int(plans.tips_mm.shape[0])
    rows = [
        function(jax.tree_util.tree_map(lambda a, i=i: a[i], plans), query) for i in range(count)
    ]
    return np.stack([np.asarray(r, np.float64) for r in rows])


def _difference(a, b) -> dict:
    d = np.abs(a - b)
    return {
        "max_c": float(f"{d.max():.3g}"),
        "p99_99_c": float(f"{np.quantile(d, 0.9999):.3g}"),
        "points_over_1e-3_c": int(np.sum(d > 1e-3)),
        "points": int(d.size),
    }


def _equivalence(surrogate, volume, query, centre) -> dict:
    """The current code against the previous one and both against float64 arithmetic."""
    previous = _previous_model()
    if previous is None:
        return {"note": f"commit {BEFORE} not in git history; not compared"}
    with np.load(ARTEFACT) as data:
        old = previous.Surrogate({key: data[key] for key in data.files})
    plans = _plans(CHECK_PLANS, centre, surrogate, np.random.default_rng(1))
    # Equal cycles: the protocol rule changed after that commit (t_eq = max_k(d_k + β·earlier),
    # 5e0294c) and agrees with the former one only there, so this compares the kernels alone.
    cycles = plans.freeze_min.shape[-1]
    plans = dataclasses.replace(
        plans, freeze_min=jnp.repeat(plans.freeze_min[..., :1], cycles, axis=-1)
    )
    result = {"previous": f"commit {BEFORE}", "plans": CHECK_PLANS, "cycles": "equal"}
    for name, where in (("whole_volume", volume_query(volume, surrogate)), ("points", query)):
        new = _temperatures(surrogate, plans, where)
        before = _temperatures(old, plans, where)
        with jax.enable_x64(True):
            exact = _temperatures(_float64(old), plans, where, float64=True)
        result[name] = {
            "new_vs_previous": _difference(new, before),
            "new_vs_float64": _difference(new, exact),
            "previous_vs_float64": _difference(before, exact),
        }
    return result


def main() -> None:
    case, volume = load_and_voxelize(ROOT / "scenarios" / "l4_osteoblastic_posterior_wall.yaml")
    surrogate: Surrogate = load_surrogate()
    points, names = _points(volume)
    query = make_query(points, names, surrogate)
    centre = volume.centroid_mm(case.tumor.name)
    rng = np.random.default_rng(0)
    rows = []
    for batch in BATCHES:
        rows.append(_speed_row(surrogate, query, _plans(batch, centre, surrogate, rng)))
        print(rows[-1])
    equivalence = _equivalence(surrogate, volume, query, centre)
    print(equivalence)
    write_json(
        ROOT / "results" / "benchmarks" / "surrogate_speed.json",
        {
            "workload": f"{N_PROBES}-probe plans, {N_POINTS} query points of the L4 case",
            "medium_groups": len(query.groups),
            "device": str(jax.devices()[0]),
            "timing": (
                f"{ROUNDS} rounds per batch, each the mean of {REPEATS} calls (forward, then "
                "gradient); best and median round. The 2 cores are shared: other jobs may have "
                "been running (load average recorded per batch)."
            ),
            "runs": rows,
            "best_plans_per_s": max(r["plans_per_s"]["best"] for r in rows),
            "target_plans_per_s": 1000,
            "target_gradient_over_forward": 3.0,
            "equivalence": equivalence,
            "machine": machine(),
        },
    )


if __name__ == "__main__":
    main()
