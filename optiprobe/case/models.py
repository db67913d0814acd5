"""The case file: anatomy, tumour, protected structures, access, probes, protocol, objectives.

Every section is a frozen pydantic model with ``extra="forbid"``; units are in the field names
(``_mm``, ``_min``, ``_c``, ``_deg``). Cross-references between sections (a protected structure
naming an anatomy structure, a probe model naming the catalogue) are checked in ``loading.py`` so
that each error points at the field the user wrote.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from optiprobe._model import NonNegative, Positive, StrictModel, Vec3
from optiprobe.anatomy.phantoms import PhantomSpec
from optiprobe.case._types import Name, TemperatureC
from optiprobe.case.geometry import ShapeSpec
from optiprobe.case.treatment import (
    CustomProbeSpec,
    ObjectiveSpec,
    PhaseSpec,
    ProbesSpec,
    ProtocolSpec,
    default_objectives,
)

__all__ = [
    "AccessSpec",
    "AnatomySpec",
    "Case",
    "GridSpec",
    "ObjectiveSpec",
    "PhaseSpec",
    "ProbesSpec",
    "ProtectedSpec",
    "ProtocolSpec",
    "TumorSpec",
    "VariantSpec",
]


def _exactly_one(model: StrictModel, names: tuple[str, ...], what: str) -> None:
    given = [n for n in names if getattr(model, n) is not None]
    if len(given) != 1:
        found = ", ".join(given) if given else "none"
        raise ValueError(f"{what}: give exactly one of {', '.join(names)} (found: {found})")


# --- grid -----------------------------------------------------------------------------------


class BoundsSpec(StrictModel):
    """An explicit grid box (LPS, mm): voxel centres cover ``[min_mm, max_mm]``."""

    min_mm: Vec3
    max_mm: Vec3

    @model_validator(mode="after")
    def _ordered(self):
        if any(lo >= hi for lo, hi in zip(self.min_mm, self.max_mm, strict=True)):
            raise ValueError("min_mm must be below max_mm along every axis")
        return self


class GridSpec(StrictModel):
    """Simulation grid: voxel size and either an explicit box or automatic bounds.

    With ``margin_mm`` the box is the tumour's bounding box grown by the margin on every side.
    """

    spacing_mm: Annotated[float, Field(gt=0.1, le=10)] | tuple[Positive, Positive, Positive]
    margin_mm: Annotated[float, Field(ge=5, le=200)] | None = None
    box: BoundsSpec | None = None

    @model_validator(mode="after")
    def _one_bounds(self):
        _exactly_one(self, ("margin_mm", "box"), "grid bounds")
        if isinstance(self.spacing_mm, tuple) and not all(0.1 < s <= 10 for s in self.spacing_mm):
            raise ValueError("each spacing_mm must be in (0.1, 10] mm")
        return self

    @property
    def spacing_xyz_mm(self) -> tuple[float, float, float]:
        """Spacing as three values (x, y, z)."""
        s = self.spacing_mm
        return s if isinstance(s, tuple) else (s, s, s)


# --- anatomy --------------------------------------------------------------------------------


class LabelSpec(StrictModel):
    """One label of a label-map image: its integer value, a structure name and its tissue."""

    value: Annotated[int, Field(ge=1, le=65535)]
    name: Name
    tissue: str


class LabelmapSpec(StrictModel):
    """A label-map image (NIfTI ``.nii``/``.nii.gz`` or NRRD), path relative to the case file."""

    path: str
    labels: Annotated[list[LabelSpec], Field(min_length=1)]
    background_tissue: str

    @model_validator(mode="after")
    def _unique(self):
        for key in ("value", "name"):
            values = [getattr(label, key) for label in self.labels]
            if len(set(values)) != len(values):
                raise ValueError(f"labels: each {key} may appear only once")
        suffixes = (".nii", ".nii.gz", ".nrrd", ".nhdr")
        if not self.path.lower().endswith(suffixes):
            raise ValueError(f"path must end in one of {', '.join(suffixes)}")
        return self


class UniformSpec(StrictModel):
    """A uniform medium (gel or one tissue), for bench experiments."""

    tissue: str


class StructureSpec(StrictModel):
    """An analytic structure painted over the anatomy (later structures win)."""

    name: Name
    tissue: str
    shape: ShapeSpec


class AnatomySpec(StrictModel):
    """Base anatomy (exactly one of phantom, labelmap, uniform) plus extra structures."""

    phantom: PhantomSpec | None = None
    labelmap: LabelmapSpec | None = None
    uniform: UniformSpec | None = None
    structures: list[StructureSpec] = []

    @model_validator(mode="after")
    def _one_base(self):
        _exactly_one(self, ("phantom", "labelmap", "uniform"), "anatomy")
        return self


# --- tumour, protected structures, protection ------------------------------------------------

Phenotype = Literal["osteoblastic", "osteolytic", "soft_tissue", "mixed"]


class TumorComponentSpec(StrictModel):
    """A further part of the tumour (e.g. a soft-tissue extension) with its own phenotype."""

    phenotype: Phenotype
    shape: ShapeSpec

    @property
    def tissue_name(self) -> str:
        """The tissue painted for this part."""
        return f"tumor_{self.phenotype}"


class TumorSpec(StrictModel):
    """The target: an analytic ``shape`` or a ``label`` of the label map, and its phenotype.

    The phenotype selects the tissue (``tumor_<phenotype>``) unless ``tissue`` names another.
    ``components`` add further parts (the union is the target), each with its own phenotype.
    """

    name: Name = "tumor"
    phenotype: Phenotype
    shape: ShapeSpec | None = None
    label: Annotated[int, Field(ge=1, le=65535)] | None = None
    tissue: str | None = None
    components: Annotated[list[TumorComponentSpec], Field(max_length=8)] = []

    @model_validator(mode="after")
    def _one_geometry(self):
        _exactly_one(self, ("shape", "label"), "tumor")
        return self

    @property
    def tissue_name(self) -> str:
        """The tissue painted for the tumour."""
        return self.tissue or f"tumor_{self.phenotype}"


class ProtectedSpec(StrictModel):
    """A structure that must stay warmer than ``min_temperature_c`` (the limit).

    ``goal_temperature_c`` (≥ the limit) is worth reaching but not required.
    """

    structure: Name
    min_temperature_c: TemperatureC = 10.0
    goal_temperature_c: TemperatureC | None = None
    needle_passable: bool = False

    @model_validator(mode="after")
    def _goal_above_limit(self):
        goal = self.goal_temperature_c
        if goal is not None and goal < self.min_temperature_c:
            raise ValueError("goal_temperature_c must be >= min_temperature_c")
        return self


class HydrodissectionSpec(StrictModel):
    """Fluid (saline/D5W) injected to displace a structure; optionally held warm."""

    type: Literal["hydrodissection"]
    name: Name
    shape: ShapeSpec
    fluid_temperature_c: Annotated[float, Field(ge=0, le=50)] = 37.0
    held_at_temperature: bool = False


class Co2Spec(StrictModel):
    """CO2 gas injected as an insulating layer (pneumodissection)."""

    type: Literal["co2"]
    name: Name
    shape: ShapeSpec


ProtectionSpec = Annotated[HydrodissectionSpec | Co2Spec, Field(discriminator="type")]


class ThermocoupleSpec(StrictModel):
    """A virtual thermocouple recording temperature over time at ``position_mm``."""

    name: Name
    position_mm: Vec3
    watches: Name | None = None


# --- access and probes ------------------------------------------------------------------------


class WindowSpec(StrictModel):
    """A skin-entry window: needles may enter the skin only inside ``region``.

    ``direction`` is the nominal insertion direction (LPS, into the body); with it, needles may
    deviate from it by at most ``max_angle_deg``.
    """

    name: Name
    region: ShapeSpec
    direction: Vec3 | None = None
    max_angle_deg: Annotated[float, Field(gt=0, le=90)] = 90.0

    @model_validator(mode="after")
    def _direction_nonzero(self):
        if self.direction is not None and sum(c * c for c in self.direction) < 1e-12:
            raise ValueError("direction must be a non-zero vector")
        return self


class AvoidSpec(StrictModel):
    """A structure no needle may cross or approach closer than ``clearance_mm``."""

    structure: Name
    clearance_mm: NonNegative = 0.0


class AccessSpec(StrictModel):
    """Where needles may go: entry windows, structures to avoid, depth limit, bone traversal."""

    windows: Annotated[list[WindowSpec], Field(min_length=1)]
    avoid: list[AvoidSpec] = []
    max_depth_mm: Annotated[float, Field(gt=0, le=300)] = 150.0
    allow_bone: bool = True


class EnvironmentSpec(StrictModel):
    """Starting tissue temperature and arterial blood temperature (°C)."""

    initial_temperature_c: Annotated[float, Field(ge=0, le=45)] = 37.0
    arterial_temperature_c: Annotated[float, Field(ge=0, le=45)] = 37.0


# --- variants -------------------------------------------------------------------------------


class VariantSpec(StrictModel):
    """A named alternative of the case to plan and compare (``optiprobe compare CASE``).

    Each given field replaces the case's section of the same meaning: ``probe_models`` replaces
    ``probes.models``; ``protocol``, ``protected`` and ``protection`` replace those sections.
    """

    name: Name
    description: str = ""
    probe_models: Annotated[list[str | CustomProbeSpec], Field(min_length=1)] | None = None
    protocol: ProtocolSpec | None = None
    protected: list[ProtectedSpec] | None = None
    protection: list[ProtectionSpec] | None = None


# --- the case -------------------------------------------------------------------------------


class Case(StrictModel):
    """A planning case. See ``docs/case-format.md`` for every field with an example."""

    schema_version: Literal[1] = 1
    name: Name
    description: str = ""
    grid: GridSpec
    anatomy: AnatomySpec
    tumor: TumorSpec
    protected: list[ProtectedSpec] = []
    access: AccessSpec
    probes: ProbesSpec
    protocol: ProtocolSpec
    protection: list[ProtectionSpec] = []
    thermocouples: list[ThermocoupleSpec] = []
    objectives: list[ObjectiveSpec] = Field(default_factory=default_objectives)
    environment: EnvironmentSpec = EnvironmentSpec()
    tissue_overrides: dict[str, dict[str, float]] = {}
    variants: Annotated[list[VariantSpec], Field(max_length=16)] = []

    @model_validator(mode="after")
    def _unique_variant_names(self):
        names = [v.name for v in self.variants]
        if len(set(names)) != len(names):
            raise ValueError("variants: each name may appear only once")
        return self
