"""Two baseline planners the automatic planner is compared against (issue #6).

* :func:`rule_of_thumb` — the clinical rule: parallel probes from one entry side, inside the
  tumour about 1 cm from its edge and 1–2 cm apart. In the plane across the needles, probes are
  added greedily until every point of the tumour's outline lies within 10 mm of one, each at
  least 10 mm from the others; each active zone is centred on the tumour's depth along its
  needle.
* :func:`bubble_packing` — after Rabin and Shimada's group (Tanaka et al. 2008): each probe's
  lethal zone is an ellipsoid ("bubble"), and bubbles are packed into the target, adding bubbles
  until the target is covered. The bubble's semi-axes are read from the surrogate's single-probe
  prediction at the case's coverage isotherm in the tumour's tissue. Their relaxation is a
  physically based inter-bubble force model; here the bubbles are relaxed by Lloyd iterations
  (k-means, :func:`scipy.cluster.vq.kmeans2`) in coordinates scaled so the ellipsoid is a
  sphere, which likewise spreads equal bubbles evenly over the target.

Both use one access window (the one whose layout has the fewest needle-path problems), the
protocol's freeze durations, and the allowed model with the largest lethal zone. Neither looks
at protected structures beyond choosing the window: that is the point of comparing them with
the planner. Both are verified with the same solver as the planner's plans.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage
from scipy.cluster.vq import kmeans2

from optiprobe.case import Plan
from optiprobe.case.treatment import TumorCoverageSpec
from optiprobe.planner import objective
from optiprobe.planner.candidates import _entry, access_of, skin_lookup

__all__ = ["BaselinePlan", "bubble_packing", "lethal_zone_mm", "rule_of_thumb"]

EDGE_MM = 10.0  # rule of thumb: probes about 1 cm inside the tumour edge
MIN_APART_MM = 10.0  # rule of thumb: 1-2 cm apart


@dataclass(frozen=True)
class BaselinePlan:
    """A baseline's plan and how it was laid out."""

    method: str
    plan: Plan
    window: str
    path_problems: tuple[str, ...]
    detail: dict


def lethal_zone_mm(surrogate, model: str, tissue: str, freeze_min, isotherm_c: float):
    """Semi-axes (radial, axial) in mm of one probe's ``isotherm_c`` zone in ``tissue``, and the
    offset (mm, from the tip towards the entry) of the zone's centre, from the surrogate."""
    import jax.numpy as jnp

    from optiprobe.surrogate.model import ProbeSet, make_query

    reach = np.arange(0.0, 60.0, 0.25)
    middle = float(surrogate.active_middle_mm[surrogate.model_index(model)])
    # Radial line from the active zone's middle; axial line from the tip outwards and inwards.
    radial = np.stack([reach, 0 * reach, 0 * reach + middle], axis=1)
    axial = np.stack([0 * reach, 0 * reach, -reach], axis=1)
    back = np.stack([0 * reach, 0 * reach, reach], axis=1)
    points = np.concatenate([radial, axial, back])
    query = make_query(points, [tissue] * len(points), surrogate)
    probes = ProbeSet(
        tips_mm=jnp.zeros((1, 3)),
        entries_mm=jnp.asarray([[0.0, 0.0, 100.0]]),
        freeze_min=jnp.asarray([freeze_min], jnp.float32),
        model=jnp.asarray([surrogate.model_index(model)], jnp.int32),
        present=jnp.ones(1),
    )
    t = np.asarray(surrogate.temperature(probes, query)).reshape(3, -1)
    cold = t <= isotherm_c
    extent = [reach[np.nonzero(row)[0][-1]] if row.any() else 0.0 for row in cold]
    radial_mm, below_tip, above_tip = extent
    axial_mm = (below_tip + above_tip) / 2
    centre_offset = (above_tip - below_tip) / 2  # towards the entry
    return radial_mm, axial_mm, centre_offset


def _tumour_points(case, volume) -> np.ndarray:
    index = np.argwhere(volume.masks[case.tumor.name])
    return volume.grid.lower_mm + index * np.asarray(volume.grid.spacing_mm)


def _frame(axis):
    helper = np.array([1.0, 0, 0]) if abs(axis[0]) < 0.9 else np.array([0, 1.0, 0])
    e1 = np.cross(axis, helper)
    e1 /= np.linalg.norm(e1)
    return e1, np.cross(axis, e1)


def _best_model(case, surrogate, tissue, freeze, isotherm):
    models = [m for m in case.probes.model_names if m in surrogate.models]
    if not models:
        from optiprobe.errors import OptiprobeError

        raise OptiprobeError(
            "the baselines need a catalogue probe model the surrogate knows",
            allowed=", ".join(surrogate.models),
        )
    zones = {m: lethal_zone_mm(surrogate, m, tissue, freeze, isotherm) for m in models}
    best = max(models, key=lambda m: zones[m][0] ** 2 * zones[m][1])
    return best, zones[best]


def _probes(case, volume, centres, axis, region, model, freeze, centre_offset):
    """Probes whose lethal-zone centres sit at ``centres``; entries on the window."""
    probes, problems = [], []
    skin = skin_lookup(volume)
    for k, centre in enumerate(centres):
        # The zone's centre lies centre_offset towards the entry from the tip.
        tip = centre + centre_offset * axis
        entry = _entry(tip, axis, region, case.access.max_depth_mm, skin)
        if entry is None:
            entry = tip - case.access.max_depth_mm * axis
            problems.append(f"probe {k + 1}: no entry inside the window within the depth limit")
        probes.append(
            {
                "name": f"B{k + 1}",
                "model": model,
                "tip_mm": np.round(tip, 1).tolist(),
                "entry_mm": np.round(entry, 1).tolist(),
                "freeze_min": list(freeze),
            }
        )
    return probes, problems


def _finish(method, case, volume, probes, problems, window, detail) -> BaselinePlan:
    from optiprobe.validation import needle_path_problems

    plan = Plan(name=method, description=f"{method} baseline", probes=probes)
    problems = list(problems) + [m for _, m in needle_path_problems(plan, case, volume)]
    return BaselinePlan(method, plan, window, tuple(problems), detail)


def _choose(case, volume, build) -> BaselinePlan:
    """Build the layout from every window; keep the one with the fewest path problems."""
    windows = access_of(case, volume).windows  # (name, region, unit axis, max angle)
    options = [build(name, region, axis) for name, region, axis, _ in windows]
    return min(options, key=lambda o: (len(o.path_problems), len(o.plan.probes)))


def rule_of_thumb(case, volume, surrogate) -> BaselinePlan:
    """The clinical rule of thumb (see the module docstring)."""
    freeze = case.protocol.freeze_durations_min
    coverage = objective(case, TumorCoverageSpec)
    model, (_, _, centre_offset) = _best_model(
        case, surrogate, case.tumor.tissue_name, freeze, coverage.limit_isotherm_c
    )
    points = _tumour_points(case, volume)
    spacing = float(min(volume.grid.spacing_mm))

    def build(window_name, region, axis):
        e1, e2 = _frame(axis)
        uv = np.stack([points @ e1, points @ e2], axis=1)
        depth = points @ axis
        # The tumour's projection across the needles, on a raster of the grid spacing.
        low = uv.min(axis=0) - 2 * spacing
        cells = np.floor((uv - low) / spacing).astype(int)
        mask = np.zeros(cells.max(axis=0) + 3, bool)
        mask[tuple(cells.T)] = True
        inside = ndimage.distance_transform_edt(mask) * spacing
        # Every point of the tumour's outline across the needles within about 1 cm of a probe,
        # probes 1-2 cm apart: greedy cover of the projection's cells by EDGE_MM discs centred
        # inside the tumour, each new probe at least MIN_APART_MM from the others.
        cells = np.argwhere(mask)
        centres_2d = low + (cells + 0.5) * spacing
        distance = np.linalg.norm(centres_2d[:, None, :] - centres_2d[None, :, :], axis=-1)
        reach = distance <= EDGE_MM
        uncovered = np.ones(len(cells), bool)
        allowed = inside[tuple(cells.T)] >= min(spacing, float(inside.max()))
        chosen_index = []
        while uncovered.any() and len(chosen_index) < case.probes.max_count:
            gain = np.where(allowed, (reach & uncovered[None, :]).sum(axis=1), -1)
            best = int(np.argmax(gain))
            if gain[best] <= 0:
                break
            chosen_index.append(best)
            uncovered &= ~reach[best]
            allowed &= distance[best] >= MIN_APART_MM
        chosen = [centres_2d[i] for i in chosen_index]
        edge = EDGE_MM
        centres = []
        for q in chosen:
            near = np.linalg.norm(uv - q, axis=1) <= max(spacing, 1.5)
            along = depth[near] if near.any() else depth
            middle = 0.5 * (along.min() + along.max())
            centres.append(q[0] * e1 + q[1] * e2 + middle * axis)
        probes, problems = _probes(
            case, volume, centres, axis, region, model, freeze, centre_offset
        )
        detail = {
            "model": model,
            "max_distance_to_outline_mm": edge,
            "min_apart_mm": MIN_APART_MM,
            "outline_uncovered_fraction": round(float(uncovered.mean()), 3),
        }
        return _finish("rule_of_thumb", case, volume, probes, problems, window_name, detail)

    return _choose(case, volume, build)


def bubble_packing(case, volume, surrogate, *, seed: int = 0) -> BaselinePlan:
    """Bubble packing of ellipsoidal lethal zones (see the module docstring)."""
    freeze = case.protocol.freeze_durations_min
    coverage = objective(case, TumorCoverageSpec)
    model, (radial, axial, centre_offset) = _best_model(
        case, surrogate, case.tumor.tissue_name, freeze, coverage.limit_isotherm_c
    )
    points = _tumour_points(case, volume)

    def build(window_name, region, axis):
        # Scale the needle axis so each bubble is a sphere of radius ``radial``.
        scale = radial / max(axial, 1e-6)
        along = points @ axis
        scaled = points + np.outer(along * (scale - 1.0), axis)
        best = None
        for count in range(1, case.probes.max_count + 1):
            rng = np.random.default_rng(seed)
            centres, _ = kmeans2(scaled, count, minit="++", seed=rng, iter=30)
            distance = np.linalg.norm(scaled[:, None, :] - centres[None, :, :], axis=-1)
            covered = float(np.mean(distance.min(axis=1) <= radial))
            best = (count, centres, covered)
            if covered >= coverage.min_fraction:
                break
        count, centres, covered = best
        along_c = centres @ axis
        centres = centres - np.outer(along_c * (1.0 - 1.0 / scale), axis)
        probes, problems = _probes(
            case, volume, centres, axis, region, model, freeze, centre_offset
        )
        detail = {
            "model": model,
            "bubble_semi_axes_mm": [round(float(radial), 1), round(float(axial), 1)],
            "packed_coverage": round(covered, 3),
        }
        return _finish("bubble_packing", case, volume, probes, problems, window_name, detail)

    return _choose(case, volume, build)
