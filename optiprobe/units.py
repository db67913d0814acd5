"""The only place units are converted.

Interfaces use mm, s (files may say min) and °C; kernels use SI (m, s, K differences in °C).
"""

from __future__ import annotations

__all__ = [
    "MM_PER_M",
    "S_PER_MIN",
    "c_to_k",
    "k_to_c",
    "m_to_mm",
    "min_to_s",
    "mm_to_m",
    "s_to_min",
]

MM_PER_M = 1000.0
S_PER_MIN = 60.0
_ZERO_C_IN_K = 273.15


def min_to_s(minutes):
    """Convert minutes to seconds."""
    return minutes * S_PER_MIN


def s_to_min(seconds):
    """Convert seconds to minutes."""
    return seconds / S_PER_MIN


def mm_to_m(millimetres):
    """Convert millimetres to metres."""
    return millimetres / MM_PER_M


def m_to_mm(metres):
    """Convert metres to millimetres."""
    return metres * MM_PER_M


def c_to_k(celsius):
    """Convert °C to kelvin."""
    return celsius + _ZERO_C_IN_K


def k_to_c(kelvin):
    """Convert kelvin to °C."""
    return kelvin - _ZERO_C_IN_K
