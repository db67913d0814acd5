"""Shared helpers for benchmark scripts: machine description and atomic JSON output."""

from __future__ import annotations

import json
import os
import platform
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def machine() -> dict:
    """The facts a timing needs to be read: CPU count, platform, Python."""
    return {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "python": platform.python_version(),
    }


def write_json(path: Path, data: dict) -> None:
    """Write ``data`` as indented JSON through a temporary file and rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(suffix=".json", dir=path.parent)
    with os.fdopen(handle, "w", encoding="utf-8") as stream:
        json.dump(data, stream, indent=2)
        stream.write("\n")
    os.replace(tmp, path)
