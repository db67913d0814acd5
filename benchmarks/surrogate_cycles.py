"""Freeze-thaw-freeze protocols with unequal cycles: the surrogate's t_eq against the solver.

One 1.7 mm probe in a uniform block of muscle and of cancellous bone, simulated by the solver
(1 mm, 8 min thaw) for a single 15 min freeze and for the two-cycle protocols 15-3, 12-6, 10-10
and 3-15 min. For each, the radius of the 0 °C and −40 °C isotherms at the middle of the active
zone is read from the solver's T_min profile and from the surrogate, whose equivalent freeze
time is t_eq = max_k(d_k + β·(d_1 + … + d_{k−1})); the former rule, t_eq = last + β·earlier,
is shown beside it (evaluated as a single freeze of that length).

    uv run python benchmarks/surrogate_cycles.py     # ~2 min on 2 cores

Writes ``results/surrogate/cycles.json``.
"""

from __future__ import annotations

import numpy as np
from _results import ROOT, machine, write_json

from optiprobe.probes import CATALOGUE
from optiprobe.surrogate.model import ProbeSet, load_surrogate, make_query
from optiprobe.surrogate.training import (
    AXIS_XY_MM,
    MEDIA,
    RHO_MM,
    ZETA_MM,
    single_probe_profile,
)

MODEL = "cryo-1.7mm"
PROTOCOLS = ((15.0,), (15.0, 3.0), (12.0, 6.0), (10.0, 10.0), (3.0, 15.0))
LEVELS_C = (0.0, -40.0)
THAW_MIN = 8.0


def _radius(rho, t, level):
    """First radius where the profile ``t`` (increasing outwards) warms past ``level``."""
    i = int(np.argmax(t > level))
    return float(rho[i - 1] + (level - t[i - 1]) / (t[i] - t[i - 1]) * (rho[i] - rho[i - 1]))


def _surrogate_profile(surrogate, medium, freeze, zeta):
    rho = np.arange(0.0, 30.01, 0.1)
    x, y = AXIS_XY_MM
    points = np.stack([x + rho, np.full_like(rho, y), np.full_like(rho, zeta)], axis=1)
    probes = ProbeSet(
        tips_mm=np.array([[x, y, 0.0]], np.float32),
        entries_mm=np.array([[x, y, 80.0]], np.float32),
        freeze_min=np.array([freeze], np.float32),
        model=np.array([surrogate.model_index(MODEL)], np.int32),
        present=np.ones(1, np.float32),
    )
    query = make_query(points, [MEDIA[medium]] * len(points), surrogate)
    return rho, np.asarray(surrogate.temperature(probes, query))


def main() -> None:
    surrogate = load_surrogate()
    spec = CATALOGUE[MODEL]
    zeta = spec.tip_offset_mm + 0.5 * spec.active_length_mm
    j = int(np.argmin(np.abs(ZETA_MM - zeta)))
    rows = []
    for medium in ("soft", "bone"):
        beta = float(surrogate.beta[surrogate.model_index(MODEL), surrogate.medium_index(medium)])
        for freeze in PROTOCOLS:
            solver = single_probe_profile(MODEL, medium, freeze, THAW_MIN).t_min_c[:, j]
            former = (freeze[-1] + beta * sum(freeze[:-1]),)
            row = {"medium": medium, "freeze_min": list(freeze), "beta": round(beta, 3)}
            for name, profile in (
                ("solver", (RHO_MM, solver)),
                ("surrogate", _surrogate_profile(surrogate, medium, freeze, ZETA_MM[j])),
                ("former_rule", _surrogate_profile(surrogate, medium, former, ZETA_MM[j])),
            ):
                row[name] = {f"{lv:g}": round(_radius(*profile, lv), 2) for lv in LEVELS_C}
            rows.append(row)
            print(row, flush=True)
    errors = {
        rule: {
            f"{lv:g}": round(
                max(abs(r[rule][f"{lv:g}"] - r["solver"][f"{lv:g}"]) for r in rows), 2
            )
            for lv in LEVELS_C
        }
        for rule in ("surrogate", "former_rule")
    }
    data = {
        "model": MODEL,
        "zeta_mm": float(ZETA_MM[j]),
        "thaw_min": THAW_MIN,
        "rows": rows,
        "max_abs_radius_error_mm": errors,
        "machine": machine(),
    }
    write_json(ROOT / "results" / "surrogate" / "cycles.json", data)
    print("max |radius error| (mm):", errors)


if __name__ == "__main__":
    main()
