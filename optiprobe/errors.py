"""The one user-facing error type, and solver status codes.

Every problem a user can fix (a malformed file, a value out of range, a missing label map) is
raised as :class:`OptiprobeError`, which names *where* (file, line/column or field path), *what*
was found and *what is allowed*. The CLI prints it and exits with code 2; nothing else is
shown to the user.
"""

from __future__ import annotations

import enum
from pathlib import Path

__all__ = ["OptiprobeError", "SolverStatus"]


class OptiprobeError(Exception):
    """A problem with user input, reported with its location and what is allowed.

    Parameters
    ----------
    message
        What is wrong, in words a planner understands.
    file
        The file the problem is in, if any.
    location
        Where in the file: a field path such as ``protected[1].min_temperature_c`` and/or
        ``line 12, column 5``.
    allowed
        What would be accepted instead.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        location: str | None = None,
        allowed: str | None = None,
    ) -> None:
        self.message = message
        self.file = None if file is None else Path(file)
        self.location = location
        self.allowed = allowed
        super().__init__(self.format())

    def format(self) -> str:
        """Return the error as one readable block: ``file: location: message (allowed: …)``."""
        where = [str(self.file)] if self.file is not None else []
        if self.location:
            where.append(self.location)
        text = ": ".join([*where, self.message]) if where else self.message
        if self.allowed:
            text += f"\n  allowed: {self.allowed}"
        return text


class SolverStatus(enum.IntEnum):
    """Status codes returned by compiled solver code (traced code never raises)."""

    OK = 0
    NON_FINITE = 1
    UNSTABLE_STEP = 2
    PROBE_OUTSIDE_GRID = 3

    @property
    def message(self) -> str:
        """A sentence explaining the status to a user."""
        return _STATUS_MESSAGES[self]


_STATUS_MESSAGES = {
    SolverStatus.OK: "the simulation finished with finite temperatures",
    SolverStatus.NON_FINITE: "the temperature field became NaN or infinite",
    SolverStatus.UNSTABLE_STEP: "the time step exceeds the stability limit of the explicit scheme",
    SolverStatus.PROBE_OUTSIDE_GRID: "a probe's active zone lies outside the simulation grid",
}
