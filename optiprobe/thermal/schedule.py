"""Protocol timeline: when each probe freezes, and when probes are actively thawed.

Freeze phases start for all probes together; each probe freezes for its own duration in that phase
(``freeze_min`` of the plan, else the protocol's), and the phase lasts until the last probe stops.
Passive thaw switches the probes off; active thaw heats all probes (helium / electrical thaw) to
``ACTIVE_THAW_SURFACE_C`` for the phase.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from optiprobe.case.models import ProtocolSpec
from optiprobe.units import min_to_s

__all__ = ["ACTIVE_THAW_SURFACE_C", "Timeline", "timeline"]

# Surface temperature during active thaw (°C). Helium/electrical thaw warms the probe above body
# temperature; 20 °C is a modest effective value (estimate, confidence C).
ACTIVE_THAW_SURFACE_C = 20.0


@dataclass(frozen=True)
class Timeline:
    """Freeze windows (n_probes, n_freeze, 2), active-thaw windows (a, 2), total duration (s)."""

    freeze_windows_s: np.ndarray
    thaw_windows_s: np.ndarray
    total_s: float
    phase_starts_s: tuple[float, ...]


def timeline(protocol: ProtocolSpec, freeze_min: np.ndarray) -> Timeline:
    """Build the timeline from the protocol and per-probe freeze durations (n_probes, n_freeze)."""
    freeze_s = min_to_s(np.asarray(freeze_min, dtype=float))
    windows = np.zeros((*freeze_s.shape, 2))
    thaws: list[tuple[float, float]] = []
    starts: list[float] = []
    now, k = 0.0, 0
    for phase in protocol.phases:
        starts.append(now)
        if phase.kind == "freeze":
            windows[:, k, 0] = now
            windows[:, k, 1] = now + freeze_s[:, k]
            now += max(float(freeze_s[:, k].max()), 0.0)
            k += 1
        else:
            if phase.thaw_mode == "active":
                thaws.append((now, now + min_to_s(phase.duration_min)))
            now += min_to_s(phase.duration_min)
    thaw = np.asarray(thaws, dtype=float).reshape(-1, 2)
    return Timeline(windows, thaw, now, tuple(starts))
