"""Parametric phantoms: a registry of parameter models, each with ``build() -> Phantom``.

A case file names a phantom with ``anatomy.phantom.name``; ``PhantomSpec`` is the discriminated
union over the registered models, so an unknown name fails at load and lists the known ones.
Dimensions and their anatomical sources: ``docs/phantoms.md``.

Examples
--------
>>> from optiprobe.anatomy.phantoms import build_phantom
>>> phantom = build_phantom({"name": "lumbar_vertebra", "level": "L2"})
>>> phantom.structure("vertebral_body").tissue
'cancellous_bone'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

import numpy as np
from pydantic import Field, TypeAdapter

from optiprobe.anatomy.phantoms.acetabulum import AcetabulumSpec
from optiprobe.anatomy.phantoms.long_bone import LongBoneSpec
from optiprobe.anatomy.phantoms.lumbar_vertebra import LumbarVertebraSpec
from optiprobe.anatomy.phantoms.rib import RibSpec
from optiprobe.anatomy.phantoms.sacrum import SacrumSpec
from optiprobe.anatomy.structure import Phantom

__all__ = [
    "PHANTOM_MODELS",
    "AcetabulumSpec",
    "LongBoneSpec",
    "LumbarVertebraSpec",
    "PhantomSpec",
    "RibSpec",
    "SacrumSpec",
    "build_phantom",
    "tissue_at",
]

PHANTOM_MODELS: dict[str, type] = {
    "lumbar_vertebra": LumbarVertebraSpec,
    "acetabulum": AcetabulumSpec,
    "rib": RibSpec,
    "sacrum": SacrumSpec,
    "long_bone": LongBoneSpec,
}
"""Registry: phantom name → parameter model (a ``StrictModel`` with a ``build`` method)."""

PhantomSpec = Annotated[
    LumbarVertebraSpec | AcetabulumSpec | RibSpec | SacrumSpec | LongBoneSpec,
    Field(discriminator="name"),
]
"""Any registered phantom's parameters, chosen by the ``name`` field."""

_SPEC_ADAPTER: TypeAdapter[Any] = TypeAdapter(PhantomSpec)


def build_phantom(spec: PhantomSpec | Mapping[str, Any]) -> Phantom:
    """Build the phantom described by ``spec``.

    Parameters
    ----------
    spec : PhantomSpec or mapping
        A parameter model, or plain data such as ``{"name": "rib", "rib_number": 8}``; plain
        data is validated (pydantic ``ValidationError`` on unknown names or bad values).

    Returns
    -------
    Phantom
        Background tissue, structures in painting order and landmarks (LPS, mm).
    """
    model = spec if isinstance(spec, tuple(PHANTOM_MODELS.values())) else None
    if model is None:
        model = _SPEC_ADAPTER.validate_python(spec)
    return model.build()


def tissue_at(phantom: Phantom, points_mm: np.ndarray) -> np.ndarray:
    """Tissue name the painter gives each point, without a voxel grid.

    Paints in structure order: the last structure whose signed distance is <= 0 wins, else the
    phantom's background tissue (the rule the voxeliser applies at voxel centres).

    Parameters
    ----------
    phantom : Phantom
        The anatomy.
    points_mm : numpy.ndarray
        Shape ``(..., 3)``, LPS mm.

    Returns
    -------
    numpy.ndarray
        Shape ``(...)``, dtype object, tissue names.
    """
    points = np.asarray(points_mm, dtype=float)
    tissues = np.full(points.shape[:-1], phantom.background_tissue, dtype=object)
    for structure in phantom.structures:
        tissues[structure.shape.signed_distance(points) <= 0.0] = structure.tissue
    return tissues
