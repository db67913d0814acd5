"""Evaluate a simulation against the case's criteria (limit / goal, as radiotherapy plans are).

Each criterion gives one :class:`Row`: its value, the limit that must hold and the goal worth
reaching. Values are exact voxel statistics of the solver's fields (the smooth versions the
optimiser needs belong to the planner).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
from scipy import ndimage

from optiprobe.anatomy.volume import Volume
from optiprobe.case.models import Case
from optiprobe.case.treatment import IceMarginSpec, TumorCoverageSpec

__all__ = ["Evaluation", "Row", "evaluate", "ice_margins_mm"]


@dataclass(frozen=True)
class Row:
    """One criterion: ``value`` against ``limit`` (must hold) and ``goal`` (worth reaching).

    ``sense`` is ``">="`` when larger values are better (margin, coverage, temperature).
    """

    criterion: str
    value: float
    limit: float
    goal: float | None
    unit: str
    sense: str = ">="
    detail: dict = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        """Whether the limit holds."""
        return bool(self.value >= self.limit)

    @property
    def goal_met(self) -> bool | None:
        """Whether the goal is reached (None when there is no goal)."""
        return None if self.goal is None else bool(self.value >= self.goal)


@dataclass(frozen=True)
class Evaluation:
    """All criteria of a case for one simulated plan, plus descriptive statistics.

    ``computed_by_solver`` says the numbers come from a finished full simulation;
    ``probe_models_calibrated`` is True only when every probe model of the plan was fitted to gel
    data, and a plan is only *verified* when both hold and every limit passes.
    """

    case: str
    plan: str
    rows: tuple[Row, ...]
    statistics: dict
    computed_by_solver: bool
    probe_models_calibrated: bool

    @property
    def passed(self) -> bool:
        """True when every limit holds."""
        return all(row.passed for row in self.rows)

    @property
    def verified(self) -> bool:
        """Limits hold in a finished full simulation with calibrated probe models."""
        return self.passed and self.computed_by_solver and self.probe_models_calibrated

    def to_dict(self) -> dict:
        """Plain data for ``metrics.json``."""
        rows = [asdict(r) | {"passed": r.passed, "goal_met": r.goal_met} for r in self.rows]
        return {
            "case": self.case,
            "plan": self.plan,
            "computed_by_full_solver": self.computed_by_solver,
            "probe_models_calibrated": self.probe_models_calibrated,
            "all_limits_pass": self.passed,
            "verified": self.verified,
            "criteria": rows,
            "statistics": self.statistics,
        }


def plan_models_calibrated(case: Case, plan) -> bool:
    """True when every probe of ``plan`` uses a catalogue model fitted to gel data.

    A user-defined model (even one reusing a catalogue name) and the 17 G models are not.
    """
    return bool(plan.probes) and all(model_calibrated(case, p.model) for p in plan.probes)


def model_calibrated(case: Case, name: str) -> bool:
    """True when the probe model ``name`` is a catalogue model fitted to gel data and the
    case does not define its own model of that name."""
    from optiprobe.probes import CATALOGUE

    custom = {m.name for m in case.probes.models if not isinstance(m, str)}
    return name not in custom and name in CATALOGUE and CATALOGUE[name].calibrated


def ice_margins_mm(t_min_c: np.ndarray, tumor: np.ndarray, spacing_mm, isotherm_c: float):
    """Signed distance (mm) the isotherm reaches beyond each tumour-surface voxel.

    Positive: the voxel is colder than the isotherm and the nearest warmer voxel lies that far
    away; negative: the voxel is warmer and the nearest colder voxel lies that far away.
    """
    cold = t_min_c <= isotherm_c
    surface = tumor & ~ndimage.binary_erosion(tumor)
    inside = ndimage.distance_transform_edt(cold, sampling=spacing_mm)
    outside = ndimage.distance_transform_edt(~cold, sampling=spacing_mm)
    return np.where(cold, inside, -outside)[surface]


def _margin_row(spec: IceMarginSpec, t_min, volume: Volume) -> Row:
    margins = ice_margins_mm(t_min, volume.tumor_mask, volume.grid.spacing_mm, spec.isotherm_c)
    detail = {
        "median_mm": round(float(np.median(margins)), 2),
        "p05_mm": round(float(np.percentile(margins, 5)), 2),
        "surface_voxels": int(margins.size),
    }
    return Row(
        f"ice margin ({spec.isotherm_c:g} °C) beyond tumour, minimum",
        round(float(margins.min()), 2),
        spec.limit_mm,
        spec.goal_mm,
        "mm",
        detail=detail,
    )


def _coverage_rows(spec: TumorCoverageSpec, t_min, volume: Volume) -> list[Row]:
    tumor = t_min[volume.tumor_mask]
    rows = []
    for label, isotherm in (("limit", spec.limit_isotherm_c), ("goal", spec.goal_isotherm_c)):
        fraction = float(np.mean(tumor <= isotherm))
        goal = spec.min_fraction if label == "goal" else None
        limit = spec.min_fraction if label == "limit" else 0.0
        rows.append(
            Row(
                f"tumour fraction colder than {isotherm:g} °C",
                round(fraction, 4),
                limit,
                goal,
                "fraction",
            )
        )
    return rows


def _structure_rows(case: Case, volume: Volume, result) -> list[Row]:
    rows = []
    for spec in case.protected:
        mask = volume.masks[spec.structure]
        coldest = float(result.t_min_c[mask].min())
        history = result.structure_min_c[spec.structure]
        below = np.nonzero(history < spec.min_temperature_c)[0]
        first = None if below.size == 0 else round(float(result.sensor_times_s[below[0]]), 1)
        rows.append(
            Row(
                f"{spec.structure} minimum temperature",
                round(coldest, 2),
                spec.min_temperature_c,
                spec.goal_temperature_c,
                "°C",
                detail={"first_below_limit_s": first},
            )
        )
    return rows


def evaluate(
    case: Case, volume: Volume, result, *, plan_name: str, models_calibrated: bool = False
) -> Evaluation:
    """Every criterion of ``case`` for a :class:`~optiprobe.thermal.simulate.ThermalResult`.

    ``models_calibrated`` (see :func:`plan_models_calibrated`) says whether every probe model of
    the plan was fitted to gel data; the result can only count as verified when it is.
    """
    t_min = result.t_min_c
    rows: list[Row] = []
    for spec in case.objectives:
        if isinstance(spec, IceMarginSpec):
            rows.append(_margin_row(spec, t_min, volume))
        else:
            rows.extend(_coverage_rows(spec, t_min, volume))
    rows.extend(_structure_rows(case, volume, result))
    ml = volume.grid.voxel_volume_mm3 / 1000.0
    statistics = {
        f"volume_below_{iso}c_ml": round(float((t_min <= iso).sum()) * ml, 3)
        for iso in (0, -20, -40)
    } | {"tumor_ml": round(volume.volume_ml(case.tumor.name), 3)}
    return Evaluation(
        case.name,
        plan_name,
        tuple(rows),
        statistics,
        computed_by_solver=result.status.name == "OK",
        probe_models_calibrated=models_calibrated,
    )
