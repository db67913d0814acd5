"""`optiprobe report DIR`: a self-contained HTML page with every section, built from data.

One small run is simulated per module (about 5 s); the report is written once through the CLI.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from _report_case import simulate_run
from typer.testing import CliRunner

from optiprobe.cli import app
from optiprobe.metrics.evaluate import ice_margins_mm
from optiprobe.metrics.histograms import margin_map, temperature_volume_histogram
from optiprobe.metrics.thermocouples import first_crossing_s

runner = CliRunner()
SECTIONS = (
    "status",
    "criteria",
    "slices",
    "margins",
    "histograms",
    "thermocouples",
    "probes",
    "view3d",
)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    return simulate_run(tmp_path_factory.mktemp("report"))


@pytest.fixture(scope="module")
def html(run_dir) -> str:
    result = runner.invoke(app, ["report", str(run_dir)])
    assert result.exit_code == 0, result.output
    assert "report.html" in result.output
    return (run_dir / "report.html").read_text(encoding="utf-8")


def _copy_run(run_dir: Path, tmp_path: Path) -> Path:
    """A copy of the run folder and its case, with the same relative layout."""
    shutil.copytree(run_dir.parent, tmp_path / "copy", ignore=shutil.ignore_patterns("*.html"))
    return tmp_path / "copy" / "run"


# --- the page -----------------------------------------------------------------------------


def test_report_has_every_section(html):
    for section in SECTIONS:
        assert f'<section id="{section}"' in html, section
    for heading in (
        "Criteria",
        "Orthogonal slices",
        "Margin map",
        "Temperature–volume histograms",
        "Thermocouples",
        "Probes",
        "3-D view",
    ):
        assert f"<h2>{heading}" in html, heading
    assert "not a medical device" in html.lower()


def test_report_is_self_contained(html):
    images = re.findall(r'<img [^>]*src="([^"]+)"', html)
    assert len(images) == 4  # slices, margin map, histograms, thermocouples
    assert all(src.startswith("data:image/png;base64,") for src in images)
    assert not re.search(r"<script[^>]+src=", html)  # plotly.js is inlined, not fetched
    assert not re.search(r"<link[^>]+href=", html)
    markup = re.sub(r"<script[^>]*>.*?</script>", "", html, flags=re.S)  # (plotly's own links)
    assert not re.search(r"""(src|href|url)[=(]["']?(https?:)?//""", markup)
    assert "Plotly.newPlot" in html and len(html) > 1_000_000  # plotly.js itself is embedded


def test_criteria_table_shows_the_metrics(html, run_dir):
    metrics = json.loads((run_dir / "metrics.json").read_text())
    criteria = html.split('<section id="criteria">')[1].split("</section>")[0]
    for row in metrics["criteria"]:
        assert row["criterion"] in criteria
        assert f">{row['value']:g}<" in criteria
    assert criteria.count("<tr>") == len(metrics["criteria"]) + 1


def test_failing_plan_is_not_shown_as_verified(html, run_dir):
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["verified"] is False  # the nerve limit fails in this run
    status = html.split('<section id="status"')[1].split("</section>")[0]
    assert "NOT verified" in status and "unverified" in status
    assert 'every limit holds</td><td class="no">NO' in status


def test_tampered_metrics_or_changed_case_do_not_verify(run_dir, tmp_path):
    """Even with verified: true in metrics.json, failing rows or a changed case say NOT."""
    from optiprobe.report.html import verification_status
    from optiprobe.report.run_data import load_run

    copy = _copy_run(run_dir, tmp_path)
    metrics = json.loads((copy / "metrics.json").read_text())
    metrics["verified"] = True
    (copy / "metrics.json").write_text(json.dumps(metrics))
    assert verification_status(load_run(copy))["verified"] is False
    for row in metrics["criteria"]:
        row["passed"] = True
    (copy / "metrics.json").write_text(json.dumps(metrics))
    assert verification_status(load_run(copy))["verified"] is True  # everything claims to hold
    case = copy.parent / "case.yaml"
    case.write_text(case.read_text().replace("min_temperature_c: 5", "min_temperature_c: 4"))
    status = verification_status(load_run(copy))
    assert status["verified"] is False
    assert any("changed" in why for _, ok, why in status["checks"] if not ok)


def test_thermocouple_and_probe_tables(html):
    section = html.split('<section id="thermocouples">')[1].split("</section>")[0]
    assert "tc_nerve" in section and "tc_far" in section and "not reached" in section
    assert re.search(r"tc_nerve</td><td>nerve_a</td>.*?\d+\.\d min", section, re.S)
    probes = html.split('<section id="probes">')[1].split("</section>")[0]
    assert "p1" in probes and "p2" in probes and "cryo-2.4mm" in probes
    assert ">60.0<" in probes  # p1: entry (-4, 0, 40) to tip (-4, 0, -20)
    assert ">-90.0<" in probes  # p1 points straight down (towards inferior)


# --- the numbers behind the figures ---------------------------------------------------------


def test_histogram_by_hand():
    t_min = np.array([[[-30.0], [-10.0]], [[5.0], [20.0]]])  # 2 x 2 x 1
    mask = np.ones_like(t_min, dtype=bool)
    histogram = temperature_volume_histogram(
        t_min, mask, np.array([-40.0, -30.0, -20.0, -10.0, 0.0, 20.0]), voxel_volume_mm3=8.0
    )
    np.testing.assert_allclose(histogram.fraction_colder, [0, 0.25, 0.25, 0.5, 0.5, 1.0])
    assert histogram.volume_ml == pytest.approx(4 * 8.0 / 1000)
    mask[0, 0, 0] = False  # without the coldest voxel
    part = temperature_volume_histogram(t_min, mask, np.array([-20.0, 5.0]))
    np.testing.assert_allclose(part.fraction_colder, [0.0, 2 / 3])
    with pytest.raises(ValueError, match="no voxels"):
        temperature_volume_histogram(t_min, np.zeros_like(mask), np.array([0.0]))


def test_tumour_histogram_matches_the_coverage_criterion(run_dir):
    from optiprobe.report.run_data import load_run

    run = load_run(run_dir)
    tumour = run.volume.tumor_mask
    histogram = temperature_volume_histogram(run.t_min_c, tumour, np.array([-40.0, -20.0]))
    rows = {row["criterion"]: row["value"] for row in run.metrics["criteria"]}
    assert histogram.fraction_colder[1] == pytest.approx(
        rows["tumour fraction colder than -20 °C"], abs=1e-4
    )
    assert histogram.fraction_colder[0] == pytest.approx(
        rows["tumour fraction colder than -40 °C"], abs=1e-4
    )


def test_margin_map_places_the_criterion_margins_on_the_tumour_surface(run_dir):
    from optiprobe.report.run_data import load_run

    run = load_run(run_dir)
    grid, tumour = run.volume.grid, run.volume.tumor_mask
    margins = margin_map(run.t_min_c, tumour, grid, 0.0)
    expected = ice_margins_mm(run.t_min_c, tumour, grid.spacing_mm, 0.0)
    np.testing.assert_array_equal(margins.margins_mm, expected)
    radius = np.linalg.norm(margins.points_mm, axis=1)  # tumour: sphere r = 7 mm at the origin
    assert radius.max() <= 7.0 and radius.min() >= 7.0 - 2 * 2.0
    rows = {row["criterion"]: row["value"] for row in run.metrics["criteria"]}
    assert margins.margins_mm.min() == pytest.approx(
        rows["ice margin (0 °C) beyond tumour, minimum"], abs=0.01
    )


def test_first_crossing_interpolates_between_samples():
    times = np.array([0.0, 10.0, 20.0, 30.0])
    assert first_crossing_s(times, np.array([20.0, 12.0, 8.0, 4.0]), 10.0) == pytest.approx(15.0)
    assert first_crossing_s(times, np.array([20.0, 12.0, 11.0, 10.5]), 10.0) is None
    assert first_crossing_s(times, np.array([9.0, 12.0, 8.0, 4.0]), 10.0) == 0.0


# --- bad input ----------------------------------------------------------------------------


def _report(*args: str):
    result = runner.invoke(app, ["report", *args])
    assert "Traceback" not in result.output
    return result


def test_folder_that_is_not_a_run_is_refused(tmp_path):
    result = _report(str(tmp_path))
    assert result.exit_code == 2
    assert "no run.json" in result.output and "not a run folder" in result.output
    result = _report(str(tmp_path / "missing"))
    assert result.exit_code == 2 and "no such folder" in result.output
    # A compare (or sweep) folder: the error points to the run folders inside it.
    (tmp_path / "cmp" / "plan_a").mkdir(parents=True)
    (tmp_path / "cmp" / "plan_a" / "run.json").write_text("{}")
    result = _report(str(tmp_path / "cmp"))
    assert result.exit_code == 2
    assert "holds several runs" in result.output and "plan_a" in result.output


def test_missing_case_file_is_refused(run_dir, tmp_path):
    copy = _copy_run(run_dir, tmp_path)
    (copy.parent / "case.yaml").unlink()
    record = json.loads((copy / "run.json").read_text())
    record["case_absolute"] = str(copy.parent / "case.yaml")  # gone too
    (copy / "run.json").write_text(json.dumps(record))
    result = _report(str(copy))
    assert result.exit_code == 2
    assert "case file named by run.json does not exist" in result.output
    assert str(copy.parent / "case.yaml") in result.output


def test_a_moved_run_folder_still_finds_its_case(run_dir, tmp_path):
    # A newcomer moved a run folder two levels deeper: the case path relative to it broke.
    # run.json also keeps the absolute path, used when the relative one no longer resolves.
    moved = tmp_path / "a" / "b" / "run"
    shutil.copytree(run_dir, moved, ignore=shutil.ignore_patterns("*.html"))
    result = _report(str(moved))
    assert result.exit_code == 0, result.output
    assert (moved / "report.html").exists()


def test_plan_probe_outside_the_case_grid_is_refused(run_dir, tmp_path):
    copy = _copy_run(run_dir, tmp_path)
    plan = copy / "plan.yaml"
    tip = "tip_mm:\n  - -4.0\n  - 0.0\n  - -20.0"
    assert tip in plan.read_text()
    plan.write_text(plan.read_text().replace(tip, tip.replace("-20.0", "-200.0"), 1))
    result = _report(str(copy))
    assert result.exit_code == 2
    assert "outside the case grid" in result.output and "tip_mm" in result.output


def test_missing_volume_is_refused(run_dir, tmp_path):
    copy = _copy_run(run_dir, tmp_path)
    (copy / "t_min.nii.gz").unlink()
    result = _report(str(copy))
    assert result.exit_code == 2 and "t_min.nii.gz is missing" in result.output


def test_case_without_thermocouples_or_protected_structures(run_dir, tmp_path):
    copy = _copy_run(run_dir, tmp_path)
    case = copy.parent / "case.yaml"
    text = case.read_text()
    text = text.split("thermocouples:")[0]  # the last section
    text = text.replace("protected:\n  - {structure: nerve_a, min_temperature_c: 5}\n", "")
    assert "protected" not in text and "thermocouples" not in text
    case.write_text(text)
    result = _report(str(copy))
    assert result.exit_code == 0, result.output
    html = (copy / "report.html").read_text(encoding="utf-8")
    assert "The case has no thermocouples." in html
    assert len(re.findall(r'<img [^>]*src="data:image/png;base64,', html)) == 3
    assert "NOT verified" in html and "changed after this run" in html


def test_thermocouple_timeline_follows_the_plans_freeze_durations():
    """Each freeze phase lasts until the plan's last probe stops (thermal/schedule.py), so the
    report shades 15 min phases for a plan freezing 15/15 min in a 10-8-10 case."""
    from optiprobe.case import Plan, load_case
    from optiprobe.report.html import _timeline_protocol

    case = load_case(
        Path(__file__).parents[1] / "scenarios" / "l4_osteoblastic_posterior_wall.yaml"
    )
    probe = {"model": "cryo-17g-sphere", "tip_mm": [0, 0, 0], "entry_mm": [0, 60, 0]}
    plan = Plan(probes=[probe | {"freeze_min": [15, 15]}, probe | {"freeze_min": [12, 9]}])
    phases = _timeline_protocol(plan, case).phases
    assert [p.duration_min for p in phases] == [15, 8, 15]
    assert _timeline_protocol(Plan(probes=[probe]), case) == case.protocol


def test_planner_findings_section_only_for_planner_runs(html, run_dir, tmp_path):
    from optiprobe.report.html import write_report

    assert 'id="planner"' not in html  # a simulate run has no planner.json
    copy = _copy_run(run_dir, tmp_path)
    findings = {
        "probe_count_lower_bound": {"status": "infeasible", "probes_at_least": None},
        "conflicts": [{"structure": "nerve_a", "limit_c": 5.0, "sample_points_gained": 42}],
        "trade_off_plans": [
            {
                "set_aside": "nerve_a",
                "solver": {"nerve_a minimum temperature": -3.5},
                "covers_more_than_plan_written": False,
                "protection": [],
            }
        ],
        "protection": [],
        "robustness": None,
        "messages": [],
    }
    (copy / "planner.json").write_text(json.dumps(findings))
    page = write_report(copy).read_text()
    section = page[page.index('id="planner"') :]
    assert "nerve_a" in section and "42" in section and "-3.5" in section
    assert "covers no more of" in section and "infeasible" in section
    (copy / "planner.json").write_text("{not json")
    assert "could not be read" in write_report(copy).read_text()
