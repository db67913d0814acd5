"""Case variants: named overrides of probe models, protocol and protection (``variants:``).

:func:`apply_variant` gives the case as the variant describes it, validated and cross-checked
as a whole, so a variant naming an unknown probe model or structure fails at load like the
case itself.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator

from pydantic import ValidationError

from optiprobe.case.models import Case, VariantSpec
from optiprobe.errors import OptiprobeError

__all__ = ["apply_variant", "case_digest", "variant_problems"]


def _overrides(variant: VariantSpec) -> dict:
    data = variant.model_dump(mode="json", exclude={"name", "description"}, exclude_none=True)
    if "probe_models" in data:
        data["probes"] = {"models": data.pop("probe_models")}
    return data


def _variant_data(case: Case, variant: VariantSpec) -> dict:
    data = case.model_dump(mode="json", exclude={"variants"})
    overrides = _overrides(variant)
    if "probes" in overrides:
        data["probes"] = data["probes"] | overrides.pop("probes")
    data.update(overrides)
    data["name"] = f"{case.name}.{variant.name}"[:64]
    return data


def variant_problems(case: Case) -> Iterator[tuple[tuple, str, str | None]]:
    """Yield (location, message, allowed) for every variant that makes the case invalid."""
    from optiprobe.case.loading import _reference_problems

    for i, variant in enumerate(case.variants):
        try:
            variant_case = Case.model_validate(_variant_data(case, variant))
        except ValidationError as exc:
            error = exc.errors()[0]
            where = ".".join(map(str, error["loc"]))
            yield ("variants", i), f"variant {variant.name!r}: {where}: {error['msg']}", None
            continue
        for loc, message, allowed in _reference_problems(variant_case):
            where = ".".join(map(str, loc))
            yield ("variants", i), f"variant {variant.name!r} gives {where}: {message}", allowed


def apply_variant(case: Case, variant: VariantSpec, *, file=None) -> Case:
    """The case with ``variant``'s overrides applied (without ``variants``), named
    ``<case>.<variant>``.

    Raises
    ------
    OptiprobeError
        When the variant makes the case invalid (:func:`load_case` reports this at load).
    """
    try:
        return Case.model_validate(_variant_data(case, variant))
    except ValidationError as exc:
        raise OptiprobeError(
            f"variant {variant.name!r} is not a valid case: {exc.errors()[0]['msg']}",
            file=file,
            location="variants",
        ) from None


def case_digest(case: Case) -> str:
    """SHA-256 over the case and the solver's physics fingerprint: a planning run of an equal
    digest is reused by ``compare`` rather than planned again (the planner's random sampling
    is seeded, but CP-SAT under a time limit may return another plan of similar quality)."""
    from optiprobe.surrogate.fingerprint import fingerprint

    digest = hashlib.sha256(json.dumps(case.model_dump(mode="json"), sort_keys=True).encode())
    digest.update(fingerprint()["total"].encode())
    return digest.hexdigest()
