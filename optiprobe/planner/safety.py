"""After verification: how robust a plan is to placement error, and how to protect structures.

* :func:`robustness` — the fraction of random ±``shift_mm`` per-probe placement errors under
  which the limits still hold. The surrogate predicts how each perturbation *changes* the
  tumour coverage and each structure's minimum temperature, and the change is added to the
  solver's numbers of the unperturbed plan (the surrogate's own bias at the structures, several
  °C, cancels in the difference). The worst perturbation is then simulated with the solver.
* :func:`protection_advice` — for each protected structure that fails its limit, conflicts with
  coverage, or comes within 10 °C of it: where to put a thermocouple (the structure's coldest
  voxel in the solver run), when the solver says it reaches the 10 °C protection trigger and the
  limit, and which protection to consider between tumour and structure.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy import ndimage

from optiprobe.case.treatment import TumorCoverageSpec
from optiprobe.planner import objective, subsample

__all__ = ["PROTECTION_TRIGGER_C", "margin_shortfall", "protection_advice", "robustness"]

PROTECTION_TRIGGER_C = 10.0  # thermocouple reading at which protection starts (clinical practice)
MAX_POINTS = 2000


def robustness(
    case,
    volume,
    plan,
    result,
    surrogate,
    *,
    n: int = 20,
    shift_mm: float = 2.0,
    seed: int = 0,
    check_worst: bool = True,
) -> dict:
    """Limits under ``n`` random placement errors (each probe moved rigidly by a vector with
    components uniform in ±``shift_mm``); see the module docstring."""
    import jax
    import jax.numpy as jnp

    from optiprobe.surrogate.model import make_query, probe_set

    rng = np.random.default_rng(seed)
    spec = objective(case, TumorCoverageSpec)
    names = np.asarray(volume.tissue_names)
    grid = volume.grid
    spacing = np.asarray(grid.spacing_mm)
    tumour = volume.masks[case.tumor.name]
    outside = ndimage.distance_transform_edt(~tumour, sampling=spacing)
    groups = {"tumour": subsample(np.argwhere(tumour), rng, MAX_POINTS)}
    for p in case.protected:
        near = volume.masks[p.structure] & (outside <= 30.0)
        groups[p.structure] = subsample(np.argwhere(near), rng, 500)
    index = np.concatenate(list(groups.values()))
    sizes = np.cumsum([0] + [len(v) for v in groups.values()])
    query = make_query(
        grid.lower_mm + index * spacing, names[volume.tissue_index[tuple(index.T)]], surrogate
    )
    probes = probe_set(plan, case, surrogate)
    shifts = rng.uniform(-shift_mm, shift_mm, size=(n, len(plan.probes), 3)).astype(np.float32)

    def temperatures(shift):
        moved = dataclasses.replace(
            probes, tips_mm=probes.tips_mm + shift, entries_mm=probes.entries_mm + shift
        )
        return surrogate.temperature(moved, query)

    # The unperturbed plan is row 0 of the one compiled batch (evaluated eagerly, op by op,
    # it took longer than the 20 perturbations together).
    batch = np.concatenate([np.zeros_like(shifts[:1]), shifts])
    everything = np.asarray(jax.jit(jax.vmap(temperatures))(jnp.asarray(batch)))
    nominal, perturbed = everything[0], everything[1:]

    def summary(t):
        out = {"tumour": float(np.mean(t[sizes[0] : sizes[1]] <= spec.limit_isotherm_c))}
        for k, p in enumerate(case.protected, start=1):
            part = t[sizes[k] : sizes[k + 1]]
            out[p.structure] = float(part.min()) if len(part) else np.inf
        return out

    base = summary(nominal)
    solver = {"tumour": float(np.mean(result.t_min_c[tumour] <= spec.limit_isotherm_c))}
    for p in case.protected:
        solver[p.structure] = float(np.min(result.t_min_c[volume.masks[p.structure]]))
    rows, slack = [], []
    for k in range(n):
        moved = summary(perturbed[k])
        predicted = {key: solver[key] + (moved[key] - base[key]) for key in solver}
        margins = [100.0 * (predicted["tumour"] - spec.min_fraction)]  # percentage points
        margins += [predicted[p.structure] - p.min_temperature_c for p in case.protected]
        rows.append(predicted)
        slack.append(min(margins))
    holds = [s >= 0 for s in slack]
    worst = int(np.argmin(slack))
    report = {
        "perturbations": n,
        "shift_mm": shift_mm,
        "method": "surrogate change added to the solver's unperturbed numbers",
        "fraction_holding": float(np.mean(holds)),
        "worst": {
            "shift_mm": np.round(shifts[worst].astype(float), 2).tolist(),
            "predicted": {k: round(v, 3) for k, v in rows[worst].items()},
        },
    }
    if check_worst:
        from optiprobe.metrics import evaluate
        from optiprobe.thermal.simulate import simulate

        moved_plan = plan.model_copy(
            update={
                "probes": [
                    p.model_copy(
                        update={
                            "tip_mm": tuple(np.add(p.tip_mm, s).round(2).tolist()),
                            "entry_mm": tuple(np.add(p.entry_mm, s).round(2).tolist()),
                        }
                    )
                    for p, s in zip(plan.probes, shifts[worst], strict=True)
                ]
            }
        )
        checked = evaluate(
            case, volume, simulate(case, volume, moved_plan), plan_name="worst perturbation"
        )
        report["worst"]["solver_limits_hold"] = checked.passed
        report["worst"]["solver"] = {row.criterion: round(row.value, 3) for row in checked.rows}
    return report


_ADVICE = (
    (
        ("nerve", "root", "sciatic", "plexus"),
        "warm hydrodissection (saline or D5W) around the "
        "nerve, with a thermocouple on it; consider motor-evoked-potential monitoring",
    ),
    (
        ("dural", "cord", "sac", "canal", "epidural"),
        "epidural CO2 or warm saline insufflation "
        "between tumour and dural sac, with an epidural thermocouple",
    ),
    (
        ("bowel", "rectum", "colon", "intestine", "bladder"),
        "CO2 pneumodissection or hydrodissection to displace the bowel away from the ice",
    ),
    (("skin",), "warm saline gauze or a warm glove on the skin over the needle entry"),
)


def _advice(structure: str) -> str:
    lower = structure.lower()
    for keys, text in _ADVICE:
        if any(k in lower for k in keys):
            return text
    return "hydrodissection or CO2 pneumodissection between tumour and structure"


def _first_crossing(times, values, threshold) -> float | None:
    below = np.nonzero(np.asarray(values) <= threshold)[0]
    return None if len(below) == 0 else float(times[below[0]])


def protection_advice(
    case, volume, result, *, within_c: float = 10.0, only: str | None = None
) -> list:
    """Per protected structure whose solver minimum comes within ``within_c`` of its limit (or
    only structure ``only``): thermocouple position, times to the trigger and the limit, and
    the protection to consider (see the module docstring)."""
    grid = volume.grid
    spacing = np.asarray(grid.spacing_mm)
    tumour = volume.masks[case.tumor.name]
    outside = ndimage.distance_transform_edt(~tumour, sampling=spacing)
    advice = []
    for spec in case.protected:
        mask = volume.masks[spec.structure]
        if not mask.any() or (only is not None and spec.structure != only):
            continue
        field = np.where(mask, result.t_min_c, np.inf)
        coldest = float(field.min())
        at_risk = coldest < spec.min_temperature_c + within_c
        if not at_risk:
            continue
        where = np.unravel_index(np.argmin(field), grid.shape)
        history = result.structure_min_c.get(spec.structure)
        times = result.sensor_times_s
        entry = {
            "structure": spec.structure,
            "limit_c": spec.min_temperature_c,
            "solver_min_c": round(coldest, 2),
            "limit_holds": coldest >= spec.min_temperature_c,
            "short_of_limit_c": round(max(spec.min_temperature_c - coldest, 0.0), 2),
            "gap_to_tumour_mm": round(float(outside[mask].min()), 1),
            "thermocouple_mm": np.round(grid.lower_mm + np.asarray(where) * spacing, 1).tolist(),
            "time_to_trigger_min": None,
            "time_to_limit_min": None,
            "suggestion": _advice(spec.structure),
        }
        if history is not None:
            for key, threshold in (
                ("time_to_trigger_min", PROTECTION_TRIGGER_C),
                ("time_to_limit_min", spec.min_temperature_c),
            ):
                t = _first_crossing(times, history, threshold)
                entry[key] = None if t is None else round(t / 60.0, 1)
        advice.append(entry)
    return advice


def margin_shortfall(case, volume, result, *, limit_mm: float, isotherm_c: float) -> dict:
    """Where the ice margin falls short: the fraction of tumour-surface voxels whose
    ``isotherm_c`` reach is below ``limit_mm``, and which structures (or protection regions)
    lie in the ``limit_mm`` shell outside those voxels, by share of the shell's voxels. A warm
    hydrodissection layer there means the margin conflicts with the protection."""
    from optiprobe.metrics.evaluate import ice_margins_mm

    grid = volume.grid
    spacing = np.asarray(grid.spacing_mm)
    tumour = volume.masks[case.tumor.name]
    margins = ice_margins_mm(result.t_min_c, tumour, spacing, isotherm_c)
    surface = tumour & ~ndimage.binary_erosion(tumour)
    short = np.zeros(grid.shape, bool)
    short[surface] = margins < limit_mm
    if not short.any():
        return {"short_surface_fraction": 0.0, "next_to": []}
    # The shell outside the short surface voxels, as far as the margin should reach.
    near_short = ndimage.distance_transform_edt(~short, sampling=spacing) <= limit_mm
    shell = near_short & ~tumour
    counts = []
    named = np.zeros(grid.shape, bool)
    for name, mask in volume.masks.items():
        if name == case.tumor.name:
            continue
        n = int((mask & shell).sum())
        named |= mask
        if n:
            counts.append((n, name))
    # Voxels of no named structure (a uniform base, say) are counted by their tissue.
    rest = shell & ~named
    tissues = np.asarray(volume.tissue_names)[volume.tissue_index[rest]]
    for tissue, n in zip(*np.unique(tissues, return_counts=True), strict=True):
        counts.append((int(n), f"tissue {tissue}"))
    total = max(int(shell.sum()), 1)
    counts.sort(reverse=True)
    return {
        "short_surface_fraction": round(float(np.mean(margins < limit_mm)), 3),
        "next_to": [{"name": name, "share": round(n / total, 3)} for n, name in counts[:5]],
    }


def held_regions_limiting_margin(case, volume, *, limit_mm: float, isotherm_c: float) -> list:
    """Protection regions held warmer than the margin isotherm that lie within ``limit_mm`` of
    the tumour: an exact bound on any plan's ice margin.

    The margin at a tumour-surface voxel is the distance to the nearest voxel warmer than the
    isotherm (:func:`optiprobe.metrics.evaluate.ice_margins_mm`), and a held region is always
    warmer, so no plan's margin there can exceed the distance to the region, measured the same
    way. Returns, per such region, that distance at the closest surface voxel and the share of
    the tumour surface closer to it than ``limit_mm``.
    """
    found = []
    for region in case.protection:
        held = getattr(region, "held_at_temperature", False)
        if not held or region.fluid_temperature_c <= isotherm_c:
            continue
        bound = _closest(case, volume, region.name, limit_mm)
        if bound is not None:
            found.append(
                {"region": region.name, "fluid_temperature_c": region.fluid_temperature_c} | bound
            )
    return found


def structures_limiting_margin(case, volume, *, limit_mm: float, isotherm_c: float) -> list:
    """Protected structures whose limit is warmer than the margin isotherm and that lie within
    ``limit_mm`` of the tumour: the margin limit and the structure's limit cannot both hold.

    A structure that keeps its limit (say 10 °C) is warmer than the isotherm (0 °C) everywhere,
    so, as for a held region (:func:`held_regions_limiting_margin`), no plan that keeps it
    there has a margin beyond the structure's distance from the tumour surface. Returns, per
    such structure, its limit, that distance and the share of the surface closer than
    ``limit_mm``.
    """
    found = []
    for spec in case.protected:
        if spec.min_temperature_c <= isotherm_c:
            continue
        bound = _closest(case, volume, spec.structure, limit_mm)
        if bound is not None:
            found.append({"structure": spec.structure, "limit_c": spec.min_temperature_c} | bound)
    return found


def _closest(case, volume, name: str, limit_mm: float) -> dict | None:
    """Distance (mm, voxel centres, as the margin metric measures) from the tumour surface to
    the region ``name`` where it is below ``limit_mm``; None otherwise."""
    mask = volume.masks.get(name)
    if mask is None or not mask.any():
        return None
    spacing = np.asarray(volume.grid.spacing_mm)
    tumour = volume.masks[case.tumor.name]
    surface = tumour & ~ndimage.binary_erosion(tumour)
    distance = ndimage.distance_transform_edt(~mask, sampling=spacing)[surface]
    if distance.min() >= limit_mm:
        return None
    return {
        "closest_mm": round(float(distance.min()), 2),
        "surface_fraction_within_limit": round(float(np.mean(distance < limit_mm)), 3),
    }
