"""Probe cooling laws: the power cap, and the catalogue's fit to Littrup 2009 (slow)."""

from __future__ import annotations

import sys
from pathlib import Path

import jax.numpy as jnp
import numpy as np
import pytest

from optiprobe.thermal.sources import _power_cap

ROOT = Path(__file__).resolve().parents[1]


def test_power_cap_is_a_smooth_minimum():
    extracted = jnp.array([[1.0, 1.0], [10.0, 10.0], [40.0, 40.0]])  # W per sample, 3 probes
    factor = np.asarray(_power_cap(extracted, jnp.array([20.0, 20.0, 20.0])))
    assert factor[0] == pytest.approx(1.0, abs=1e-6)  # 2 W demanded: no cap
    assert factor[1] == pytest.approx(1.0, abs=0.1)  # at the cap: within the soft corner
    assert factor[2] * 80.0 == pytest.approx(20.0, rel=0.01)  # 80 W demanded: held at 20 W


def test_uncapped_probes_are_unaffected():
    factor = _power_cap(jnp.ones((2, 4)) * 50.0, jnp.array([np.inf, np.inf]))
    np.testing.assert_allclose(np.asarray(factor), 1.0)


@pytest.mark.slow
def test_catalogue_reproduces_littrup_single_probe():
    """cryo-2.4mm in 39 °C agar, 15 min: −30 °C diameter 12 mm (Littrup 2009), within 1 mm."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import calibrate_probes

    from optiprobe.probes import get_probe_model

    cooling = get_probe_model("cryo-2.4mm").cooling
    diameter = calibrate_probes.run("cryo-2.4mm", cooling.temperature_c, 1, cooling.max_power_w)
    assert diameter == pytest.approx(12.0, abs=1.0)
