"""The CLI through typer's CliRunner: exit codes and messages, never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import MINIMAL_CASE
from typer.testing import CliRunner

from optiprobe.cli import app

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
L4 = SCENARIOS / "l4_osteoblastic_posterior_wall.yaml"
runner = CliRunner()


def _run(*args: str):
    result = runner.invoke(app, list(args))
    assert "Traceback" not in result.output
    return result


def test_validate_ok(write_case):
    result = _run("validate", str(write_case()))
    assert result.exit_code == 0
    assert "ok" in result.output and "tumour" in result.output


def test_validate_reports_every_bad_file_and_exits_2(write_case):
    good = write_case()
    bad = write_case(MINIMAL_CASE.replace("radius_mm: 8", "radius_mm: -1"), name="bad.yaml")
    result = _run("validate", str(good), str(bad))
    assert result.exit_code == 2
    assert f"ok {good}" in result.output
    assert "bad.yaml: tumor.shape.radius_mm (line 11" in result.output
    assert "allowed: a value > 0" in result.output


def test_validate_missing_file(tmp_path):
    result = _run("validate", str(tmp_path / "missing.yaml"))
    assert result.exit_code == 2
    assert "file not found" in result.output


def test_validate_plan_file_is_checked_against_its_case(tmp_path):
    plan = (SCENARIOS / "l4_reference_plan.yaml").read_text()
    plan = plan.replace("case: l4_osteoblastic_posterior_wall.yaml", f"case: {L4}")
    outside = plan.replace("tip_mm: [9, 3, 4]", "tip_mm: [9, 3, 400]", 1)
    (tmp_path / "plan.yaml").write_text(plan)
    (tmp_path / "outside.yaml").write_text(outside)
    assert _run("validate", str(tmp_path / "plan.yaml")).exit_code == 0
    result = _run("validate", str(tmp_path / "outside.yaml"))
    assert result.exit_code == 2
    assert "probes[0].tip_mm" in result.output and "outside the case grid" in result.output


def test_show_writes_png(write_case, tmp_path):
    out = tmp_path / "figs" / "case.png"
    result = _run("show", str(write_case()), "-o", str(out))
    assert result.exit_code == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_show_rejects_non_png(write_case, tmp_path):
    result = _run("show", str(write_case()), "-o", str(tmp_path / "case.jpg"))
    assert result.exit_code == 2
    assert ".png" in result.output


@pytest.mark.parametrize("flag", [[], ["--plan"]])
def test_schema_is_json(flag):
    result = _run("schema", *flag)
    assert result.exit_code == 0
    schema = json.loads(result.output)
    assert "properties" in schema and "probes" in schema["properties"]


def test_plan_writes_a_solver_checked_plan_that_validates(write_case, tmp_path):
    """End to end on a small case: the plan file round-trips and the verdict is the solver's."""
    import json

    case = write_case(MINIMAL_CASE)
    out = tmp_path / "out"
    result = _run("plan", str(case), "-o", str(out))
    assert result.exit_code in (0, 1), result.output
    for name in ("plan.yaml", "metrics.json", "planner.json", "t_min.nii.gz"):
        assert (out / name).exists(), name
    assert _run("validate", str(out / "plan.yaml")).exit_code == 0
    metrics = json.loads((out / "metrics.json").read_text())
    planner = json.loads(  # strict JSON: no NaN
        (out / "planner.json").read_text(), parse_constant=lambda c: pytest.fail(f"{c} in JSON")
    )
    assert metrics["computed_by_full_solver"] is True
    assert planner["verified"] == metrics["verified"]
    assert (result.exit_code == 0) == metrics["all_limits_pass"]
    assert planner["rounds"] and planner["candidates"] > 0
    # A plan that fails in the solver comes with the explicit report, one that holds without.
    report = planner["infeasibility_report"]
    assert (report is None) == metrics["all_limits_pass"]
    if report is not None:
        assert report["summary"] and "infeasibility report" in result.output
    # The verdict says when a probe model could not have been verified anyway (17 G).
    uncalibrated = "not gel-calibrated" in " ".join(result.output.split())
    assert uncalibrated == (not metrics["probe_models_calibrated"] and not metrics["verified"])


def test_plan_with_bad_case_exits_2(tmp_path):
    result = _run("plan", str(tmp_path / "nope.yaml"))
    assert result.exit_code == 2


def test_help_and_validate_do_not_import_jax():
    code = (
        "import sys; from typer.testing import CliRunner; from optiprobe.cli import app; "
        f"r = CliRunner().invoke(app, ['validate', {str(L4)!r}]); "
        "assert r.exit_code == 0, r.output; "
        "assert 'jax' not in sys.modules and 'matplotlib' not in sys.modules, 'heavy import'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_help_lists_commands():
    start = time.perf_counter()
    result = _run("--help")
    assert result.exit_code == 0
    for command in ("validate", "show", "schema", "plan"):
        assert command in result.output
    assert "Not a medical device" in " ".join(result.output.split())
    assert time.perf_counter() - start < 30  # loose: a hang guard, not a timing target


@pytest.mark.parametrize(
    "command", ["", "validate", "show", "schema", "simulate", "plan", "compare", "sweep", "report"]
)
def test_help_writes_flags_without_a_value_type(command):
    """typer's rich help printed `<bool>` after every flag, as if it took a value."""
    result = _run(*([command] if command else []), "--help")
    assert result.exit_code == 0
    assert "<bool>" not in result.output
    assert "--help  " in result.output  # a plain flag: name, then its help
    assert "[[" not in result.output  # no doubled brackets around argument names


def test_help_writes_paired_flags_as_on_off():
    result = _run("compare", "--help")
    assert "--reuse / --no-reuse" in result.output
    assert "--allow-unsafe-paths  " in result.output
    assert "[PLAN]..." in result.output.splitlines()[0]
    assert "--voxelize / --no-voxelize" in _run("validate", "--help").output
    assert "--plan  " in _run("schema", "--help").output
    for line in ("compare   Simulate several plans", "and compare them."):
        assert line in _run("--help").output  # the whole summary, not cut with ...


def test_workflow_api_names_resolve():
    import optiprobe

    case = optiprobe.load_case(L4)
    assert optiprobe.voxelize(case).tumor_mask.any()
    assert optiprobe.simulate.__module__ == "optiprobe.thermal.simulate"  # built: now exported


def test_voxelisation_errors_name_the_file(write_case):
    path = write_case(MINIMAL_CASE.replace("radius_mm: 8", "radius_mm: 0.4"))
    result = _run("validate", str(path))
    assert result.exit_code == 2
    assert f"{path}: tumor: the tumour covers no voxel" in result.output


def test_plan_refuses_a_case_that_does_not_voxelise(write_case):
    path = write_case(MINIMAL_CASE.replace("radius_mm: 8", "radius_mm: 0.4"))
    result = _run("plan", str(path))
    assert result.exit_code == 2
    assert "is valid" not in result.output


def test_square_brackets_survive_printing(write_case, tmp_path):
    path = write_case(MINIMAL_CASE.replace("radius_mm: 8", "radius_mm: 0.4"), name="c[bold]x.yaml")
    result = _run("validate", str(path))
    assert "c[bold]x.yaml" in result.output


def test_show_refuses_a_plan_file():
    result = _run("show", str(SCENARIOS / "l4_reference_plan.yaml"))
    assert result.exit_code == 2
    assert "this is a plan file" in result.output


def test_version():
    result = _run("--version")
    assert result.exit_code == 0 and result.output.startswith("optiprobe ")


def test_internal_errors_are_reported_without_traceback(monkeypatch, capsys):
    import optiprobe.cli as cli

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("optiprobe.validation.validate_file", broken)
    monkeypatch.setattr(sys, "argv", ["optiprobe", "validate", str(L4)])
    monkeypatch.delenv("OPTIPROBE_DEBUG", raising=False)
    with pytest.raises(SystemExit) as info:
        cli.main()
    assert info.value.code == 4
    captured = capsys.readouterr()
    assert "internal error (a bug in optiprobe): RuntimeError: boom" in captured.err
    assert "Traceback" not in captured.err


def test_png_gets_ordinary_permissions(write_case, tmp_path):
    out = tmp_path / "case.png"
    assert _run("show", str(write_case()), "-o", str(out)).exit_code == 0
    assert out.stat().st_mode & 0o044  # readable by group/others under the usual umask


def _l4_plan_text(tmp_path, **replacements) -> Path:
    text = (SCENARIOS / "l4_reference_plan.yaml").read_text()
    text = text.replace("case: l4_osteoblastic_posterior_wall.yaml", f"case: {L4}")
    for old, new in replacements.items():
        text = text.replace(old, new)
    path = tmp_path / "plan.yaml"
    path.write_text(text)
    return path


def test_needle_through_the_dural_sac_is_refused(tmp_path):
    plan = _l4_plan_text(
        tmp_path,
        **{
            "tip_mm: [-3, 3, -3]": "tip_mm: [0, 22, -3]",
            "entry_mm: [-45.6, 78.9, 13.3]": "entry_mm: [0, 84, 0]",
        },
    )
    result = _run("validate", str(plan))
    assert result.exit_code == 2
    assert "probes[1]: P2_transpedicular_right passes through dural_sac" in result.output
    result = _run("simulate", str(L4), str(plan), "--out", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert "--allow-unsafe-paths" in result.output
    assert not (tmp_path / "out").exists()  # nothing simulated, nothing written


def test_clearance_is_measured_not_just_crossing():
    from optiprobe.case import load_plan
    from optiprobe.validation import load_and_voxelize, needle_path_problems

    case, volume = load_and_voxelize(L4)
    plan = load_plan(SCENARIOS / "l4_reference_plan.yaml")
    assert needle_path_problems(plan, case, volume) == []  # reference plan keeps >= 3 mm
    stricter = case.access.model_copy(
        update={
            "avoid": [
                a.model_copy(update={"clearance_mm": 6.0}) if a.structure == "dural_sac" else a
                for a in case.access.avoid
            ]
        }
    )
    problems = needle_path_problems(plan, case.model_copy(update={"access": stricter}), volume)
    # P2 and P4 pass 5.7 mm from the sac (docs/scenarios.md): inside a 6 mm clearance.
    assert [p[0] for p in problems] == ["probes[1]", "probes[3]"]
    assert all("mm from dural_sac" in p[1] for p in problems)


def test_a_plan_that_breaks_the_cases_probe_count_or_spacing_is_refused(tmp_path):
    # A hand-edited plan with two active zones 4.8 mm apart (the L4 case asks for 8) was
    # "ok" for validate and simulated as verified; the case's limits are now checked.
    from optiprobe.case import load_plan
    from optiprobe.validation import load_and_voxelize, probe_limit_problems

    plan = _l4_plan_text(tmp_path, **{"tip_mm: [10, 11, -4]": "tip_mm: [9, 5, 3]"})
    result = _run("validate", str(plan))
    assert result.exit_code == 2
    text = " ".join(result.output.split())
    assert "two active zones 4.8 mm apart (minimum 8)" in text
    assert "P1_transpedicular_left and P3_extrapedicular_left" in text
    assert "probes.min_spacing_mm" in text
    result = _run("simulate", str(L4), str(plan), "--out", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert not (tmp_path / "out").exists()
    case, _ = load_and_voxelize(L4)
    reference = load_plan(SCENARIOS / "l4_reference_plan.yaml")
    assert probe_limit_problems(reference, case) == []
    fewer = case.model_copy(update={"probes": case.probes.model_copy(update={"max_count": 3})})
    assert probe_limit_problems(reference, fewer) == [
        ("probes", "4 probes, more than the case's 3")
    ]
