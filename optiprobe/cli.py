"""Command-line interface: parse, call the API, print; exit 0 ok, 1 criteria failed, 2 bad input.

Exit 3 means the command is not implemented yet. No logic of its own. Heavy modules (JAX,
solvers, matplotlib) are imported inside the commands that need them, so ``--help`` and
``validate`` answer quickly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from optiprobe.errors import OptiprobeError

app = typer.Typer(
    name="optiprobe",
    help="Research planning solver for cryoablation of bone metastases. Not a medical device.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
_out = Console(soft_wrap=True)
_err = Console(stderr=True, soft_wrap=True)

EXIT_OK, EXIT_CRITERIA_FAILED, EXIT_INPUT_ERROR, EXIT_NOT_IMPLEMENTED = 0, 1, 2, 3


def _fail(error: OptiprobeError) -> typer.Exit:
    _err.print(f"[bold red]error:[/] {error.format()}", highlight=False, markup=True)
    return typer.Exit(EXIT_INPUT_ERROR)


@app.command()
def validate(
    files: Annotated[list[Path], typer.Argument(help="Case or plan files (YAML) to check.")],
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
            _out.print(f"[green]ok[/] {path} — {summary}", highlight=False)
        except OptiprobeError as error:
            failed += 1
            _err.print(f"[bold red]error:[/] {error.format()}", highlight=False)
    if failed:
        raise typer.Exit(EXIT_INPUT_ERROR)


@app.command()
def show(
    case_path: Annotated[Path, typer.Argument(metavar="CASE", help="Case file (YAML).")],
    output: Annotated[Path, typer.Option("-o", "--output", help="PNG file to write.")] = Path(
        "case.png"
    ),
) -> None:
    """Render orthogonal slices through the tumour with tissues and structures labelled."""
    from optiprobe.anatomy.voxelize import voxelize as build_volume
    from optiprobe.case import load_case
    from optiprobe.report.case_figure import plot_case

    try:
        case = load_case(case_path)
        volume = build_volume(case)
        plot_case(case, volume, output)
    except OptiprobeError as error:
        raise _fail(error) from None
    _out.print(f"wrote {output}", highlight=False)


@app.command()
def schema(
    plan: Annotated[bool, typer.Option("--plan", help="Print the plan-file schema.")] = False,
) -> None:
    """Print the JSON Schema of case files (or plan files), for editor validation."""
    from optiprobe.case import case_json_schema, plan_json_schema

    typer.echo(plan_json_schema() if plan else case_json_schema())


@app.command()
def plan(
    case_path: Annotated[Path, typer.Argument(metavar="CASE", help="Case file (YAML).")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Output folder.")] = Path("out"),
) -> None:
    """Suggest a probe layout and verify it with the thermal solver (not implemented yet)."""
    from optiprobe.case import load_case

    try:
        load_case(case_path)
    except OptiprobeError as error:
        raise _fail(error) from None
    _err.print(
        "[bold yellow]not implemented yet:[/] the automatic planner (issue #6) and the thermal "
        "solver that verifies its plans (issue #4) do not exist yet, so no plan was made. "
        f"The case {case_path} is valid; `optiprobe show {case_path}` draws it.",
        highlight=False,
    )
    raise typer.Exit(EXIT_NOT_IMPLEMENTED)


def main() -> None:
    """Console-script entry point."""
    app()
