"""Fuzz the case loader: no input may end in anything but a clean OptiprobeError or a Case."""

from __future__ import annotations

import yaml
from conftest import MINIMAL_CASE
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optiprobe.case import Case, load_case
from optiprobe.errors import OptiprobeError

scalars = (
    st.none() | st.booleans() | st.integers(-(10**6), 10**6) | st.floats() | st.text(max_size=12)
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
BASE = yaml.safe_load(MINIMAL_CASE)


def _load(tmp_path, text: str) -> None:
    path = tmp_path / "fuzz.yaml"
    path.write_text(text, encoding="utf-8")
    try:
        assert isinstance(load_case(path), Case)
    except OptiprobeError as error:
        assert error.file is not None and error.message


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.text(max_size=200))
def test_arbitrary_text(tmp_path, text):
    _load(tmp_path, text)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.sampled_from(sorted(BASE)), values)
def test_one_section_replaced_by_random_data(tmp_path, key, value):
    data = dict(BASE, **{key: value})
    _load(tmp_path, yaml.safe_dump(data, allow_unicode=True))


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.sampled_from(sorted(BASE)), unique=True), st.binary(max_size=64))
def test_sections_removed_or_bytes_appended(tmp_path, removed, junk):
    data = {k: v for k, v in BASE.items() if k not in removed}
    path = tmp_path / "fuzz.yaml"
    path.write_bytes(yaml.safe_dump(data).encode() + junk)
    try:
        load_case(path)
    except OptiprobeError as error:
        assert error.message
