"""Thermocouple readings against thresholds: when does a sensor first get too cold?"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["PROTECTION_TRIGGER_C", "ThermocoupleSummary", "first_crossing_s", "summarize"]

PROTECTION_TRIGGER_C = 10.0
"""Thermocouple reading (°C) at which protection starts (warm saline, pausing a probe)."""


def first_crossing_s(times_s: np.ndarray, values_c: np.ndarray, threshold_c: float):
    """First time (s) the reading reaches ``threshold_c`` or colder, interpolated linearly
    between samples; ``None`` when it never does.

    Parameters
    ----------
    times_s : (m,) float, ascending
    values_c : (m,) float, °C
    """
    times = np.asarray(times_s, dtype=float)
    values = np.asarray(values_c, dtype=float)
    below = np.nonzero(values <= threshold_c)[0]
    if below.size == 0:
        return None
    i = int(below[0])
    if i == 0:
        return float(times[0])
    t0, t1, v0, v1 = times[i - 1], times[i], values[i - 1], values[i]
    return float(t0 + (t1 - t0) * (v0 - threshold_c) / (v0 - v1))


@dataclass(frozen=True)
class ThermocoupleSummary:
    """One thermocouple's minimum and threshold crossings (times in s, ``None``: never)."""

    name: str
    watches: str | None
    minimum_c: float
    trigger_s: float | None
    limit_c: float | None
    limit_s: float | None


def summarize(case, times_s: np.ndarray, sensors_c: dict) -> list[ThermocoupleSummary]:
    """Summaries of every thermocouple of ``case`` with a recorded series in ``sensors_c``.

    ``trigger_s`` is the first time at :data:`PROTECTION_TRIGGER_C`; ``limit_s`` the first time
    at the limit of the protected structure the thermocouple watches (when it watches one).
    """
    limits = {p.structure: p.min_temperature_c for p in case.protected}
    summaries = []
    for couple in case.thermocouples:
        if couple.name not in sensors_c:
            continue
        values = np.asarray(sensors_c[couple.name], dtype=float)
        limit = limits.get(couple.watches) if couple.watches else None
        summaries.append(
            ThermocoupleSummary(
                couple.name,
                couple.watches,
                float(values.min()) if values.size else float("nan"),
                first_crossing_s(times_s, values, PROTECTION_TRIGGER_C),
                limit,
                None if limit is None else first_crossing_s(times_s, values, limit),
            )
        )
    return summaries
