"""Criteria evaluation: the numbers every report, table and plan comparison is built from."""

from optiprobe.metrics.evaluate import (
    Evaluation,
    Row,
    evaluate,
    ice_margins_mm,
    plan_models_calibrated,
)

__all__ = ["Evaluation", "Row", "evaluate", "ice_margins_mm", "plan_models_calibrated"]
