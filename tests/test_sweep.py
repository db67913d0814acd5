"""`optiprobe sweep`: spec errors (exit 2), run expansion, retry of runs whose worker died,
resume after the sweep is killed, and Dask LocalCluster execution."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest
from _sweep_helpers import fast_run
from test_compare import TINY
from typer.testing import CliRunner

from optiprobe.cli import app
from optiprobe.errors import OptiprobeError
from optiprobe.sweep import load_sweep, run_sweep
from optiprobe.sweep.task import TEST_EXIT_ENV

runner = CliRunner()
PLAN = "probes:\n  - {model: cryo-2.4mm, tip_mm: [0, 0, -22], entry_mm: [0, 0, 38]}\n"


def _spec(tmp_path: Path, parameters: str, mode: str = "simulate") -> Path:
    (tmp_path / "case.yaml").write_text(TINY)
    (tmp_path / "plan.yaml").write_text(PLAN)
    plan = "plan: plan.yaml\n" if mode == "simulate" else ""
    text = f"name: test_sweep\ncases: [case.yaml]\nmode: {mode}\n{plan}parameters:\n"
    path = tmp_path / "sweep.yaml"
    path.write_text(text + textwrap.indent(textwrap.dedent(parameters), "  "))
    return path


def _invoke(*args):
    result = runner.invoke(app, [str(a) for a in args])
    assert "Traceback" not in result.output
    return result


def test_unknown_parameter_exits_2_naming_it_and_the_allowed_keys(tmp_path):
    spec = _spec(tmp_path, "tumor.shape.radius_cm: [6, 8]\n")
    result = _invoke("sweep", spec, "-o", tmp_path / "out")
    assert result.exit_code == 2
    assert "sweep.yaml" in result.output
    assert "unknown parameter 'tumor.shape.radius_cm'" in result.output
    assert "center_mm, radius_mm, type" in result.output  # the sphere's fields
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("parameters", "mode", "message"),
    [
        ("grid.spacing: [2]\n", "simulate", "'spacing' at grid"),
        ("plan.probes.3.model: [cryo-1.7mm]\n", "simulate", "an index 0 to 0"),
        ("plan.probes.0.model: [cryo-1.7mm]\n", "plan", "has no plan file"),
        ("tumor.shape.radius_mm: [4, -1]\n", "simulate", "Input should be greater than 0"),
        ("plan.probes.0.tip_mm: [[0, 0, -90]]\n", "simulate", "outside the case grid"),
    ],
)
def test_bad_specs_exit_2(tmp_path, parameters, mode, message):
    result = _invoke("sweep", _spec(tmp_path, parameters, mode), "-o", tmp_path / "out")
    assert result.exit_code == 2
    assert message in result.output
    assert "sweep.yaml" in result.output


def test_expansion_is_the_product_with_stable_ids(tmp_path):
    spec = _spec(
        tmp_path,
        """\
        tumor.shape.radius_mm: [6, 8]
        plan.probes.*.model: [cryo-2.4mm, cryo-1.7mm]
        environment.arterial_temperature_c: [36]
        probes.models: [[cryo-2.4mm, cryo-1.7mm]]
        """,
    )
    sweep = load_sweep(spec, tmp_path / "out")
    assert len(sweep.tasks) == 4
    ids = [t.run_id for t in sweep.tasks]
    assert len(set(ids)) == 4 and ids[0].startswith("radius_mm=6_model=cryo-2.4mm")
    assert ids == [t.run_id for t in load_sweep(spec, tmp_path / "out").tasks]
    assert "model: cryo-1.7mm" in sweep.tasks[1].plan_text
    assert "radius_mm: 8" in sweep.tasks[2].case_text
    assert "arterial_temperature_c: 36" in sweep.tasks[0].case_text


def _three_runs(tmp_path):
    spec = _spec(tmp_path, "tumor.shape.radius_mm: [5, 6, 7]\n")
    return load_sweep(spec, tmp_path / "out")


@pytest.mark.parametrize(("deaths", "status"), [(1, "done"), (5, "failed")])
def test_a_run_whose_worker_dies_is_retried_or_reported(tmp_path, monkeypatch, deaths, status):
    sweep = _three_runs(tmp_path)
    victim = sweep.tasks[1].run_id
    monkeypatch.setenv(TEST_EXIT_ENV, f"{victim}:{deaths}")
    report = run_sweep(sweep, tmp_path / "out", workers=2, run=fast_run)
    others = {t.run_id for t in sweep.tasks} - {victim}
    assert others <= set(report.done)
    summary = pd.read_csv(tmp_path / "out" / "summary.csv").set_index("run_id")
    assert (summary.loc[list(others), "status"] == "done").all()
    assert summary.loc[victim, "status"] == status
    if status == "failed":
        assert report.failed == [victim]
        assert "worker died on 2 attempt(s)" in summary.loc[victim, "reason"]
        assert json.loads((Path(sweep.tasks[1].folder) / "failed.json").read_text())
    else:
        assert victim in report.retried and victim in report.done
    parquet = pd.read_parquet(tmp_path / "out" / "summary.parquet")
    assert list(parquet["run_id"]) == [t.run_id for t in sweep.tasks]


def test_failed_runs_are_retried_on_the_next_invocation(tmp_path, monkeypatch):
    sweep = _three_runs(tmp_path)
    monkeypatch.setenv(TEST_EXIT_ENV, f"{sweep.tasks[0].run_id}:2")
    first = run_sweep(sweep, tmp_path / "out", workers=1, run=fast_run)
    assert first.failed == [sweep.tasks[0].run_id]
    second = run_sweep(sweep, tmp_path / "out", workers=1, run=fast_run)
    assert second.done == [sweep.tasks[0].run_id] and len(second.skipped) == 2


def _results(out: Path) -> dict[str, tuple[int, bytes]]:
    return {
        p.parent.name: (p.stat().st_mtime_ns, p.read_bytes())
        for p in (out / "runs").glob("*/result.json")
    }


def test_resume_after_the_sweep_is_killed(tmp_path):
    """Kill the whole sweep (driver and workers) once a run has finished; the re-run keeps the
    finished runs untouched and executes only the others."""
    spec = _spec(tmp_path, "plan.probes.*.freeze_min: [[1], [1.5], [2]]\n")
    out = tmp_path / "out"
    command = [sys.executable, "-c", "from optiprobe.cli import main; main()"]
    process = subprocess.Popen(
        [*command, "sweep", str(spec), "-o", str(out), "--workers", "1"],
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while not _results(out) and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    kept = _results(out)
    assert 1 <= len(kept) < 3, "the sweep should be killed after its first run, before the last"
    assert not (out / "summary.csv").exists()  # killed before the end

    result = _invoke("sweep", spec, "-o", out)
    assert result.exit_code == 0, result.output
    assert f"{3 - len(kept)} run(s) done, {len(kept)} already complete" in result.output
    after = _results(out)
    assert len(after) == 3
    assert {k: after[k] for k in kept} == kept  # completed results untouched
    summary = pd.read_csv(out / "summary.csv")
    assert (summary["status"] == "done").all()
    assert summary["coverage_below_-20c"].notna().all()
    for run_id in kept:
        assert (out / "runs" / run_id / "attempts").read_text() == "1"  # never run again
    assert not list(out.glob("runs/*/t_min.nii.gz"))  # volumes are optional, off by default


@pytest.mark.parametrize("deaths", [0, pytest.param(1, marks=pytest.mark.slow)])
def test_dask_local_cluster_runs_a_two_run_sweep(tmp_path, monkeypatch, deaths):
    """Two workers of a LocalCluster run the fast stand-in in worker processes. With a death,
    the worker running the second run dies on its first attempt (KilledWorker) and the run is
    retried (slow: the nanny restarts the worker, ~6 s more)."""
    spec = _spec(tmp_path, "tumor.shape.radius_mm: [6, 7]\n")
    sweep = load_sweep(spec, tmp_path / "out")
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).parent))
    if deaths:
        monkeypatch.setenv(TEST_EXIT_ENV, f"{sweep.tasks[1].run_id}:{deaths}")
    report = run_sweep(
        sweep, tmp_path / "out", executor="dask", workers=2, scheduler="local", run=fast_run
    )
    assert sorted(report.done) == sorted(t.run_id for t in sweep.tasks)
    assert report.retried == [sweep.tasks[1].run_id] * deaths
    summary = pd.read_csv(tmp_path / "out" / "summary.csv")
    assert (summary["status"] == "done").all()
    assert list(summary["coverage_below_-20c"]) == [0.6, 0.7]
    assert os.getpid() not in set(summary["worker_pid"])  # ran in worker processes


@pytest.mark.slow
def test_dask_local_cluster_runs_real_simulations(tmp_path):
    spec = _spec(tmp_path, "plan.probes.*.freeze_min: [[1], [2]]\n")
    sweep = load_sweep(spec, tmp_path / "out")
    report = run_sweep(sweep, tmp_path / "out", executor="dask", workers=2, scheduler="local")
    assert sorted(report.done) == sorted(t.run_id for t in sweep.tasks)
    summary = pd.read_parquet(tmp_path / "out" / "summary.parquet").set_index("run_id")
    assert (summary["status"] == "done").all()
    short, long = (summary.loc[t.run_id, "coverage_below_-20c"] for t in sweep.tasks)
    assert long > short  # a longer freeze makes more of the tumour lethally cold


def test_unknown_scheduler_exits_2(tmp_path):
    spec = _spec(tmp_path, "tumor.shape.radius_mm: [6]\n")
    result = _invoke("sweep", spec, "-o", tmp_path / "out", "--scheduler", "cluster7")
    assert result.exit_code == 2 and "unknown scheduler" in result.output


def test_load_sweep_rejects_a_missing_plan_for_simulate(tmp_path):
    spec = _spec(tmp_path, "tumor.shape.radius_mm: [6]\n")
    spec.write_text(spec.read_text().replace("plan: plan.yaml\n", ""))
    with pytest.raises(OptiprobeError, match="mode simulate needs `plan`"):
        load_sweep(spec, tmp_path / "out")


def test_plan_mode_runs_the_planner_on_each_run_case(tmp_path, monkeypatch):
    """mode: plan hands each run's case to the planner (replaced here by a fixed plan of the
    case's first model; planning is tested in the planner's tests) and summarises its verified
    plan; a run where the planner finds no plan is done with plan_found False."""
    import optiprobe.planner.pipeline as pipeline
    from optiprobe.case import Plan
    from optiprobe.metrics import evaluate
    from optiprobe.sweep.task import run_task
    from optiprobe.thermal.simulate import simulate

    def fake_plan_case(case, volume, progress=None):
        if case.tumor.shape.radius_mm > 7:
            return pipeline.PlanOutcome(None, None, None, candidates=0, rejected={})
        model = case.probes.model_names[0]
        plan = Plan(probes=[{"model": model, "tip_mm": [0, 0, -22], "entry_mm": [0, 0, 38]}])
        result = simulate(case, volume, plan)
        evaluation = evaluate(case, volume, result, plan_name=plan.name)
        return pipeline.PlanOutcome(plan, result, evaluation, candidates=1, rejected={})

    monkeypatch.setattr(pipeline, "plan_case", fake_plan_case)
    spec = _spec(tmp_path, "tumor.shape.radius_mm: [6, 8]\n", mode="plan")
    sweep = load_sweep(spec, tmp_path / "out")
    found, none = (run_task(task) for task in sweep.tasks)
    assert found["status"] == "done" and found["plan_found"] and found["probes"] == 1
    assert 0 < found["coverage_below_-20c"] < 1
    assert (Path(sweep.tasks[0].folder) / "planner.json").is_file()
    assert none["status"] == "done" and not none["plan_found"]
    assert json.loads((Path(sweep.tasks[1].folder) / "result.json").read_text())["probes"] == 0


@pytest.mark.slow
def test_dask_connects_to_a_running_scheduler_by_address(tmp_path, monkeypatch):
    from distributed import LocalCluster

    spec = _spec(tmp_path, "tumor.shape.radius_mm: [6, 7]\n")
    sweep = load_sweep(spec, tmp_path / "out")
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).parent))
    with LocalCluster(n_workers=1, threads_per_worker=1, dashboard_address=None) as cluster:
        address = cluster.scheduler_address
        assert address.startswith("tcp://")
        report = run_sweep(
            sweep, tmp_path / "out", executor="dask", workers=1, scheduler=address, run=fast_run
        )
    assert sorted(report.done) == sorted(t.run_id for t in sweep.tasks)
