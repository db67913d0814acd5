"""jax.grad through the whole protocol agrees with central finite differences (issue #4: 5 %).

Known defect (strict xfail: these turn red the day they pass, so the marker must then go): the
simulated response is not yet smooth in the probe position. A scan of the coverage score over one
voxel of tip motion shows steps of up to 0.03 per 0.1 voxel, in gel and in muscle, with forward
Euler and with RKL2, although the probe source itself is smooth voxel by voxel for a fixed
temperature field. Central differences therefore vary with the step (h = 0.05/0.1/0.2 voxel gave
−0.068/−0.052/−0.084 against AD −0.030 in muscle). Cause, found by ablation: the corners of the
enthalpy-temperature relation (the mushy interval is narrower than a voxel near the probe, so the
front advances as a staircase). See docs/solver.md.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import pytest
from test_thermal_simulate import SHORT, _plan

from optiprobe.anatomy.voxelize import voxelize
from optiprobe.case import load_case
from optiprobe.thermal.simulate import make_forward


@pytest.fixture(scope="module")
def forward(tmp_path_factory):
    path = tmp_path_factory.mktemp("grad") / "case.yaml"
    path.write_text(SHORT)
    case = load_case(path)
    volume = voxelize(case)
    forward = make_forward(case, volume, _plan(tip=(3.0, 0.0, -22.0), freeze=(1.5,)))
    tumor = jnp.asarray(volume.tumor_mask)

    def coverage(probes):
        """Smooth tumour fraction colder than −10 °C (a logistic of width 2 °C)."""
        final, _ = forward.run(probes, forward.data)
        cold = jax.nn.sigmoid((-10.0 - final.t_min) / 2.0)
        return jnp.sum(jnp.where(tumor, cold, 0.0)) / jnp.sum(tumor)

    return forward, jax.jit(coverage), jax.jit(jax.grad(coverage))


def _shift_tip_x(probes, delta_voxels):
    tips = probes.tips.at[0, 0].add(delta_voxels)
    entries = probes.entries.at[0, 0].add(delta_voxels)
    return dataclasses.replace(probes, tips=tips, entries=entries)


def _stretch_freeze(probes, delta_s):
    return dataclasses.replace(
        probes, freeze_windows_s=probes.freeze_windows_s.at[0, 0, 1].add(delta_s)
    )


_NOT_SMOOTH = pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason="forward model not yet smooth in probe position/duration (see module doc)",
)


@_NOT_SMOOTH
def test_gradient_wrt_tip_position_matches_finite_differences(forward):
    forward, coverage, gradient = forward
    grad = gradient(forward.probes)
    analytic = float(grad.tips[0, 0] + grad.entries[0, 0])  # moving the whole needle along x
    h = 0.2  # voxels
    numeric = (
        float(coverage(_shift_tip_x(forward.probes, h)))
        - float(coverage(_shift_tip_x(forward.probes, -h)))
    ) / (2 * h)
    assert abs(numeric) > 1e-3  # the score does depend on the position
    assert analytic == pytest.approx(numeric, rel=0.05)


@_NOT_SMOOTH
def test_gradient_wrt_freeze_duration_matches_finite_differences(forward):
    forward, coverage, gradient = forward
    analytic = float(gradient(forward.probes).freeze_windows_s[0, 0, 1])
    h = 5.0  # seconds
    numeric = (
        float(coverage(_stretch_freeze(forward.probes, h)))
        - float(coverage(_stretch_freeze(forward.probes, -h)))
    ) / (2 * h)
    assert numeric > 1e-5  # longer freeze, more coverage
    assert analytic == pytest.approx(numeric, rel=0.05)
