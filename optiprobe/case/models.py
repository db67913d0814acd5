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
from optiprobe.case.geometry import ShapeSpec

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

Name = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.+-]+$")]
TemperatureC = Annotated[float, Field(ge=-200, le=100)]
Minutes = Annotated[float, Field(gt=0, le=120)]


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


class ProbesSpec(StrictModel):
    """Allowed probe models (catalogue names or full definitions) and count/spacing limits."""

    models: Annotated[list[str | CustomProbeSpec], Field(min_length=1)]
    max_count: Annotated[int, Field(ge=1, le=16)] = 6
    min_spacing_mm: Annotated[float, Field(ge=0, le=100)] = 5.0
    max_spacing_mm: Annotated[float, Field(gt=0, le=200)] = 25.0

    @model_validator(mode="after")
    def _spacing_order(self):
        if self.min_spacing_mm >= self.max_spacing_mm:
            raise ValueError("min_spacing_mm must be below max_spacing_mm")
        return self

    @property
    def model_names(self) -> list[str]:
        """Names of the allowed models, catalogue or custom."""
        return [m if isinstance(m, str) else m.name for m in self.models]


class CoolingSpec(StrictModel):
    """Effective cooling law of a user-defined probe (see ``optiprobe.probes.CoolingLaw``)."""

    temperature_c: Annotated[float, Field(ge=-200, lt=0)]
    ramp_s: Annotated[float, Field(ge=0, le=600)] = 60.0
    max_power_w: Annotated[float, Field(gt=0, le=500)] | None = None


class CustomProbeSpec(StrictModel):
    """A fully user-defined probe model."""

    name: Name
    diameter_mm: Annotated[float, Field(ge=0.3, le=6)]
    active_length_mm: Annotated[float, Field(gt=0, le=100)]
    tip_offset_mm: Annotated[float, Field(ge=0, le=30)] = 0.0
    cooling: CoolingSpec
    description: str = "user-defined probe"


ProbesSpec.model_rebuild()


# --- protocol -------------------------------------------------------------------------------


class PhaseSpec(StrictModel):
    """One protocol phase: ``freeze`` or ``thaw`` (``passive``/``active``) for ``duration_min``."""

    kind: Literal["freeze", "thaw"]
    duration_min: Minutes
    thaw: Literal["passive", "active"] | None = None

    @model_validator(mode="after")
    def _thaw_type(self):
        if self.kind == "freeze" and self.thaw is not None:
            raise ValueError("thaw (passive/active) applies only to phases of kind 'thaw'")
        return self

    @property
    def thaw_mode(self) -> str | None:
        """``passive`` or ``active`` for a thaw phase (passive when not given), else None."""
        return None if self.kind == "freeze" else (self.thaw or "passive")


class ProtocolSpec(StrictModel):
    """Freeze–thaw cycles, and bounds the planner must keep each freeze duration within."""

    phases: Annotated[list[PhaseSpec], Field(min_length=1, max_length=12)]
    freeze_bounds_min: tuple[Minutes, Minutes] | None = None

    @model_validator(mode="after")
    def _valid(self):
        if self.phases[0].kind != "freeze":
            raise ValueError("the first phase must be a freeze")
        bounds = self.freeze_bounds_min
        if bounds is not None and bounds[0] > bounds[1]:
            raise ValueError("freeze_bounds_min must be [lower, upper] with lower <= upper")
        return self

    @property
    def freeze_durations_min(self) -> list[float]:
        """Durations of the freeze phases, in order."""
        return [p.duration_min for p in self.phases if p.kind == "freeze"]


# --- objectives -----------------------------------------------------------------------------


class IceMarginSpec(StrictModel):
    """Distance the ``isotherm_c`` surface reaches beyond the tumour surface, everywhere.

    The value reported is the minimum over the tumour surface; ``limit_mm`` must hold,
    ``goal_mm`` is worth reaching.
    """

    type: Literal["ice_margin"]
    isotherm_c: TemperatureC = 0.0
    limit_mm: Annotated[float, Field(ge=0, le=50)] = 3.0
    goal_mm: Annotated[float, Field(ge=0, le=50)] = 5.0

    @model_validator(mode="after")
    def _goal(self):
        if self.goal_mm < self.limit_mm:
            raise ValueError("goal_mm must be >= limit_mm")
        return self


class TumorCoverageSpec(StrictModel):
    """Fraction of tumour volume colder than a lethal isotherm.

    The limit requires ``min_fraction`` of the tumour below ``limit_isotherm_c``; the goal asks
    the same below the colder ``goal_isotherm_c``.
    """

    type: Literal["tumor_coverage"]
    limit_isotherm_c: TemperatureC = -20.0
    goal_isotherm_c: TemperatureC = -40.0
    min_fraction: Annotated[float, Field(gt=0, le=1)] = 0.99

    @model_validator(mode="after")
    def _goal(self):
        if self.goal_isotherm_c > self.limit_isotherm_c:
            raise ValueError("goal_isotherm_c must be at or below limit_isotherm_c")
        return self


ObjectiveSpec = Annotated[IceMarginSpec | TumorCoverageSpec, Field(discriminator="type")]


def _default_objectives() -> list:
    return [IceMarginSpec(type="ice_margin"), TumorCoverageSpec(type="tumor_coverage")]


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
    objectives: list[ObjectiveSpec] = Field(default_factory=_default_objectives)
    environment: EnvironmentSpec = EnvironmentSpec()
    tissue_overrides: dict[str, dict[str, float]] = {}
    variants: Annotated[list[VariantSpec], Field(max_length=16)] = []

    @model_validator(mode="after")
    def _unique_variant_names(self):
        names = [v.name for v in self.variants]
        if len(set(names)) != len(names):
            raise ValueError("variants: each name may appear only once")
        return self
