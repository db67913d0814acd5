"""Held-out accuracy of the surrogate against the solver (issue #5).

Random plans the calibration never saw (it uses uniform blocks only), on four anatomical
scenarios (bone: L4 blastic, acetabulum lytic; soft tissue: femur with soft-tissue extension,
sacrum mixed): 1-6 probes of any catalogue model, parallel-ish needles from the case's first
access window (tilt ≤ 10°), probe spacings 5-25 mm, freezes of 3-15 min per cycle of the
10-8-10 protocol. Each plan is simulated with the full solver at 1 mm and predicted by the
surrogate on every voxel centre (``--media``: each point's own medium, the default; each probe's
surroundings, ``neighbourhood``; or each point mixing the media around it, ``interfaces``).

Measured (targets in brackets):
* 0 °C and −40 °C isotherm surfaces: distance between solver and surrogate surfaces (both
  directions pooled, sub-voxel; voxels within 2 mm of a needle are not tissue and are skipped)
  [mean ≤ 1.0 mm, 95th percentile ≤ 2.0 mm];
* protected-structure voxels where the solver reads 0-25 °C: |surrogate − solver| [MAE ≤ 1.5 °C];
* structures the solver puts below their limit while the surrogate does not [none].

Two disjoint plan sets come from the same generator: ``--set heldout`` (the default, seeds
1000 + scenario) and ``--set dev`` (seeds 2000 + scenario, 4 plans per scenario). Variants and
their parameters are chosen on dev only (``--set dev --variants`` →
``results/surrogate/dev_variants.json``); held-out is run once per chosen variant.

Each plan's solver field is cached (``results/surrogate/<set>_fields/``, not in git) and its
result written atomically to ``results/surrogate/<set>/<media>/``; the held-out summary goes to
``results/surrogate/accuracy.json`` (``accuracy_<media>.json`` for the variants) and the parity
plots to ``docs/img/surrogate_parity*.png``.

    uv run python benchmarks/surrogate_accuracy.py [--media interfaces]     # ~25 min cold
    uv run python benchmarks/surrogate_accuracy.py --set dev --variants     # ~15 min cold
    uv run python benchmarks/surrogate_accuracy.py --variant NAME  # a dev-chosen variant, held-out
"""

from __future__ import annotations

import argparse
import functools
import json

import jax
import numpy as np
from _accuracy_summary import BINS_MM, summarise
from _results import ROOT, machine, write_json

from optiprobe.case import Plan
from optiprobe.errors import OptiprobeError
from optiprobe.outputs import write_atomic, write_npz_atomic
from optiprobe.probes import CATALOGUE
from optiprobe.surrogate.accuracy import isotherm_distances, needle_voxels
from optiprobe.surrogate.interfaces import interface_query, interface_temperature
from optiprobe.surrogate.model import (
    load_surrogate,
    make_query,
    medium_field,
    probe_media,
    probe_set,
    volume_query,
)
from optiprobe.thermal.simulate import simulate
from optiprobe.validation import load_and_voxelize

SCENARIOS = (
    "l4_osteoblastic_posterior_wall",
    "acetabulum_lytic_sciatic",
    "femur_lytic_soft_tissue_extension",
    "sacrum_mixed_soft_tissue",
)
# Two disjoint sets of random plans from the same generator: "heldout" (seeds 1000 + scenario)
# measures, "dev" (seeds 2000 + scenario) is where variants and their parameters are chosen, so
# the held-out set is evaluated once per chosen variant and never tuned on.
SETS = {"heldout": 1000, "dev": 2000}
MAX_PROBES = 6


def _unit(v):
    return v / np.linalg.norm(v)


def random_plan(case, volume, rng) -> Plan:
    """A random plan around the tumour (see the module docstring for the ranges)."""
    direction = _unit(np.asarray(case.access.windows[0].direction, dtype=float))
    tilt = rng.normal(size=3)
    tilt -= tilt @ direction * direction
    angle = np.deg2rad(rng.uniform(0, 10))
    direction = _unit(direction + np.tan(angle) * _unit(tilt))
    e1 = _unit(np.cross(direction, [1.0, 0, 0] if abs(direction[0]) < 0.9 else [0, 1.0, 0]))
    e2 = np.cross(direction, e1)
    n = int(rng.integers(1, MAX_PROBES + 1))
    offsets = [rng.uniform(-3, 3, size=2)]
    while len(offsets) < n:
        anchor = offsets[rng.integers(len(offsets))]
        step = rng.uniform(5, 25)
        theta = rng.uniform(0, 2 * np.pi)
        candidate = anchor + step * np.array([np.cos(theta), np.sin(theta)])
        if min(np.linalg.norm(candidate - o) for o in offsets) >= 5.0:
            offsets.append(candidate)
    centre = volume.centroid_mm(case.tumor.name)
    probes = []
    for offset in offsets:
        model = CATALOGUE[str(rng.choice(sorted(CATALOGUE)))]
        middle = model.tip_offset_mm + model.active_length_mm / 2
        depth = rng.uniform(-5, 5)
        tip = centre + offset[0] * e1 + offset[1] * e2 + (middle + depth) * direction
        probes.append(
            {
                "model": model.name,
                "tip_mm": tip.round(2).tolist(),
                "entry_mm": (tip - 90.0 * direction).round(2).tolist(),
                "freeze_min": rng.uniform(3, 15, size=2).round(1).tolist(),
            }
        )
    return Plan(probes=probes)


def _fields(plan_set: str):
    return ROOT / "results" / "surrogate" / f"{plan_set}_fields"


def solver_field(case, volume, plan, key: str, digest: str, plan_set: str = "heldout"):
    """The solver's T_min for ``plan``, cached (float16) while the fingerprint is unchanged.

    The cache (``results/surrogate/heldout_fields/``, not kept in git) lets a surrogate change
    be measured again without re-running the solver.
    """
    path = _fields(plan_set) / f"{key}.npz"
    if path.exists():
        cached = np.load(path)
        if str(cached["fingerprint"]) == digest and str(cached["plan"]) == plan.model_dump_json():
            return cached["t_min_c"].astype(np.float32)
    result = simulate(case, volume, plan)
    write_npz_atomic(
        path,
        t_min_c=result.t_min_c.astype(np.float16),
        fingerprint=np.array(digest),
        plan=np.array(plan.model_dump_json()),
    )
    return result.t_min_c.astype(np.float16).astype(np.float32)


def predictor(volume, surrogate, media: str, params: dict | None = None):
    """``predict(probes) -> (voxels,) °C`` on every voxel centre, for one way of using media.

    ``point``: each point's own medium (the default surrogate); ``neighbourhood``: each probe's
    surroundings (``probe_media``); ``interfaces``: each point mixes the classes around it or
    on its path to the probes (``optiprobe.surrogate.interfaces``, ``params`` for
    ``interface_query``; none: its defaults, the variant chosen on the dev set).
    """
    if media == "interfaces":
        query = interface_query(volume, surrogate, **(params or {}))
        mixed = jax.jit(functools.partial(interface_temperature, surrogate))
        return lambda probes: mixed(probes, query)
    query = volume_query(volume, surrogate)
    plain = jax.jit(surrogate.temperature)
    if media == "neighbourhood":
        field = medium_field(volume, surrogate)
        return lambda probes: plain(probe_media(probes, field, surrogate), query)
    return lambda probes: plain(probes, query)


def evaluate_plan(case, volume, plan, surrogate, predict, solver) -> dict:
    probes = probe_set(plan, case, surrogate, pad_to=MAX_PROBES)
    field = np.asarray(predict(probes))
    field = field.reshape(volume.grid.shape)
    tips = np.array([p.tip_mm for p in plan.probes])
    entries = np.array([p.entry_mm for p in plan.probes])
    exclude = needle_voxels(volume.grid, tips, entries)
    row = {"probes": plan.model_dump(mode="json")["probes"], "isotherms": {}, "structures": []}
    for level in (0.0, -40.0):
        d = isotherm_distances(solver, field, level, volume.grid.spacing_mm, exclude)
        row["isotherms"][f"{level:g}"] = {
            "sum_mm": float(d.sum()),
            "count": len(d),
            "histogram": np.histogram(d, BINS_MM)[0].tolist(),
        }
    for spec in case.protected:
        mask = volume.masks[spec.structure]
        s, p = solver[mask], field[mask]
        window = (s >= 0) & (s <= 25)
        row["structures"].append(
            {
                "name": spec.structure,
                "limit_c": spec.min_temperature_c,
                "solver_min_c": round(float(s.min()), 2),
                "surrogate_min_c": round(float(p.min()), 2),
                "abs_error_sum_0_25c": float(np.abs(p[window] - s[window]).sum()),
                "points_0_25c": int(window.sum()),
            }
        )
    rng = np.random.default_rng(len(tips))
    cold = np.argwhere((solver < 30) & ~exclude)
    pick = cold[rng.choice(len(cold), size=min(400, len(cold)), replace=False)]
    row["parity"] = {
        "solver": solver[tuple(pick.T)].round(2).tolist(),
        "surrogate": field[tuple(pick.T)].round(2).tolist(),
    }
    return row


# Variants compared on the dev set only (results/surrogate/dev_variants.json); the one chosen
# there becomes interface_query's default and is measured once on the held-out set.
DEV_VARIANTS = {
    "point": ("point", None),
    "neighbourhood": ("neighbourhood", None),
    "interfaces-point-s1.5": ("interfaces", {"mode": "point", "sigma_mm": 1.5}),
    "interfaces-point-s3": ("interfaces", {"mode": "point", "sigma_mm": 3.0}),
    "interfaces-point-s5": ("interfaces", {"mode": "point", "sigma_mm": 5.0}),
    "interfaces-path-s1-l4": ("interfaces", {"mode": "path", "sigma_mm": 1.0, "path_mm": 4.0}),
    "interfaces-path-s1-l8": ("interfaces", {"mode": "path", "sigma_mm": 1.0, "path_mm": 8.0}),
    "interfaces-path-s1-l15": ("interfaces", {"mode": "path", "sigma_mm": 1.0, "path_mm": 15.0}),
    # Second round, after the first put point mixing ahead and wider Gaussians no worse:
    "interfaces-point-s8": ("interfaces", {"mode": "point", "sigma_mm": 8.0}),
    # Third round, a bound for structure limits rather than an estimate: each point read with
    # the coldest class around it (chosen by fewest missed violations, then false alarms):
    "interfaces-coldest-s3-w0.1": ("interfaces", {"mode": "coldest", "sigma_mm": 3.0}),
    "interfaces-coldest-s5-w0.1": ("interfaces", {"mode": "coldest", "sigma_mm": 5.0}),
    "interfaces-coldest-s5-w0.25": (
        "interfaces",
        {"mode": "coldest", "sigma_mm": 5.0, "min_share": 0.25},
    ),
    "interfaces-coldest-s8-w0.1": ("interfaces", {"mode": "coldest", "sigma_mm": 8.0}),
}


def _arguments():
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--set",
        dest="plan_set",
        choices=tuple(SETS),
        default="heldout",
        help="held-out plans (measure once per chosen variant) or development plans (tune)",
    )
    parser.add_argument(
        "--plans-per-scenario", type=int, default=None, help="default: 10 held-out, 4 dev"
    )
    parser.add_argument(
        "--summary-only", action="store_true", help="summarise the stored per-plan results"
    )
    parser.add_argument(
        "--media",
        choices=("point", "neighbourhood", "interfaces"),
        default="point",
        help="shells of each query point's medium (default), of each probe's surroundings, "
        "or mixed over the media around each point (interfaces)",
    )
    parser.add_argument(
        "--cost",
        action="store_true",
        help="time the interfaces variant against the plain surrogate on the speed benchmark's "
        "workload (64 six-probe L4 plans, 20,000 points) → results/surrogate/interfaces_cost.json",
    )
    parser.add_argument(
        "--variants",
        nargs="*",
        default=None,
        help="dev set only: compare these DEV_VARIANTS (none named: all) and write "
        "results/surrogate/dev_variants.json",
    )
    parser.add_argument(
        "--variant",
        choices=tuple(DEV_VARIANTS),
        default=None,
        help="measure one variant chosen on the dev set (by name), e.g. on held-out once",
    )
    args = parser.parse_args()
    if args.variants is not None and args.plan_set != "dev":
        parser.error("--variants is for the dev set only (--set dev): never tune on held-out")
    args.plans_per_scenario = args.plans_per_scenario or (10 if args.plan_set == "heldout" else 4)
    return args


def main() -> None:
    args = _arguments()
    if args.cost:
        measure_cost()
        return
    if args.variants is not None:
        names = args.variants or list(DEV_VARIANTS)
        variants = {name: DEV_VARIANTS[name] for name in names}
    elif args.variant is not None:
        variants = {args.variant: DEV_VARIANTS[args.variant]}
    else:
        variants = {args.media: (args.media, None)}
    outs = {name: ROOT / "results" / "surrogate" / args.plan_set / name for name in variants}
    if args.summary_only:
        rows = {
            n: [json.loads(p.read_text()) for p in sorted(o.glob("*.json"))]
            for n, o in outs.items()
        }
    else:
        rows = _run(args, variants, outs)
    summaries = {name: summarise(rows[name], name, args.plan_set) for name in variants}
    if args.variants is not None:
        _write_dev_variants(summaries)


def _run(args, variants: dict, outs: dict) -> dict:
    surrogate = load_surrogate()
    digest = surrogate.fingerprint["total"]
    rows = {name: [] for name in variants}
    for s_index, name in enumerate(SCENARIOS):
        case, volume = load_and_voxelize(ROOT / "scenarios" / f"{name}.yaml")
        predictors = {
            v: predictor(volume, surrogate, media, params)
            for v, (media, params) in variants.items()
        }
        rng = np.random.default_rng(SETS[args.plan_set] + s_index)
        done = 0
        while done < args.plans_per_scenario:
            plan = random_plan(case, volume, rng)
            key = f"{name}__{done:02d}"
            try:
                solver = solver_field(case, volume, plan, key, digest, args.plan_set)
            except OptiprobeError:  # an active zone left the grid: draw another plan
                continue
            for v, predict in predictors.items():
                row = evaluate_plan(case, volume, plan, surrogate, predict, solver)
                row |= {"scenario": name, "fingerprint": digest}
                write_atomic(outs[v] / f"{key}.json", json.dumps(row))
                rows[v].append(row)
            done += 1
            print(f"{name} plan {done}: {len(plan.probes)} probes", flush=True)
    return rows


def measure_cost(batch: int = 64) -> dict:
    """Forward time of the interfaces variant (its defaults) over the plain surrogate's."""
    import surrogate_speed as speed

    case, volume = load_and_voxelize(ROOT / "scenarios" / "l4_osteoblastic_posterior_wall.yaml")
    surrogate = load_surrogate()
    points, names = speed._points(volume)
    index = np.rint((points - volume.grid.lower_mm) / volume.grid.spacing_mm).astype(int)
    plain_query = make_query(points, names, surrogate)
    mixed_query = interface_query(volume, surrogate, voxels=index)
    plans = speed._plans(
        batch, volume.centroid_mm(case.tumor.name), surrogate, np.random.default_rng(0)
    )
    plain = jax.jit(jax.vmap(surrogate.temperature, in_axes=(0, None)))
    mixed = jax.jit(
        jax.vmap(functools.partial(interface_temperature, surrogate), in_axes=(0, None))
    )
    jax.block_until_ready(plain(plans, plain_query))  # compile both first
    jax.block_until_ready(mixed(plans, mixed_query))
    times = {"plain_s": [], "interfaces_s": []}
    for _ in range(3):  # interleaved, so load from other jobs hits both alike
        times["plain_s"].append(speed._mean_call_s(plain, plans, plain_query))
        times["interfaces_s"].append(speed._mean_call_s(mixed, plans, mixed_query))
    best = {k: min(v) for k, v in times.items()}
    result = {
        "workload": f"{batch} six-probe plans, {len(points)} query points of the L4 case, forward",
        "interface_query": "defaults (the variant chosen on the dev set)",
        "mode": mixed_query.mode,
        "points_per_class": {
            surrogate.media[c]: len(m)
            for c, m in zip(mixed_query.classes, mixed_query.members, strict=True)
        },
        "plain_forward_s": round(best["plain_s"], 4),
        "interfaces_forward_s": round(best["interfaces_s"], 4),
        "ratio": round(best["interfaces_s"] / best["plain_s"], 2),
        "all_times_s": {k: [round(t, 4) for t in v] for k, v in times.items()},
        "device": str(jax.devices()[0]),
        "machine": machine(),
    }
    write_json(ROOT / "results" / "surrogate" / "interfaces_cost.json", result)
    print(json.dumps(result, indent=1))
    return result


def _write_dev_variants(summaries: dict) -> None:
    keep = (
        "plans",
        "isotherm_distance_mm",
        "structure_mae_c_where_solver_0_25",
        "structure_points_0_25",
        "missed_limit_violations",
        "false_alarms",
    )
    path = ROOT / "results" / "surrogate" / "dev_variants.json"
    variants = json.loads(path.read_text())["variants"] if path.exists() else {}
    variants |= {  # variants measured earlier keep their rows; re-measured ones are replaced
        name: {"media": DEV_VARIANTS[name][0], "params": DEV_VARIANTS[name][1]}
        | {k: summary[k] for k in keep}
        for name, summary in summaries.items()
    }
    data = {"set": "dev", "seeds": f"{SETS['dev']} + scenario index", "variants": variants}
    write_json(path, data)


if __name__ == "__main__":
    main()
