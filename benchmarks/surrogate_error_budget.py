"""Where the surrogate's isotherm error lives: signed offsets by tissue and by probe count.

On the development plans only (``--set dev`` of ``surrogate_accuracy.py``, whose solver fields
must be cached in ``results/surrogate/dev_fields/``; the held-out set is not used here), the
0 °C and −40 °C isotherms of the default surrogate (each point's own medium) are compared with
the solver's as in the accuracy benchmark, but signed: positive where the surrogate's ice is
too small. Offsets are grouped by the tissue of the voxel at each crossing, per scenario, and by
the plan's probe count.

    uv run python benchmarks/surrogate_accuracy.py --set dev     # once, caches the fields
    uv run python benchmarks/surrogate_error_budget.py           # ~1 min

Writes ``results/surrogate/dev_error_budget.json``.
"""

from __future__ import annotations

from collections import defaultdict

import jax
import numpy as np
from _results import ROOT, write_json
from surrogate_accuracy import SCENARIOS

from optiprobe.case import Plan
from optiprobe.surrogate.accuracy import isotherm_offsets, needle_voxels
from optiprobe.surrogate.model import load_surrogate, probe_set, volume_query
from optiprobe.validation import load_and_voxelize

LEVELS_C = (0.0, -40.0)
MIN_CROSSINGS = 300  # scenario/tissue groups with fewer crossings are left out


def _summary(offsets: list[np.ndarray]) -> dict:
    x = np.concatenate(offsets)
    return {
        "crossings": len(x),
        "signed_mean_mm": round(float(x.mean()), 2),
        "abs_mean_mm": round(float(np.abs(x).mean()), 2),
    }


def main() -> None:
    surrogate = load_surrogate()
    fields = ROOT / "results" / "surrogate" / "dev_fields"
    by_tissue, by_count = defaultdict(list), defaultdict(list)
    for name in SCENARIOS:
        case, volume = load_and_voxelize(ROOT / "scenarios" / f"{name}.yaml")
        query, predict = volume_query(volume, surrogate), jax.jit(surrogate.temperature)
        tissue = np.asarray(volume.tissue_index)
        paths = sorted(fields.glob(f"{name}__*.npz"))
        if not paths:
            raise SystemExit(f"no cached dev fields for {name} in {fields}: run the dev set first")
        for path in paths:
            cached = np.load(path)
            solver = cached["t_min_c"].astype(np.float32)
            plan = Plan.model_validate_json(str(cached["plan"]))
            probes = probe_set(plan, case, surrogate, pad_to=6)
            field = np.asarray(predict(probes, query)).reshape(volume.grid.shape)
            tips = np.array([p.tip_mm for p in plan.probes])
            entries = np.array([p.entry_mm for p in plan.probes])
            exclude = needle_voxels(volume.grid, tips, entries)
            for level in LEVELS_C:
                offsets, voxels = isotherm_offsets(
                    solver, field, level, volume.grid.spacing_mm, exclude
                )
                names = np.asarray(volume.tissue_names)[tissue[tuple(voxels.T)]]
                for t in np.unique(names):
                    by_tissue[(name, str(t), level)].append(offsets[names == t])
                by_count[(len(plan.probes), level)].append(offsets)
            print(path.stem, flush=True)
    tissues: dict = defaultdict(dict)
    for (name, t, level), parts in sorted(by_tissue.items()):
        if sum(len(p) for p in parts) >= MIN_CROSSINGS:
            tissues[f"{name} / {t}"][f"{level:g}"] = _summary(parts)
    counts: dict = defaultdict(dict)
    for (n, level), parts in sorted(by_count.items()):
        counts[str(n)][f"{level:g}"] = _summary(parts)
    data = {
        "set": "dev",
        "surrogate": "default (each point's own medium)",
        "sign": "positive: the surrogate's isotherm lies inside the solver's (its ice too small)",
        "by_scenario_tissue": tissues,
        "by_probe_count": counts,
    }
    write_json(ROOT / "results" / "surrogate" / "dev_error_budget.json", data)


if __name__ == "__main__":
    main()
