"""Command-line interface: parse, call the API, print; exit 0 ok, 1 criteria failed, 2 bad input.

Exit 3 means the command is not implemented yet; 4 an internal error (a bug: the message says how
to get the traceback). No logic of its own. Heavy modules (JAX, solvers, matplotlib) are imported
inside the commands that need them, so ``--help`` and ``validate`` answer quickly.
"""

from __future__ import annotations

import enum
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from optiprobe.cli_output import (
    ERR,
    OUT,
    print_comparison,
    print_evaluation,
    print_infeasibility,
    print_planner_findings,
    print_probes,
    simulation_progress,
    sweep_progress,
)
from optiprobe.errors import OptiprobeError

app = typer.Typer(
    name="optiprobe",
    help="Research planning solver for cryoablation of bone metastases. Not a medical device.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Click's plain help: typer's rich panels (typer 0.29) print a value type such as <bool>
    # after every flag, --help included, as if the flag took a value; plain help writes a
    # flag as `--flag` or `--flag / --no-flag`.
    rich_markup_mode=None,
)
_out, _err = OUT, ERR

EXIT_OK, EXIT_CRITERIA_FAILED, EXIT_INPUT_ERROR, EXIT_NOT_IMPLEMENTED, EXIT_INTERNAL = range(5)


def _command(function):
    """Register a command; the command list shows its docstring's whole first paragraph
    (plain help would cut it at the terminal width)."""
    summary = " ".join(function.__doc__.split("\n\n")[0].split())
    return app.command(short_help=summary)(function)


def _print_error(error: OptiprobeError) -> None:
    _err.print(f"[bold red]error:[/] {escape(error.format())}")


class ExportFormat(enum.StrEnum):
    """Formats ``--export`` writes next to a run's outputs."""

    slicer = "slicer"


ExportOption = Annotated[
    list[ExportFormat] | None,
    typer.Option(
        "--export",
        help="Also export the run. slicer: probe markups (.mrk.json, LPS mm), NIfTI volumes "
        "and label maps with colour tables, in the run folder's slicer subfolder.",
    ),
]


def _export(run_dir: Path, formats: list[ExportFormat] | None) -> None:
    """Write the requested exports of a run folder; an input problem exits 2."""
    if not formats:
        return
    from optiprobe.report.slicer import export_slicer

    try:
        paths = export_slicer(run_dir, run_dir / "slicer")
    except OptiprobeError as error:
        _print_error(error)
        raise typer.Exit(EXIT_INPUT_ERROR) from None
    _out.print(f"wrote {escape(str(run_dir / 'slicer'))}/ ({len(paths)} files for 3D Slicer)")


def _version(value: bool) -> None:
    if value:
        from optiprobe import __version__

        typer.echo(f"optiprobe {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Research planning solver for cryoablation of bone metastases. Not a medical device."""


@_command
def validate(
    files: Annotated[
        list[Path], typer.Argument(metavar="FILE", help="Case or plan files (YAML) to check.")
    ],
    voxelize: Annotated[
        bool, typer.Option("--voxelize/--no-voxelize", help="Also build the voxel grid.")
    ] = True,
) -> None:
    """Check case and plan files: schema, references, and (by default) that cases voxelise.

    A plan file that names its case (``case:``) is also checked against that case.
    """
    from optiprobe.validation import validate_file

    failed = 0
    for path in files:
        try:
            summary = validate_file(path, voxelize=voxelize)
            _out.print(f"[green]ok[/] {escape(str(path))} — {escape(summary)}")
        except OptiprobeError as error:
            failed += 1
            _print_error(error)
    if failed:
        raise typer.Exit(EXIT_INPUT_ERROR)


@_command
def show(
    case_path: Annotated[Path, typer.Argument(metavar="CASE", help="Case file (YAML).")],
    output: Annotated[Path, typer.Option("-o", "--output", help="PNG file to write.")] = Path(
        "case.png"
    ),
) -> None:
    """Render orthogonal slices through the tumour with tissues and structures labelled."""
    from optiprobe.report.case_figure import plot_case
    from optiprobe.validation import load_and_voxelize

    try:
        case, volume = load_and_voxelize(case_path)
        plot_case(case, volume, output)
    except OptiprobeError as error:
        _print_error(error)
        raise typer.Exit(EXIT_INPUT_ERROR) from None
    _out.print(f"wrote {escape(str(output))}")


@_command
def schema(
    plan: Annotated[bool, typer.Option("--plan", help="Print the plan-file schema.")] = False,
) -> None:
    """Print the JSON Schema of case files (or plan files), for editor validation."""
    from optiprobe.case import case_json_schema, plan_json_schema

    typer.echo(plan_json_schema() if plan else case_json_schema())


AllowUnsafeOption = Annotated[
    bool,
    typer.Option(
        "--allow-unsafe-paths",
        help="Simulate even if a needle comes closer to a structure than the case allows, or "
        "the plan breaks the case's probe count or spacing limits.",
    ),
]


@_command
def simulate(
    case_path: Annotated[Path, typer.Argument(metavar="CASE", help="Case file (YAML).")],
    plan_path: Annotated[Path, typer.Argument(metavar="PLAN", help="Plan file (YAML).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path("out"),
    allow_unsafe_paths: AllowUnsafeOption = False,
    export: ExportOption = None,
) -> None:
    """Simulate a plan with the thermal solver and evaluate the case's criteria.

    Writes t_min.nii.gz, t_final.nii.gz, labels.nii.gz, sensors.csv and metrics.json to --out,
    with the plan (plan.yaml) and run.json (case file, inputs digest) so the folder stands alone
    for `optiprobe report`. Exit 0 when every limit holds, 1 when one fails.
    """
    from optiprobe.runs import load_inputs, simulate_to_folder

    try:
        inputs = load_inputs(case_path, plan_path, allow_unsafe_paths=allow_unsafe_paths)
    except OptiprobeError as error:
        _print_error(error)
        raise typer.Exit(EXIT_INPUT_ERROR) from None
    for message in inputs.warnings:
        _err.print(f"[bold yellow]warning:[/] {escape(message)}")
    shape = "×".join(map(str, inputs.volume.grid.shape))
    try:
        with simulation_progress(f"{len(inputs.plan.probes)} probes, {shape} grid") as progress:
            outcome = simulate_to_folder(inputs, out, progress=progress)
    except OptiprobeError as error:
        _print_error(error)
        raise typer.Exit(EXIT_INPUT_ERROR) from None
    evaluation, result = outcome.evaluation, outcome.result
    calibrated = evaluation.probe_models_calibrated
    print_evaluation(evaluation)
    verdict = "every limit holds" if evaluation.passed else "[bold red]limits fail[/]"
    if calibrated:
        caution = (
            "Probe models fitted to gel data (Littrup 2009); arrays of 3-4 probes reach 4-6 mm "
            "less lethal cold than measured in gel (docs/validation.md), so keep thermocouples "
            "on protected structures."
        )
    else:
        caution = (
            "Caution: a probe model of this plan is not calibrated to gel data (17 G or "
            "user-defined), so these temperatures are not validated and the plan is not "
            "verified."
        )
    _out.print(f"{verdict}. {caution}")
    _out.print(f"wrote {escape(str(out))}/ (t_min.nii.gz, sensors.csv, metrics.json, …)")
    _export(out, export)
    if result.status.name != "OK":
        _err.print(f"[bold red]solver status {result.status.name}:[/] {result.status.message}")
        raise typer.Exit(EXIT_INTERNAL)
    raise typer.Exit(EXIT_OK if evaluation.passed else EXIT_CRITERIA_FAILED)


@_command
def plan(
    case_path: Annotated[Path, typer.Argument(metavar="CASE", help="Case file (YAML).")],
    output: Annotated[Path, typer.Option("--out", "--output", "-o", help="Output folder.")] = Path(
        "out"
    ),
    export: ExportOption = None,
) -> None:
    """Suggest probes, trajectories and freeze durations, and verify them with the solver.

    Writes plan.yaml, the solver outputs (t_min.nii.gz, sensors.csv, metrics.json, ...) and
    planner.json (candidates, CP-SAT rounds, conflicts, trade-off plan, protection advice,
    robustness) to --output. Exit 0 when every limit holds in the solver, 1 when none of the
    plans tried meets them: then the best plan found that keeps the structure limits in the
    surrogate (or, when none does, the coverage-first trade-off) is written with the
    infeasibility report.
    """
    from optiprobe.runs import plan_to_folder

    try:
        with _err.status("planning") as status:
            run = plan_to_folder(case_path, output, progress=lambda m: status.update(escape(m)))
    except OptiprobeError as error:
        _print_error(error)
        raise typer.Exit(EXIT_INPUT_ERROR) from None
    planner = run.planner or {}
    for message in run.messages:
        _err.print(f"[bold yellow]planner:[/] {escape(message)}")
    if run.plan is None:
        print_infeasibility(planner)
        _err.print("[bold red]no plan:[/] see planner.json")
        raise typer.Exit(EXIT_CRITERIA_FAILED)
    print_evaluation(run.evaluation)
    print_probes(run.plan)
    print_planner_findings(planner)
    evaluation = run.evaluation
    if evaluation.verified:
        verdict = "[green]verified by the solver: every limit holds[/]"
    elif evaluation.passed:
        verdict = "every limit holds in the solver, but a probe model is not gel-calibrated"
    elif planner.get("trade_off_written"):
        verdict = (
            "[bold red]no plan keeps every structure limit[/]: the plan written is the "
            "coverage-first trade-off and breaks a limit in the solver"
        )
    else:
        verdict = (
            "[bold red]NOT verified: limits fail in the solver[/]; this is the best plan found "
            "that keeps the structure limits in the surrogate"
        )
    if not evaluation.probe_models_calibrated and not evaluation.passed:
        verdict += " (and a probe model is not gel-calibrated, so it could not be verified)"
    _out.print(f"{verdict}. Wrote {escape(str(output))}/ (plan.yaml, metrics.json, planner.json)")
    _export(output, export)
    raise typer.Exit(EXIT_OK if evaluation.passed else EXIT_CRITERIA_FAILED)


@_command
def compare(
    case_path: Annotated[Path, typer.Argument(metavar="CASE", help="Case file (YAML).")],
    plan_paths: Annotated[
        list[Path] | None,
        typer.Argument(metavar="PLAN", help="Plan files; none: plan the case's variants."),
    ] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path("compare"),
    allow_unsafe_paths: AllowUnsafeOption = False,
    reuse: Annotated[
        bool,
        typer.Option(
            "--reuse/--no-reuse",
            help="Reuse earlier runs of unchanged inputs (in OUT/<plan-name>/, or the run "
            "folder a PLAN file belongs to); --no-reuse simulates every plan.",
        ),
    ] = True,
) -> None:
    """Simulate several plans of one case (or plan each of its variants) and compare them.

    Each run goes to OUT/<plan-name>/. A plan already simulated with the same case, plan and
    solver (same inputs digest) is not simulated again: a run in OUT/<plan-name>/ is reused,
    and the outputs of a `simulate` or `plan` run folder whose plan.yaml is given are copied
    there (docs/compare.md). OUT gets comparison.csv, comparison.json, isotherms.png and
    histograms.png. The table marks the better value of each criterion with *. Exit 0 when at
    least one plan holds every limit, 1 when none does.
    """
    from optiprobe.compare import compare_plans, compare_variants

    try:
        with _err.status("comparing") as status:

            def progress(name):
                def update(*args) -> None:  # (done_s, total_s) from the solver, or a message
                    if len(args) == 2:
                        text = f"{args[0] / 60:.1f} / {args[1] / 60:.1f} min simulated"
                    else:
                        text = str(args[0])
                    status.update(f"{escape(name)}: {escape(text)}")

                status.update(f"{escape(name)}: starting")
                return update

            if plan_paths:
                comparison = compare_plans(
                    case_path,
                    plan_paths,
                    out,
                    allow_unsafe_paths=allow_unsafe_paths,
                    reuse=reuse,
                    progress=progress,
                )
            else:
                comparison = compare_variants(case_path, out, progress=progress)
    except OptiprobeError as error:
        _print_error(error)
        raise typer.Exit(EXIT_INPUT_ERROR) from None
    print_comparison(comparison)
    _out.print(f"wrote {escape(str(out))}/ (comparison.csv, comparison.json, figures, runs)")
    passed = any(o.passed for o in comparison.outcomes)
    raise typer.Exit(EXIT_OK if passed else EXIT_CRITERIA_FAILED)


@_command
def sweep(
    spec_path: Annotated[Path, typer.Argument(metavar="SPEC", help="Sweep spec (YAML).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path("sweep"),
    workers: Annotated[int, typer.Option("--workers", "-j", min=1, help="Worker processes.")] = 1,
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler", help="Dask: `local` (a LocalCluster) or tcp://host:port of a cluster."
        ),
    ] = None,
) -> None:
    """Run every combination of a sweep spec's scenarios and parameters (docs/sweeps.md).

    Runs go to OUT/runs/<run-id>/; completed runs are skipped when the sweep is run again
    (resume after an interruption), failed runs are retried. OUT gets summary.csv,
    summary.parquet, summary.md and summary.png. Exit 0 when every run completed (whatever
    its criteria), 1 when a run failed.
    """
    from optiprobe.sweep import executor_for, load_sweep, run_sweep

    try:
        executor, address = executor_for(scheduler)
        spec = load_sweep(spec_path, out)
        with sweep_progress(len(spec.tasks)) as on_event:
            report = run_sweep(
                spec, out, executor=executor, workers=workers, scheduler=address, on_event=on_event
            )
    except OptiprobeError as error:
        _print_error(error)
        raise typer.Exit(EXIT_INPUT_ERROR) from None
    _out.print(
        f"sweep {escape(spec.spec.name)}: {len(report.done)} run(s) done, "
        f"{len(report.skipped)} already complete, {len(report.failed)} failed, "
        f"{len(report.retried)} retried after a worker died. Wrote {escape(str(out))}/summary.csv"
    )
    for run_id in report.failed:
        _err.print(
            f"[bold red]failed:[/] {escape(run_id)} (see runs/{escape(run_id)}/failed.json)"
        )
    raise typer.Exit(EXIT_CRITERIA_FAILED if report.failed else EXIT_OK)


@_command
def report(
    run_dir: Annotated[
        Path, typer.Argument(metavar="DIR", help="Run folder of `simulate` or `plan`.")
    ],
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="HTML file (default DIR/report.html).")
    ] = None,
    export: ExportOption = None,
) -> None:
    """Write a self-contained HTML report of a run folder (opens offline).

    Criteria table and verification status, slices with isotherms, margin map,
    temperature-volume histograms, thermocouples, probe table and a 3-D view. Exit 0 when
    written (whatever the criteria; the report says whether the plan is verified), 2 when the
    folder, its case or its plan cannot be read.
    """
    from optiprobe.report.html import write_report

    try:
        with _err.status("writing report"):
            path = write_report(run_dir, output)
    except OptiprobeError as error:
        _print_error(error)
        raise typer.Exit(EXIT_INPUT_ERROR) from None
    _out.print(f"wrote {escape(str(path))}")
    _export(run_dir, export)


def main() -> None:
    """Console-script entry point: no traceback reaches the user unless OPTIPROBE_DEBUG is set."""
    try:
        app()
    except (KeyboardInterrupt, MemoryError) as error:
        kind = "interrupted" if isinstance(error, KeyboardInterrupt) else "out of memory"
        _err.print(f"[bold red]error:[/] {kind}")
        raise SystemExit(EXIT_INTERNAL) from None
    except Exception as error:  # a bug: say so plainly, keep the traceback for developers
        if os.environ.get("OPTIPROBE_DEBUG"):
            raise
        _err.print(
            f"[bold red]internal error (a bug in optiprobe):[/] {escape(type(error).__name__)}: "
            f"{escape(str(error))}\nRe-run with OPTIPROBE_DEBUG=1 for the traceback, and please "
            "report it with the input file."
        )
        raise SystemExit(EXIT_INTERNAL) from None
