"""`optiprobe compare`: the better-value marking, two plans on a tiny gel case, reuse of runs
whose inputs are unchanged, variants, and bad input (exit 2)."""

from __future__ import annotations

import csv
import json
import textwrap
from pathlib import Path

import pytest
from conftest import MINIMAL_CASE
from typer.testing import CliRunner

from optiprobe.case import load_case
from optiprobe.cli import app
from optiprobe.compare import best_indices, criteria_table
from optiprobe.errors import OptiprobeError

runner = CliRunner()

# 2 mm voxels, one 2-minute freeze and a 1-minute passive thaw: a simulation takes ~2 s.
TINY = MINIMAL_CASE.replace(
    """    - {kind: freeze, duration_min: 10}
    - {kind: thaw, duration_min: 8, thaw: passive}
    - {kind: freeze, duration_min: 10}""",
    """    - {kind: freeze, duration_min: 2}
    - {kind: thaw, duration_min: 1, thaw: passive}""",
)
CENTRED = (
    "name: centred\nprobes:\n  - {model: cryo-2.4mm, tip_mm: [0, 0, -22], entry_mm: [0, 0, 38]}\n"
)
OFFSET = (
    "name: offset\nprobes:\n  - {model: cryo-2.4mm, tip_mm: [5, 0, -22], entry_mm: [5, 0, 38]}\n"
)


def _invoke(*args):
    result = runner.invoke(app, [str(a) for a in args])
    assert "Traceback" not in result.output
    return result


def _row(criterion, value, sense=">=", passed=True):
    return {
        "criterion": criterion,
        "value": value,
        "limit": 0.0,
        "goal": None,
        "unit": "mm",
        "sense": sense,
        "passed": passed,
    }


def test_best_indices_follow_the_sense():
    assert best_indices([1.0, 3.0, 2.0], ">=") == [1]
    assert best_indices([1.0, 3.0, 2.0], "<=") == [0]
    assert best_indices([3.0, 3.0, 2.0], ">=") == [0, 1]  # a tie marks both
    assert best_indices([2.0, 2.0], ">=") == []  # nothing better when all are equal
    assert best_indices([None, 4.0], ">=") == []  # one value: nothing to compare
    assert best_indices([None, 4.0, -1.0], "<=") == [2]
    with pytest.raises(ValueError, match="sense"):
        best_indices([1.0, 2.0], ">")


def test_criteria_table_marks_per_criterion_and_handles_missing_rows():
    a = {"criteria": [_row("margin", 2.0), _row("dose", 5.0, "<=", passed=False)]}
    b = {"criteria": [_row("margin", 4.0), _row("dose", 3.0, "<=")]}
    c = {"criteria": [_row("margin", 4.0)]}  # lacks "dose"
    table = {row["criterion"]: row for row in criteria_table([a, b, c, None])}
    assert table["margin"]["values"] == [2.0, 4.0, 4.0, None]
    assert table["margin"]["best"] == [1, 2]
    assert table["dose"]["values"] == [5.0, 3.0, None, None]
    assert table["dose"]["best"] == [1]  # smaller is better for "<="
    assert table["dose"]["passed"] == [False, True, None, None]


@pytest.fixture
def gel(tmp_path: Path):
    case = tmp_path / "case.yaml"
    case.write_text(TINY)
    (tmp_path / "centred.yaml").write_text(CENTRED)
    (tmp_path / "offset.yaml").write_text(OFFSET)
    return case, tmp_path / "centred.yaml", tmp_path / "offset.yaml"


def test_compare_two_plans_then_reuse_them(gel, tmp_path, monkeypatch):
    case, centred, offset = gel
    out = tmp_path / "cmp"
    first = _invoke("compare", case, centred, offset, "-o", out)
    assert first.exit_code == 1, first.output  # 2 minutes of one probe cover no 8 mm tumour
    for name in ("comparison.csv", "comparison.json", "isotherms.png", "histograms.png"):
        assert (out / name).is_file()
    for plan in ("centred", "offset"):
        assert (out / plan / "t_min.nii.gz").is_file() and (out / plan / "run.json").is_file()
    rows = list(csv.DictReader((out / "comparison.csv").open()))
    margin = next(r for r in rows if r["criterion"].startswith("ice margin"))
    metrics = {
        p: json.loads((out / p / "metrics.json").read_text()) for p in ("centred", "offset")
    }
    values = {p: metrics[p]["criteria"][0]["value"] for p in metrics}
    assert float(margin["centred"]) == values["centred"]
    # The probe on the tumour's axis reaches further beyond its surface than the offset one.
    assert values["centred"] > values["offset"]
    assert margin["best"] == "centred"
    assert "*" in first.output

    import optiprobe.thermal.simulate as thermal

    calls = []
    real = thermal.simulate
    monkeypatch.setattr(thermal, "simulate", lambda *a, **k: calls.append(1) or real(*a, **k))
    mtimes = {p: (out / p / "metrics.json").stat().st_mtime_ns for p in ("centred", "offset")}
    second = _invoke("compare", case, centred, offset, "-o", out)
    assert second.exit_code == 1
    assert calls == []  # unchanged inputs: both runs reused
    assert "reused" in second.output
    assert {p: (out / p / "metrics.json").stat().st_mtime_ns for p in mtimes} == mtimes

    offset.write_text(
        OFFSET.replace("[5, 0, -22], entry_mm: [5, 0, 38]", "[3, 0, -22], entry_mm: [3, 0, 38]")
    )
    third = _invoke("compare", case, centred, offset, "-o", out)
    assert third.exit_code == 1
    assert len(calls) == 1  # only the changed plan is simulated again
    assert (out / "offset" / "metrics.json").stat().st_mtime_ns != mtimes["offset"]
    assert (out / "centred" / "metrics.json").stat().st_mtime_ns == mtimes["centred"]


def _count_simulations(monkeypatch) -> list:
    import optiprobe.thermal.simulate as thermal

    calls = []
    real = thermal.simulate
    monkeypatch.setattr(thermal, "simulate", lambda *a, **k: calls.append(1) or real(*a, **k))
    return calls


def test_compare_reuses_simulate_folders_unless_plan_or_physics_changed(
    gel, tmp_path, monkeypatch
):
    """Plan files of `simulate` run folders: their outputs are copied, not simulated again; a
    plan edited by hand in its folder, or changed solver physics, is simulated."""
    case, centred, offset = gel
    for plan, folder in ((centred, "run_a"), (offset, "run_b")):
        assert _invoke("simulate", case, plan, "-o", tmp_path / folder).exit_code == 1
    a, b, out = tmp_path / "run_a", tmp_path / "run_b", tmp_path / "cmp"
    calls = _count_simulations(monkeypatch)

    first = _invoke("compare", case, a / "plan.yaml", b / "plan.yaml", "-o", out)
    assert first.exit_code == 1, first.output
    assert calls == []  # both plans were simulated by `simulate`: nothing to simulate again
    assert "reused" in first.output and "simulated" not in first.output
    for run, name in ((a, "centred"), (b, "offset")):
        assert (out / name / "metrics.json").read_bytes() == (run / "metrics.json").read_bytes()
        assert (out / name / "t_min.nii.gz").is_file()
        record = json.loads((out / name / "run.json").read_text())
        assert record["copied_from"] == f"../../{run.name}"
    assert (out / "isotherms.png").is_file()

    edited = (b / "plan.yaml").read_text().replace("- 5.0", "- 3.0")
    assert edited != (b / "plan.yaml").read_text()
    (b / "plan.yaml").write_text(edited)  # run_b/metrics.json no longer matches its plan
    second = _invoke("compare", case, a / "plan.yaml", b / "plan.yaml", "-o", out)
    assert second.exit_code == 1
    assert len(calls) == 1  # only the edited plan
    assert (out / "offset" / "metrics.json").read_bytes() != (b / "metrics.json").read_bytes()
    assert "copied_from" not in json.loads((out / "offset" / "run.json").read_text())

    import optiprobe.surrogate.fingerprint as fingerprint

    real = fingerprint.fingerprint
    monkeypatch.setattr(fingerprint, "fingerprint", lambda: real() | {"total": "other physics"})
    third = _invoke("compare", case, a / "plan.yaml", b / "plan.yaml", "-o", out)
    assert third.exit_code == 1
    assert len(calls) == 3  # new solver physics: no earlier run counts, both simulated


def test_compare_reuses_a_planned_folder(gel, tmp_path, monkeypatch):
    """The plan.yaml of an `optiprobe plan` folder (planner replaced by a fixed plan, as in the
    variants test) is compared without simulating it again."""
    import optiprobe.planner.pipeline as pipeline
    from optiprobe.case import Plan
    from optiprobe.metrics import evaluate
    from optiprobe.thermal.simulate import simulate

    def fake_plan_case(case, volume, progress=None):
        plan = Plan(
            name="planned",
            probes=[{"model": "cryo-2.4mm", "tip_mm": [2, 0, -22], "entry_mm": [2, 0, 38]}],
        )
        result = simulate(case, volume, plan)
        evaluation = evaluate(case, volume, result, plan_name=plan.name)
        return pipeline.PlanOutcome(plan, result, evaluation, candidates=1, rejected={})

    monkeypatch.setattr(pipeline, "plan_case", fake_plan_case)
    case, centred, _ = gel
    assert _invoke("plan", case, "-o", tmp_path / "planned").exit_code == 1
    calls = _count_simulations(monkeypatch)
    result = _invoke(
        "compare", case, tmp_path / "planned" / "plan.yaml", centred, "-o", tmp_path / "c"
    )
    assert result.exit_code == 1, result.output
    assert len(calls) == 1  # only centred.yaml, which no run folder holds
    data = json.loads((tmp_path / "c" / "comparison.json").read_text())
    assert [(r["name"], r["reused"]) for r in data["runs"]] == [
        ("planned", True),
        ("centred", False),
    ]


def test_compare_bad_input_exits_2(gel, tmp_path):
    case, centred, _ = gel
    missing = _invoke("compare", case, centred, tmp_path / "nope.yaml", "-o", tmp_path / "o")
    assert missing.exit_code == 2
    assert "nope.yaml" in missing.output and "file not found" in missing.output
    outside = tmp_path / "outside.yaml"
    outside.write_text(
        CENTRED.replace("[0, 0, -22], entry_mm: [0, 0, 38]", "[0, 0, -80], entry_mm: [0, 0, -20]")
    )
    result = _invoke("compare", case, centred, outside, "-o", tmp_path / "o")
    assert result.exit_code == 2
    assert "outside.yaml" in result.output and "outside the case grid" in result.output
    alone = _invoke("compare", case, centred, "-o", tmp_path / "o")
    assert alone.exit_code == 2 and "at least two plans" in alone.output
    no_variants = _invoke("compare", case, "-o", tmp_path / "o")
    assert no_variants.exit_code == 2 and "variants" in no_variants.output
    assert not (tmp_path / "o").exists()  # nothing simulated before the inputs were checked


VARIANTS = textwrap.dedent(
    """\
    variants:
      - {name: large, probe_models: [cryo-2.4mm]}
      - name: small
        probe_models: [cryo-1.7mm]
        protocol:
          phases: [{kind: freeze, duration_min: 1}]
    """
)


def test_variants_replace_sections_and_are_checked_at_load(tmp_path):
    from optiprobe.case.variants import apply_variant

    path = tmp_path / "case.yaml"
    path.write_text(TINY + VARIANTS)
    case = load_case(path)
    small = apply_variant(case, case.variants[1])
    assert small.probes.model_names == ["cryo-1.7mm"]
    assert small.protocol.freeze_durations_min == [1.0]
    assert small.probes.max_count == case.probes.max_count  # the rest of probes is kept
    assert small.variants == [] and small.name == "gel_single_probe.small"
    path.write_text(TINY + VARIANTS.replace("cryo-1.7mm", "cryo-9mm"))
    with pytest.raises(OptiprobeError, match=r"variant 'small'.*unknown probe model 'cryo-9mm'"):
        load_case(path)


def test_compare_variants_plans_each_and_reuses(tmp_path, monkeypatch):
    """The planner is replaced by a fixed one-probe plan of the variant's first model (planning
    itself is tested in the planner's tests); each variant is simulated with its own probe
    model and protocol, and a second compare reuses both."""
    import optiprobe.planner.pipeline as pipeline
    from optiprobe.case import Plan
    from optiprobe.metrics import evaluate
    from optiprobe.thermal.simulate import simulate

    planned = []

    def fake_plan_case(case, volume, progress=None):
        model = case.probes.model_names[0]
        planned.append(model)
        plan = Plan(probes=[{"model": model, "tip_mm": [0, 0, -22], "entry_mm": [0, 0, 38]}])
        result = simulate(case, volume, plan)
        evaluation = evaluate(case, volume, result, plan_name=plan.name)
        return pipeline.PlanOutcome(plan, result, evaluation, candidates=1, rejected={})

    monkeypatch.setattr(pipeline, "plan_case", fake_plan_case)
    path = tmp_path / "case.yaml"
    path.write_text(TINY + VARIANTS)
    out = tmp_path / "cmp"
    result = _invoke("compare", path, "-o", out)
    assert result.exit_code == 1, result.output
    assert planned == ["cryo-2.4mm", "cryo-1.7mm"]
    data = json.loads((out / "comparison.json").read_text())
    assert [r["name"] for r in data["runs"]] == ["large", "small"]
    small = json.loads((out / "small" / "metrics.json").read_text())
    large = json.loads((out / "large" / "metrics.json").read_text())
    # The thinner probe frozen half as long makes less cold: less tumour below -20 °C.
    assert small["criteria"][1]["value"] < large["criteria"][1]["value"]
    record = json.loads((out / "small" / "run.json").read_text())
    assert record["variant"] == "small" and record["case"] == "case.yaml"
    # The variant's folder stands alone: its case file is the variant, as planned.
    from optiprobe.case.variants import apply_variant

    base = load_case(path)
    assert load_case(out / "small" / "case.yaml") == apply_variant(base, base.variants[1])
    again = _invoke("compare", path, "-o", out)
    assert again.exit_code == 1 and planned == ["cryo-2.4mm", "cryo-1.7mm"]  # reused
