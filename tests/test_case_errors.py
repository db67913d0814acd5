"""Bad input: every error names the file, the field or line, what was found and what is allowed."""

from __future__ import annotations

import pytest
from conftest import MINIMAL_CASE

from optiprobe.anatomy.voxelize import voxelize
from optiprobe.case import load_case
from optiprobe.errors import OptiprobeError


def _error(path) -> OptiprobeError:
    with pytest.raises(OptiprobeError) as info:
        voxelize(load_case(path))
    return info.value


def test_minimal_case_loads_and_voxelises(write_case):
    case = load_case(write_case())
    volume = voxelize(case)
    assert case.name == "gel_single_probe"
    assert volume.tissue_names == ("agar_gel", "tumor_soft_tissue")
    # A sphere of 8 mm radius is 2.14 ml; 2 mm voxels resolve it to within about 15 %.
    assert volume.volume_ml("tumor") == pytest.approx(4 / 3 * 3.14159 * 0.8**3, rel=0.15)
    assert [o.type for o in case.objectives] == ["ice_margin", "tumor_coverage"]


def test_missing_file_reports_resolved_path(tmp_path):
    error = _error(tmp_path / "nope.yaml")
    assert "file not found" in error.message
    assert str((tmp_path / "nope.yaml").resolve()) in error.format()


def test_malformed_yaml_reports_line_and_column(write_case):
    path = write_case(MINIMAL_CASE.replace("  spacing_mm: 2.0", "  spacing_mm: [2.0, 2.0"))
    error = _error(path)
    assert error.file == path
    assert "malformed YAML" in error.message
    assert error.location.startswith("line ")
    assert "column" in error.location
    assert "indented by the same number of spaces" in error.allowed  # what YAML expects


def test_schema_violation_reports_field_value_and_allowed(write_case):
    path = write_case(MINIMAL_CASE.replace("radius_mm: 8", "radius_mm: -3"))
    error = _error(path)
    assert error.location.startswith("tumor.shape.radius_mm (line 11, column")
    assert "-3" in error.message
    assert error.allowed == "a value > 0"


def test_unknown_field_is_rejected_with_its_path(write_case):
    path = write_case(MINIMAL_CASE.replace("  max_count: 4", "  max_count: 4\n  colour: blue"))
    error = _error(path)
    assert error.location.startswith("probes.colour")
    assert error.message.startswith("unknown field 'colour'")


def test_unknown_shape_type_lists_known_types(write_case):
    path = write_case(
        MINIMAL_CASE.replace(
            "type: sphere, center_mm: [0, 0, 0]", "type: cube, center_mm: [0, 0, 0]"
        )
    )
    error = _error(path)
    assert error.location.startswith("tumor.shape")
    for name in ("sphere", "ellipsoid", "box", "cylinder", "capsule", "tube"):
        assert name in error.allowed


def test_unknown_tissue_lists_known_tissues(write_case):
    error = _error(write_case(MINIMAL_CASE.replace("tissue: agar_gel", "tissue: jelly")))
    assert error.location.startswith("anatomy.uniform.tissue (line 8")
    assert "jelly" in error.message
    assert "agar_gel" in error.allowed and "muscle" in error.allowed


def test_unknown_probe_model_lists_catalogue(write_case):
    error = _error(write_case(MINIMAL_CASE.replace("[cryo-2.4mm]", "[acme-9000]")))
    assert error.location.startswith("probes.models[0]")
    assert "cryo-17g-rod" in error.allowed


def test_unknown_protected_structure_lists_known_structures(write_case):
    text = MINIMAL_CASE + "protected:\n  - structure: spinal_cord\n"
    error = _error(write_case(text))
    assert error.location.startswith("protected[0].structure (line")
    assert "tumor" in error.allowed


def test_both_grid_bounds_rejected(write_case):
    text = MINIMAL_CASE.replace(
        "  margin_mm: 20", "  margin_mm: 20\n  box: {min_mm: [0, 0, 0], max_mm: [1, 1, 1]}"
    )
    error = _error(write_case(text))
    assert "exactly one of margin_mm, box" in error.message


def test_empty_tumour_says_so(write_case):
    error = _error(write_case(MINIMAL_CASE.replace("radius_mm: 8", "radius_mm: 0.4")))
    assert "covers no voxel" in error.message
    assert "finer grid" in error.allowed


def test_tumour_outside_grid_says_so(write_case):
    text = MINIMAL_CASE.replace(
        "  margin_mm: 20", "  box: {min_mm: [-5, -20, -20], max_mm: [20, 20, 20]}"
    )
    error = _error(write_case(text))
    assert "outside" in error.message and error.location == "grid"


def test_missing_labelmap_reports_resolved_path(write_case, tmp_path):
    text = MINIMAL_CASE.replace(
        "  uniform:\n    tissue: agar_gel",
        "  labelmap:\n    path: images/labels.nii.gz\n    background_tissue: muscle\n"
        "    labels: [{value: 1, name: bone, tissue: cortical_bone}]",
    )
    error = _error(write_case(text))
    assert str((tmp_path / "images" / "labels.nii.gz").resolve()) in error.message
    assert error.location.startswith("anatomy.labelmap.path (line")


def test_thermocouple_outside_grid(write_case):
    text = MINIMAL_CASE + "thermocouples:\n  - {name: tc1, position_mm: [0, 0, 500]}\n"
    error = _error(write_case(text))
    assert "outside the grid" in error.message
    assert error.location == "thermocouples[0].position_mm"


def test_top_level_must_be_mapping(write_case):
    error = _error(write_case("- just\n- a list\n"))
    assert "mapping" in error.message


def test_goal_must_be_above_limit(write_case):
    text = MINIMAL_CASE + ("objectives:\n  - {type: ice_margin, limit_mm: 5, goal_mm: 3}\n")
    error = _error(write_case(text))
    assert "goal_mm must be >= limit_mm" in error.message
    assert error.location.startswith("objectives[0]")


def test_tissue_override_applies_and_is_marked(write_case):
    text = MINIMAL_CASE + "tissue_overrides:\n  agar_gel: {conductivity_unfrozen_w_mk: 0.6}\n"
    volume = voxelize(load_case(write_case(text)))
    gel = volume.tissues[0]
    assert gel.conductivity_unfrozen_w_mk.value == 0.6
    assert gel.conductivity_unfrozen_w_mk.confidence == "case"


def test_unknown_tissue_override_property(write_case):
    text = MINIMAL_CASE + "tissue_overrides:\n  agar_gel: {conductivity: 0.6}\n"
    error = _error(write_case(text))
    assert error.location.startswith("tissue_overrides.agar_gel.conductivity")
    assert "conductivity_unfrozen_w_mk" in error.allowed


def test_rounded_axes_are_accepted_and_made_exact(write_case):
    text = MINIMAL_CASE.replace(
        "shape: {type: sphere, center_mm: [0, 0, 0], radius_mm: 8}",
        "shape: {type: ellipsoid, center_mm: [0, 0, 0], radii_mm: [8, 6, 5],"
        " axes: [[1, 0, 0], [0, 0.9003, 0.4352], [0, -0.4352, 0.9003]]}",
    )
    volume = voxelize(load_case(write_case(text)))
    assert volume.tumor_mask.any()


def test_non_orthonormal_axes_rejected(write_case):
    text = MINIMAL_CASE.replace(
        "shape: {type: sphere, center_mm: [0, 0, 0], radius_mm: 8}",
        "shape: {type: box, center_mm: [0, 0, 0], size_mm: [8, 6, 5],"
        " axes: [[1, 0, 0], [0, 1, 0], [0, 1, 0]]}",
    )
    error = _error(write_case(text))
    assert "orthonormal" in error.message
    assert error.location.startswith("tumor.shape.axes")


def test_misspelt_field_is_reported_first_with_a_suggestion(write_case):
    error = _error(write_case(MINIMAL_CASE.replace("  spacing_mm: 2.0", "  spacng_mm: 2.0")))
    assert error.location.startswith("grid.spacng_mm (line")
    assert "unknown field 'spacng_mm' (did you mean 'spacing_mm'?)" in error.message
    assert "grid.spacing_mm" in error.message  # the missing field is listed too


def test_british_spelling_of_tumor_gets_a_suggestion(write_case):
    error = _error(write_case(MINIMAL_CASE.replace("tumor:", "tumour:")))
    assert "did you mean 'tumor'?" in error.message


def test_duplicate_key_is_an_error_with_both_lines(write_case):
    error = _error(
        write_case(MINIMAL_CASE.replace("  margin_mm: 20", "  margin_mm: 20\n  margin_mm: 150"))
    )
    assert "appears twice" in error.message and "line 5" in error.message
    assert error.location.startswith("line 6")


@pytest.mark.parametrize("value", [".inf", ".nan", "-.inf"])
def test_non_finite_numbers_rejected(write_case, value):
    error = _error(
        write_case(MINIMAL_CASE.replace("center_mm: [0, 0, 0]", f"center_mm: [0, {value}, 0]"))
    )
    assert error.location.startswith("tumor.shape.center_mm[1]")
    assert "finite" in error.message


def test_folder_instead_of_file(tmp_path):
    error = _error(tmp_path)
    assert "is a folder, not a file" in error.message


def test_no_pydantic_jargon_in_locations(write_case):
    error = _error(write_case(MINIMAL_CASE.replace("  spacing_mm: 2.0", "  spacing_mm: -2.0")))
    assert error.location.startswith("grid.spacing_mm (line")
    assert "constrained" not in error.format() and "Value error" not in error.format()


def test_oversized_grid_is_a_clear_error(write_case):
    text = MINIMAL_CASE.replace("spacing_mm: 2.0", "spacing_mm: 0.11").replace(
        "margin_mm: 20", "margin_mm: 200"
    )
    error = _error(write_case(text))
    assert "voxels" in error.message and error.location == "grid"
    assert "60,000,000" in error.allowed


@pytest.mark.parametrize(
    ("addition", "location", "words"),
    [
        (
            "protected:\n  - {structure: tumor_x}\n",
            "protected[0].structure",
            "no structure",
        ),
        (
            "thermocouples:\n  - {name: a, position_mm: [0, 0, 0]}\n"
            "  - {name: a, position_mm: [1, 0, 0]}\n",
            "thermocouples[1].name",
            "used twice",
        ),
    ],
)
def test_reference_problems(write_case, addition, location, words):
    error = _error(write_case(MINIMAL_CASE + addition))
    assert error.location.startswith(location)
    assert words in error.message


def test_avoiding_the_tumour_is_rejected(write_case):
    text = MINIMAL_CASE.replace("  windows:", "  avoid: [{structure: tumor}]\n  windows:")
    error = _error(write_case(text))
    assert error.location.startswith("access.avoid[0].structure")


def test_protocol_freeze_outside_its_own_bounds(write_case):
    text = MINIMAL_CASE.replace(
        "    - {kind: freeze, duration_min: 10}\n    - {kind: thaw",
        "    - {kind: freeze, duration_min: 30}\n    - {kind: thaw",
    ).replace("protocol:\n", "protocol:\n  freeze_bounds_min: [3, 15]\n")
    error = _error(write_case(text))
    assert error.location.startswith("protocol.phases[0].duration_min")
    assert "between 3 and 15 min" in error.allowed


def test_misspelt_optional_field_is_located_at_its_key_with_the_allowed_fields(write_case):
    """An optional field has no "missing" twin to suggest from: the schema gives the names, and
    the location is the key the user typed (line 18 of the minimal case, column 3)."""
    error = _error(write_case(MINIMAL_CASE.replace("  max_count: 4", "  max_cuont: 4")))
    assert "did you mean 'max_count'?" in error.message
    assert error.location == "probes.max_cuont (line 18, column 3)"
    assert error.allowed == "max_count, max_spacing_mm, min_spacing_mm, models"
