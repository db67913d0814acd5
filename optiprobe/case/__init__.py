"""Case and plan files: pydantic models, loaders with located errors, JSON Schemas."""

from optiprobe.case.loading import (
    case_json_schema,
    is_plan_file,
    load_case,
    load_plan,
    plan_case_path,
    plan_json_schema,
    plan_problems,
    structure_names,
)
from optiprobe.case.models import Case
from optiprobe.case.plan import Plan, PlannedProbe

__all__ = [
    "Case",
    "Plan",
    "PlannedProbe",
    "case_json_schema",
    "is_plan_file",
    "load_case",
    "load_plan",
    "plan_case_path",
    "plan_json_schema",
    "plan_problems",
    "structure_names",
]
