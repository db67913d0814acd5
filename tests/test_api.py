"""The top-level workflow API: every advertised name resolves, lazily."""

from __future__ import annotations

import pytest

import optiprobe


@pytest.mark.parametrize("name", optiprobe.__all__)
def test_every_api_name_resolves(name):
    assert callable(getattr(optiprobe, name))


def test_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'plan_cases'"):
        optiprobe.plan_cases  # noqa: B018
