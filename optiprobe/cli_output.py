"""What the CLI prints: criteria and probe tables, the planner's findings, progress bars.

Formatting only (rich); the numbers come from the API's results. Kept apart from
:mod:`optiprobe.cli`, which parses the commands and calls the API.
"""

from __future__ import annotations

from contextlib import contextmanager

from rich.console import Console
from rich.markup import escape

OUT = Console(soft_wrap=True, highlight=False)
ERR = Console(stderr=True, soft_wrap=True, highlight=False)
_out, _err = OUT, ERR


@contextmanager
def simulation_progress(what: str):
    """A progress bar over simulated time on stderr; yields the ``progress(done_s, total_s)``
    callback that :func:`optiprobe.thermal.simulate.simulate` calls."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (
        TextColumn("simulating {task.description}"),
        BarColumn(),
        TextColumn("{task.fields[minutes]}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=_err, transient=True) as bar:
        task = bar.add_task(escape(what), total=None, minutes="compiling")

        def progress(done_s: float, total_s: float) -> None:
            minutes = f"{done_s / 60:.1f} / {total_s / 60:.1f} min simulated"
            bar.update(task, completed=done_s, total=total_s, minutes=minutes)

        yield progress


def print_evaluation(evaluation) -> None:
    from rich.table import Table

    table = Table(title=f"{evaluation.case} — plan {evaluation.plan}: full thermal solver")
    for column in ("criterion", "value", "limit", "goal", "limit holds", "goal met"):
        table.add_column(column)
    for row in evaluation.rows:
        fraction = row.unit == "fraction"
        goal = "" if row.goal is None else _number(row.goal, fraction)
        met = {None: "", True: "yes", False: "no"}[row.goal_met]
        holds = "[green]yes[/]" if row.passed else "[bold red]NO[/]"
        limit = _number(row.limit, fraction)
        if fraction and row.limit == 0 and row.goal is not None:
            limit, holds = "–", "–"  # a goal only (the goal isotherm's coverage)
        value = _number(row.value, fraction) if fraction else f"{row.value:g} {row.unit}"
        table.add_row(escape(row.criterion), value, limit, goal, holds, met)
    _out.print(table)


def _number(number: float, fraction: bool) -> str:
    """A criterion's number: fractions as percent to 2 decimals, anything else as is."""
    return f"{number:.2%}" if fraction else f"{number:g}"


def print_planner_findings(planner: dict) -> None:
    """Conflicts, the verified trade-off, protection advice and robustness from planner.json."""
    print_infeasibility(planner)
    for conflict in [] if planner.get("infeasibility_report") else planner.get("conflicts", []):
        _out.print(
            f"conflict: the {escape(conflict['structure'])} limit ({conflict['limit_c']:g} °C) "
            f"blocks coverage: without it the surrogate covers "
            f"{conflict['sample_points_gained']} more tumour/margin sample points"
        )
    for trade in planner.get("trade_off_plans", []):
        values = "; ".join(f"{escape(k)} {v:g}" for k, v in trade["solver"].items())
        label = trade.get("simulated_as", "coverage-first")
        what = (
            f"without the {escape(trade['set_aside'])} limit(s)"
            if label == "coverage-first"
            else f"the {escape(label)} plan, past the {escape(trade['set_aside'])} limit(s)"
        )
        _out.print(f"trade-off {what} (solver): {values}")
        if trade.get("covers_more_than_plan_written") is False:
            _out.print(
                "  [yellow]the trade-off plan covers no more of the tumour than the plan "
                "above[/] (the infeasibility report says what that leaves of the conflict)"
            )
    advice = list(planner.get("protection", []))
    for trade in planner.get("trade_off_plans", []):
        advice += [a | {"trade_off": True} for a in trade.get("protection", [])]
    for item in advice:
        when = (
            f"reaches 10 °C at {item['time_to_trigger_min']:g} min"
            if item["time_to_trigger_min"] is not None
            else "stays above 10 °C"
        )
        which = " (in the trade-off plan)" if item.get("trade_off") else ""
        _out.print(
            f"protect {escape(item['structure'])}{which}: coldest {item['solver_min_c']:g} °C "
            f"(limit {item['limit_c']:g} °C), {when}; thermocouple at "
            f"{item['thermocouple_mm']} mm; consider {escape(item['suggestion'])}"
        )
    short = planner.get("margin_shortfall") or {}
    if short.get("next_to"):
        beside = ", ".join(f"{escape(n['name'])} {n['share']:.0%}" for n in short["next_to"])
        _out.print(
            f"ice margin: short on {short['short_surface_fraction']:.0%} of the tumour surface; "
            f"what lies where the margin should reach: {beside}"
        )
    bound = planner.get("probe_count_lower_bound") or {}
    if bound.get("probes_at_least") is not None:
        _out.print(
            f"LP relaxation (surrogate): at least {bound['probes_at_least']} probe(s) are needed "
            "to cover the tumour within the structure limits"
        )
    elif bound:
        _out.print(
            f"LP relaxation (surrogate): {escape(str(bound.get('status')))}: no set of probes "
            "covers the tumour within the structure limits"
        )
    robust = planner.get("robustness")
    if robust:
        _out.print(
            f"robustness (surrogate): limits hold under {robust['fraction_holding']:.0%} of "
            f"{robust['perturbations']} placement errors of ±{robust['shift_mm']:g} mm"
            + _worst_move(robust["worst"])
        )


def _worst_move(worst: dict) -> str:
    """What the solver says of the worst placement error, when it was simulated."""
    held = worst.get("solver_limits_hold")
    if held is None:
        return ""
    if held:
        return "; the worst of them, simulated by the solver, keeps every limit"
    return (
        "; the worst of them, simulated by the solver, breaks a limit (see robustness.worst "
        "in planner.json; the plan's own verification is unaffected)"
    )


def print_infeasibility(planner: dict) -> None:
    """The infeasibility report's sentences (solver numbers), when no plan meets every limit."""
    report = planner.get("infeasibility_report") or {}
    for sentence in report.get("summary", []):
        _out.print(f"[bold]infeasibility report:[/] {escape(sentence)}")


def print_probes(plan_) -> None:
    from rich.table import Table

    table = Table(title="probes")
    for column in ("probe", "model", "entry (mm)", "tip (mm)", "depth (mm)", "freeze (min)"):
        table.add_column(column, overflow="fold")  # wrap long names at 80 columns, never cut
    for p in plan_.probes:
        fmt = lambda v: ", ".join(f"{x:.1f}" for x in v)  # noqa: E731
        freeze = "" if p.freeze_min is None else " / ".join(f"{m:g}" for m in p.freeze_min)
        table.add_row(
            escape(p.name or ""),
            p.model,
            fmt(p.entry_mm),
            fmt(p.tip_mm),
            f"{p.depth_mm:.1f}",
            freeze,
        )
    _out.print(table)


def print_comparison(comparison) -> None:
    from rich.table import Table

    names = comparison.names
    table = Table(title=f"{comparison.case_name}: {len(names)} plans (* better value)")
    for column in ("criterion", "limit", "goal", *names):
        table.add_column(escape(column))
    for row in comparison.table:
        cells = []
        for i, (value, passed) in enumerate(zip(row["values"], row["passed"], strict=True)):
            if value is None:
                cells.append("—")
                continue
            text = f"{value:g} {row['unit']}" + (" *" if i in row["best"] else "")
            cells.append(text if passed else f"[bold red]{text} (fails)[/]")
        goal = "" if row["goal"] is None else f"{row['goal']:g}"
        table.add_row(escape(row["criterion"]), f"{row['limit']:g}", goal, *cells)
    reused = ["reused" if o.reused else "simulated" for o in comparison.outcomes]
    verdict = [
        "no plan"
        if o.metrics is None
        else "verified"
        if o.metrics["verified"]
        else "limits hold"
        if o.passed
        else "limits fail"
        for o in comparison.outcomes
    ]
    table.add_row("verdict", "", "", *verdict)
    table.add_row("run", "", "", *reused)
    _out.print(table)


@contextmanager
def sweep_progress(total: int):
    """A progress bar over a sweep's runs on stderr; yields the runner's ``on_event``."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    columns = (
        TextColumn("sweep"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[counts]}"),
        TimeElapsedColumn(),
    )
    counts = {"done": 0, "skipped": 0, "failed": 0, "retry": 0}
    with Progress(*columns, console=_err, transient=False) as bar:
        task = bar.add_task("runs", total=total, counts="")

        def on_event(kind: str, run) -> None:
            counts[kind] += 1
            text = ", ".join(f"{v} {k}" for k, v in counts.items() if v)
            bar.update(task, advance=0 if kind == "retry" else 1, counts=text)

        yield on_event
