"""Parametric phantoms: registry, parameter validation, anatomy that can be wrong, painting."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from pydantic import TypeAdapter, ValidationError

from optiprobe.anatomy.phantoms import (
    PHANTOM_MODELS,
    AcetabulumSpec,
    LongBoneSpec,
    LumbarVertebraSpec,
    PhantomSpec,
    RibSpec,
    SacrumSpec,
    build_phantom,
    tissue_at,
)
from optiprobe.anatomy.phantoms._common import inset, ray_exit_mm

ALLOWED_TISSUES = {
    "muscle",
    "fat",
    "skin",
    "cortical_bone",
    "cancellous_bone",
    "red_marrow",
    "yellow_marrow",
    "intervertebral_disc",
    "cartilage",
    "spinal_cord",
    "nerve",
    "csf",
    "blood",
    "lung",
    "bowel",
}

REQUIRED = {
    "lumbar_vertebra": (
        {
            "vertebral_body",
            "vertebral_body_cortex",
            "pedicle_left",
            "pedicle_right",
            "spinal_canal",
            "dural_sac",
            "cauda_equina",
            "nerve_root_left",
            "nerve_root_right",
            "skin",
        },
        {
            "body_center",
            "posterior_wall_center",
            "canal_center",
            "pedicle_left_entry",
            "pedicle_right_entry",
            "skin_posterior",
        },
    ),
    "acetabulum": (
        {"acetabulum", "posterior_column", "femoral_head", "sciatic_nerve", "skin"},
        {"acetabular_roof", "posterior_column_center", "skin_posterior_lateral"},
    ),
    "rib": ({"rib", "intercostal_nerve", "lung", "skin"}, {"rib_mid", "skin_over_rib"}),
    "sacrum": (
        {
            "sacral_root_s1_left",
            "sacral_root_s1_right",
            "sacral_root_s2_left",
            "sacral_root_s2_right",
            "rectum",
            "skin",
        },
        {"s1_body_center", "s2_body_center", "skin_posterior"},
    ),
    "long_bone": (
        {"diaphysis", "medullary_canal", "sciatic_nerve", "skin"},
        {"diaphysis_center", "skin_lateral", "skin_anterior"},
    ),
}

# Landmark → tissue the painter must put there (default parameters).
EXPECTED_PAINT = {
    "lumbar_vertebra": {
        "body_center": "cancellous_bone",
        "posterior_wall_center": "cortical_bone",
        "canal_center": "nerve",
        "pedicle_left_center": "cancellous_bone",
        "pedicle_right_center": "cancellous_bone",
        "spinous_process_tip": "cortical_bone",
        "skin_posterior": "skin",
    },
    "acetabulum": {
        "hip_center": "cancellous_bone",
        "acetabular_roof": "cancellous_bone",
        "posterior_column_center": "cancellous_bone",
        "skin_posterior_lateral": "skin",
    },
    "rib": {
        "rib_mid": "cancellous_bone",
        "intercostal_nerve_mid": "nerve",
        "skin_over_rib": "skin",
    },
    "sacrum": {
        "s1_body_center": "cancellous_bone",
        "s2_body_center": "cancellous_bone",
        "s3_body_center": "cancellous_bone",
        "canal_s2": "nerve",
        "skin_posterior": "skin",
    },
    "long_bone": {
        "diaphysis_center": "yellow_marrow",
        "skin_lateral": "skin",
        "skin_anterior": "skin",
    },
}

LEVELS = ("L1", "L2", "L3", "L4", "L5")

# Every registered phantom with its defaults, plus the variants its parameters choose between.
VARIANTS = [
    *({"name": name} for name in PHANTOM_MODELS),
    *({"name": "lumbar_vertebra", "level": level} for level in LEVELS),
    {"name": "acetabulum", "side": "left"},
    *({"name": "rib", "rib_number": n, "side": "left"} for n in range(5, 11)),
    {"name": "long_bone", "bone": "humerus", "side": "left"},
]


def _ids(spec: dict) -> str:
    return "-".join(str(v) for v in spec.values())


@pytest.fixture(scope="module")
def defaults():
    return {name: model().build() for name, model in PHANTOM_MODELS.items()}


def _paint(phantom, name: str) -> str:
    return tissue_at(phantom, np.asarray(phantom.landmarks_mm[name]))[()]


def _sample_tube(tube, per_segment: int = 100) -> np.ndarray:
    """Points along a tube's centreline, shape (n, 3)."""
    vertices = np.asarray(tube.points_mm)
    t = np.linspace(0.0, 1.0, per_segment)[:, None]
    return np.concatenate([a + t * (b - a) for a, b in itertools.pairwise(vertices)])


# --- registry and validation ------------------------------------------------------------------


def test_registry_names_match_the_discriminator(defaults):
    for name, model in PHANTOM_MODELS.items():
        assert model().name == name
        assert defaults[name].name == name


def test_build_phantom_accepts_models_and_plain_data():
    from_data = build_phantom({"name": "rib", "rib_number": 9})
    from_model = build_phantom(RibSpec(rib_number=9))
    assert from_data == from_model


def test_union_picks_the_model_by_name():
    adapter = TypeAdapter(PhantomSpec)
    spec = adapter.validate_python({"name": "lumbar_vertebra", "level": "L2"})
    assert isinstance(spec, LumbarVertebraSpec)
    assert spec.level == "L2"


def test_union_rejects_unknown_phantom_and_lists_the_known_ones():
    with pytest.raises(ValidationError) as error:
        build_phantom({"name": "skull"})
    message = str(error.value)
    assert "skull" in message
    for name in PHANTOM_MODELS:
        assert name in message


@pytest.mark.parametrize(
    ("model", "kwargs"),
    [
        (LumbarVertebraSpec, {"level": "L9"}),
        (LumbarVertebraSpec, {"body_width_mm": -5.0}),
        (LumbarVertebraSpec, {"cortex_thickness_mm": 0.0}),
        (LumbarVertebraSpec, {"dural_sac_width_mm": 23.0}),  # wider than the L4 canal allows
        (LumbarVertebraSpec, {"colour": "red"}),
        (AcetabulumSpec, {"femoral_head_radius_mm": -1.0}),
        (AcetabulumSpec, {"side": "middle"}),
        (RibSpec, {"rib_number": 4}),
        (RibSpec, {"rib_number": 11}),
        (SacrumSpec, {"rectum_radius_mm": 0.0}),
        (LongBoneSpec, {"bone": "tibia"}),
        (LongBoneSpec, {"bone": "humerus", "cortex_thickness_mm": 9.5}),  # leaves no canal
    ],
)
def test_invalid_parameters_raise_validation_error(model, kwargs):
    with pytest.raises(ValidationError):
        model(**kwargs)


def test_cross_field_error_names_the_field():
    with pytest.raises(ValidationError, match="dural_sac_width_mm"):
        LumbarVertebraSpec(dural_sac_width_mm=23.0)


def test_specs_are_frozen():
    spec = LumbarVertebraSpec()
    with pytest.raises(ValidationError):
        spec.level = "L2"


# --- every phantom ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(REQUIRED))
def test_required_structures_and_landmarks(defaults, name):
    phantom = defaults[name]
    structures, landmarks = REQUIRED[name]
    assert structures <= {s.name for s in phantom.structures}
    assert landmarks <= set(phantom.landmarks_mm)
    assert len(phantom.structures) <= 32


@pytest.mark.parametrize("spec", VARIANTS, ids=_ids)
def test_tissues_known_and_bounds_inside_a_body_box(spec):
    phantom = build_phantom(spec)
    assert phantom.background_tissue in ALLOWED_TISSUES
    for structure in phantom.structures:
        assert structure.tissue in ALLOWED_TISSUES, structure.name
        lower, upper = structure.shape.bounds_mm()
        assert np.all(np.isfinite(lower)) and np.all(np.isfinite(upper)), structure.name
        assert np.all(np.abs(lower) < 300) and np.all(np.abs(upper) < 300), structure.name
        assert np.all(lower < upper), structure.name
    points = np.asarray(list(phantom.landmarks_mm.values()))
    assert np.all(np.isfinite(points)) and np.all(np.abs(points) < 300)


@pytest.mark.parametrize("name", sorted(EXPECTED_PAINT))
def test_landmarks_are_painted_with_the_expected_tissue(defaults, name):
    phantom = defaults[name]
    for landmark, tissue in EXPECTED_PAINT[name].items():
        assert _paint(phantom, landmark) == tissue, landmark


@pytest.mark.parametrize("spec", VARIANTS, ids=_ids)
def test_skin_and_fat_layers_are_not_painted_over(spec):
    """Rays from the origin: mid-skin paints skin and mid-fat paints fat in every direction."""
    model = TypeAdapter(PhantomSpec).validate_python(spec)
    phantom = model.build()
    outline = phantom.structure("skin").shape
    skin, fat = model.skin_thickness_mm, model.subcutaneous_fat_mm
    for angle, tilt in itertools.product(np.radians(np.arange(0, 360, 20)), (-0.3, 0.0, 0.3)):
        direction = (np.cos(angle), np.sin(angle), tilt)
        layers = [ray_exit_mm(inset(outline, d), (0, 0, 0), direction) for d in (0, skin)]
        layers.append(ray_exit_mm(inset(outline, skin + fat), (0, 0, 0), direction))
        mid_skin, mid_fat = 0.5 * (layers[0] + layers[1]), 0.5 * (layers[1] + layers[2])
        assert tissue_at(phantom, mid_skin)[()] == "skin", (spec, direction)
        assert tissue_at(phantom, mid_fat)[()] == "fat", (spec, direction)


# --- lumbar vertebra --------------------------------------------------------------------------


@pytest.mark.parametrize("level", LEVELS)
def test_lumbar_canal_lies_behind_the_body(level):
    phantom = LumbarVertebraSpec(level=level).build()
    depth = phantom.structure("vertebral_body_cortex").shape.size_mm[1]
    canal_depth = 2 * phantom.structure("spinal_canal").shape.radii_mm[1]
    offset = np.subtract(phantom.landmarks_mm["canal_center"], phantom.landmarks_mm["body_center"])
    assert offset[1] == pytest.approx(depth / 2 + canal_depth / 2, abs=1.0)
    assert abs(offset[0]) < 1.0 and abs(offset[2]) < 1.0


@pytest.mark.parametrize("level", LEVELS)
def test_lumbar_posterior_wall_is_cortex_with_an_epidural_gap(level):
    phantom = LumbarVertebraSpec(level=level).build()
    point = np.asarray(phantom.landmarks_mm["posterior_wall_center"])
    assert phantom.structure("vertebral_body_cortex").shape.signed_distance(point) <= 1.0
    assert phantom.structure("vertebral_body").shape.signed_distance(point) > 0.0
    gap = phantom.structure("dural_sac").shape.signed_distance(point)
    assert 0.0 < gap < 6.0


@pytest.mark.parametrize("level", LEVELS)
def test_lumbar_nerve_roots_run_clear_of_pedicles_and_body(level):
    phantom = LumbarVertebraSpec(level=level).build()
    body_half_width = phantom.structure("vertebral_body_cortex").shape.size_mm[0] / 2
    for side, sign in (("left", 1.0), ("right", -1.0)):
        root = phantom.structure(f"nerve_root_{side}").shape
        points = _sample_tube(root)
        for bone in (f"pedicle_{side}", "vertebral_body_cortex"):
            clearance = phantom.structure(bone).shape.signed_distance(points) - root.radius_mm
            assert clearance.min() > 0.0, (side, bone, clearance.min())
        pedicle_bottom = phantom.structure(f"pedicle_{side}").shape.bounds_mm()[0][2]
        lateral = points[sign * points[:, 0] > body_half_width]
        assert len(lateral) > 0, "the root must leave the canal laterally"
        assert np.all(lateral[:, 2] < pedicle_bottom), "exits below the pedicle"


@pytest.mark.parametrize("level", LEVELS)
def test_lumbar_pedicle_entries_are_posterior_bony_entry_points(level):
    phantom = LumbarVertebraSpec(level=level).build()
    body_back = phantom.structure("vertebral_body_cortex").shape.bounds_mm()[1][1]
    for side in ("left", "right"):
        entry = np.asarray(phantom.landmarks_mm[f"pedicle_{side}_entry"])
        center = np.asarray(phantom.landmarks_mm[f"pedicle_{side}_center"])
        assert entry[1] > body_back
        inward = entry + (center - entry) / np.linalg.norm(center - entry)
        assert tissue_at(phantom, inward)[()] in {"cortical_bone", "cancellous_bone"}
        assert tissue_at(phantom, entry + np.array([0.0, 3.0, 0.0]))[()] == "muscle"


@pytest.mark.parametrize("level", LEVELS)
def test_lumbar_skin_is_well_behind_the_canal(level):
    phantom = LumbarVertebraSpec(level=level).build()
    skin = np.asarray(phantom.landmarks_mm["skin_posterior"])
    canal = np.asarray(phantom.landmarks_mm["canal_center"])
    assert skin[1] - canal[1] >= 40.0
    assert tissue_at(phantom, skin)[()] == "skin"


def test_lumbar_l1_holds_the_spinal_cord_and_l2_the_cauda_equina():
    l1 = LumbarVertebraSpec(level="L1").build()
    names = {s.name for s in l1.structures}
    assert "spinal_cord" in names and "cauda_equina" not in names
    assert _paint(l1, "canal_center") == "spinal_cord"
    l2 = LumbarVertebraSpec(level="L2").build()
    assert "cauda_equina" in {s.name for s in l2.structures}


def test_lumbar_level_changes_dimensions_modestly():
    widths = [
        LumbarVertebraSpec(level=level).build().structure("vertebral_body").shape.size_mm[0]
        for level in LEVELS
    ]
    assert widths == sorted(widths)
    assert 1.0 < widths[-1] / widths[0] < 1.4


def test_lumbar_body_override_is_used():
    phantom = LumbarVertebraSpec(body_width_mm=55.0).build()
    assert phantom.structure("vertebral_body_cortex").shape.size_mm[0] == 55.0


# --- acetabulum -------------------------------------------------------------------------------


@pytest.mark.parametrize("side", ["left", "right"])
def test_acetabulum_sciatic_nerve_runs_behind_the_posterior_column(side):
    phantom = AcetabulumSpec(side=side).build()
    nerve = phantom.structure("sciatic_nerve").shape
    column = phantom.structure("posterior_column_cortex").shape
    points = _sample_tube(nerve)
    assert (column.signed_distance(points) - nerve.radius_mm).min() > 0.0
    center = np.asarray(phantom.landmarks_mm["posterior_column_center"])
    level = points[np.argmin(np.abs(points[:, 2] - center[2]))]
    assert level[1] > center[1] + 15.0


def test_acetabulum_roof_is_above_the_head_and_sides_mirror():
    right = AcetabulumSpec(side="right").build()
    left = AcetabulumSpec(side="left").build()
    head = right.structure("femoral_head").shape
    roof = np.asarray(right.landmarks_mm["acetabular_roof"])
    assert roof[2] > head.radius_mm + 2
    for name, point in right.landmarks_mm.items():
        mirrored = np.asarray(left.landmarks_mm[name]) * np.array([-1.0, 1.0, 1.0])
        np.testing.assert_allclose(mirrored, point, atol=1e-6)
    lateral = np.asarray(right.landmarks_mm["skin_posterior_lateral"])
    assert lateral[0] < 0 and lateral[1] > 0  # right hip: lateral is -x, posterior is +y


def test_acetabulum_head_sits_in_cartilage_inside_the_socket():
    phantom = AcetabulumSpec().build()
    spec = AcetabulumSpec()
    just_outside_head = np.array([0.0, 0.0, spec.femoral_head_radius_mm + 1.0])
    assert tissue_at(phantom, just_outside_head)[()] == "cartilage"
    above_socket = np.array([0.0, 0.0, spec.socket_radius_mm + 2.0])
    assert tissue_at(phantom, above_socket)[()] in {"cortical_bone", "cancellous_bone"}


@pytest.mark.parametrize("side", ["left", "right"])
def test_acetabular_roof_covers_the_head_to_a_normal_centre_edge_angle(side):
    """Bone just outside the socket at 20° from vertical (lateral), none at 50° (CE ≈ 25–40°)."""
    spec = AcetabulumSpec(side=side)
    phantom = spec.build()
    lateral = 1.0 if side == "left" else -1.0
    radius = spec.socket_radius_mm + 1.5
    for angle_deg, bone in ((20.0, True), (50.0, False)):
        a = np.radians(angle_deg)
        point = radius * np.array([lateral * np.sin(a), 0.0, np.cos(a)])
        tissue = tissue_at(phantom, point)[()]
        assert (tissue in {"cortical_bone", "cancellous_bone"}) is bone, (angle_deg, tissue)


# --- rib --------------------------------------------------------------------------------------


@pytest.mark.parametrize("rib_number", range(5, 11))
def test_rib_intercostal_nerve_lies_below_the_rib(rib_number):
    phantom = RibSpec(rib_number=rib_number).build()
    rib = phantom.structure("rib_cortex").shape
    nerve = phantom.structure("intercostal_nerve").shape
    mid = np.asarray(phantom.landmarks_mm["rib_mid"])
    vertices = np.asarray(nerve.points_mm)
    nearest = vertices[np.argmin(np.linalg.norm(vertices[:, :2] - mid[:2], axis=1))]
    assert nearest[2] < mid[2] - rib.radius_mm
    clearance = rib.signed_distance(_sample_tube(nerve)) - nerve.radius_mm
    assert clearance.min() > 0.0


def test_rib_lung_lies_deep_to_the_rib_and_ribs_are_spaced():
    spec = RibSpec(side="left")
    phantom = spec.build()
    mid = np.asarray(phantom.landmarks_mm["rib_mid"])
    radius = phantom.structure("rib_cortex").shape.radius_mm
    inward = mid - np.array([radius + 3.0, 0.0, 0.0])  # left side: the lung is towards -x
    assert tissue_at(phantom, inward)[()] == "lung"
    above = np.asarray(phantom.structure("rib_above").shape.points_mm)
    below = np.asarray(phantom.structure("rib_below").shape.points_mm)
    assert np.all(above[:, 2] > below[:, 2] + spec.rib_spacing_mm)


# --- sacrum -----------------------------------------------------------------------------------


def test_sacrum_segments_descend_and_tilt_backwards(defaults):
    marks = {k: np.asarray(v) for k, v in defaults["sacrum"].landmarks_mm.items()}
    s1, s2, s3 = marks["s1_body_center"], marks["s2_body_center"], marks["s3_body_center"]
    assert s1[2] > s2[2] > s3[2]
    assert s1[1] < s2[1] < s3[1]
    assert marks["skin_posterior"][1] > marks["canal_s2"][1] + 20


def test_sacrum_roots_leave_anterolaterally(defaults):
    """Each root ends lateral to its body and ventral to its anterior surface (sacral frame)."""
    phantom = defaults["sacrum"]
    sides = (("left", 1.0), ("right", -1.0))
    for segment, (side, sign) in itertools.product(("s1", "s2"), sides):
        path = np.asarray(phantom.structure(f"sacral_root_{segment}_{side}").shape.points_mm)
        body = phantom.structure(f"{segment}_body_cortex").shape
        dorsal = np.asarray(body.axes[2])
        end = path[-1] - np.asarray(body.center_mm)
        assert sign * end[0] > body.size_mm[0] / 2
        assert end @ dorsal < -body.size_mm[2] / 2
        assert path[-1, 2] < path[0, 2]  # running caudally


def test_sacrum_rectum_is_anterior_to_s3(defaults):
    phantom = defaults["sacrum"]
    rectum = phantom.structure("rectum").shape
    s3_front = phantom.structure("s3_body_cortex").shape
    start = np.asarray(rectum.start_mm)
    assert start[1] < np.asarray(phantom.landmarks_mm["s3_body_center"])[1]
    assert s3_front.signed_distance(start) > rectum.radius_mm


# --- long bone --------------------------------------------------------------------------------


@pytest.mark.parametrize("bone", ["femur", "humerus"])
def test_long_bone_cortex_is_3_to_8_mm(bone):
    phantom = LongBoneSpec(bone=bone).build()
    outer = phantom.structure("diaphysis").shape.radius_mm
    inner = phantom.structure("medullary_canal").shape.radius_mm
    assert 3.0 <= outer - inner <= 8.0


def test_femur_sciatic_nerve_is_posterior(defaults):
    phantom = defaults["long_bone"]
    points = _sample_tube(phantom.structure("sciatic_nerve").shape)
    radius = phantom.structure("diaphysis").shape.radius_mm
    assert np.all(points[:, 1] > radius + 15)


def test_humerus_radial_nerve_winds_round_the_shaft_in_contact():
    phantom = LongBoneSpec(bone="humerus", side="left").build()
    nerve = phantom.structure("radial_nerve").shape
    bone = phantom.structure("diaphysis").shape
    points = _sample_tube(nerve)
    gap = bone.signed_distance(points) - nerve.radius_mm
    assert gap.min() > 0.0 and gap.min() < 1.0  # lies on the bone in the radial groove
    proximal, distal = points[0], points[-1]
    assert proximal[0] < 0 < distal[0]  # medial (left arm: -x) above, lateral below
    mid = points[np.argmin(np.abs(points[:, 2]))]
    assert mid[1] > 0  # posterior at mid-shaft
