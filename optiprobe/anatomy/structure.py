"""Named structures and parametric phantoms (anatomy before voxelisation)."""

from __future__ import annotations

from dataclasses import dataclass, field

from optiprobe.anatomy.shapes import Shape

__all__ = ["Phantom", "Structure"]


@dataclass(frozen=True)
class Structure:
    """A named region of one tissue.

    Structures are painted in order onto the tissue map (later ones win); a structure's mask is
    the region it still owns after painting, so nested shapes make shells (skin over fat) and a
    structure inside another is cut out of it (the cauda equina out of the dural sac).
    """

    name: str
    tissue: str
    shape: Shape


@dataclass(frozen=True)
class Phantom:
    """A parametric anatomy: background tissue, ordered structures and named landmarks.

    Parameters
    ----------
    name
        Registry name of the phantom (e.g. ``lumbar_vertebra``).
    background_tissue
        Tissue of every voxel no structure covers.
    structures
        Painted in order; names are unique.
    landmarks_mm
        Named points (LPS, mm) that scenarios use to place tumours and windows, e.g.
        ``posterior_wall_center``.
    """

    name: str
    background_tissue: str
    structures: tuple[Structure, ...]
    landmarks_mm: dict[str, tuple[float, float, float]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        names = [s.name for s in self.structures]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"phantom {self.name}: duplicate structure names {duplicates}")

    def structure(self, name: str) -> Structure:
        """The structure called ``name`` (KeyError if absent)."""
        for s in self.structures:
            if s.name == name:
                return s
        raise KeyError(name)
