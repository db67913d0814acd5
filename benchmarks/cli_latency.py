"""How fast the CLI answers: ``--help`` and ``validate`` (target: about 2 s, issue #3).

Runs each command as a user would (``uv run optiprobe …``, a fresh process each time, so the
interpreter start-up and imports are included) and as the bare console script, five times each,
and writes ``results/benchmarks/cli_latency.json``.

    uv run python benchmarks/cli_latency.py
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import time

from _results import ROOT, machine, write_json

L4 = "scenarios/l4_osteoblastic_posterior_wall.yaml"
COMMANDS = {
    "help": ["--help"],
    "validate_l4_no_voxelize": ["validate", "--no-voxelize", L4],
    "validate_l4": ["validate", L4],
    "validate_all_scenarios": [
        "validate",
        *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "scenarios").glob("*.yaml")),
    ],
}
REPEATS = 5


def _time(argv: list[str]) -> list[float]:
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        subprocess.run(argv, cwd=ROOT, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    script = shutil.which("optiprobe") or str(ROOT / ".venv" / "bin" / "optiprobe")
    runners = {"console_script": [script], "uv_run": ["uv", "run", "optiprobe"]}
    rows = []
    for runner, prefix in runners.items():
        for name, args in COMMANDS.items():
            times = _time([*prefix, *args])
            rows.append(
                {
                    "command": name,
                    "runner": runner,
                    "median_s": round(statistics.median(times), 3),
                    "max_s": round(max(times), 3),
                    "target_s": 2.0,
                }
            )
            print(f"{runner:15s} {name:25s} median {rows[-1]['median_s']:.2f} s", file=sys.stderr)
    write_json(
        ROOT / "results" / "benchmarks" / "cli_latency.json",
        {"repeats": REPEATS, "machine": machine(), "rows": rows},
    )


if __name__ == "__main__":
    main()
