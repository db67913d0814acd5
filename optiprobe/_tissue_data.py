"""The tissue property values, each with source and confidence (see ``optiprobe.tissues``)."""

from __future__ import annotations

TISSUES: dict = {}
