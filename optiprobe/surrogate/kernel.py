"""The surrogate's inner loop: one probe's cold potential at many points.

:func:`probe_potential` is the per-probe kernel of :meth:`Surrogate.potential
<optiprobe.surrogate.model.Surrogate.potential>`. The forward pass compares squared distances to
all twelve shells and selects the bracketing pair with ``where`` chains, so only that pair needs
square roots and a division.

Its gradient is hand-written (``jax.custom_vjp``). Reverse-mode autodiff of the chains gave
every ``where`` and every level's parameters a cotangent, and XLA on the CPU ran each of the
hundreds of resulting reductions over the points as a pass of its own: a gradient cost 15-21
forward passes. Here the backward pass recomputes, per point, the derivatives of the value
along ζ, ρ², the knot weight and each medium weight (tangents selected by the same masks as the
pair; the selection itself is piecewise constant and has no gradient, as in autodiff of the
chains) and sums each against a basis of ten moments of the points in one matrix product; the
tip's and the axis's cotangents follow from those moments.

Two habits of XLA's CPU code generation (jax 0.10) shaped the code: every array that leaves
fused elementwise code is computed in a loop of its own, repeating whatever the arrays share
(here the shell selection); and a square root or division whose result two loops read is
written out, its inputs recomputed in each loop. Hence one loop per derivative, the elementary
1/√x and 1/x of the backward pass, and the division placed last in the forward value.

The potential is turned back into a temperature by
:class:`~optiprobe.surrogate.lookup.InverseTable`.

Both are pure functions of arrays and work under ``jax.jit``, ``jax.vmap`` and ``jax.grad``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.custom_derivatives import SymbolicZero

__all__ = ["probe_potential", "probe_potential_reference"]

# Beyond the warmest level (36 °C) the potential falls to zero over this distance (mm).
TAIL_MM = 6.0
_SQRT_EPS = 1e-6  # keeps the square root differentiable on the axis (mm²)
_MIN_GAP_MM = 1e-3  # smallest gap between the bracketing shells' distances used in the division


def _blend(weight, media, lower, upper):
    """Shell parameters (L, 5) at the probe's freeze time and medium weights.

    ``lower``/``upper`` (C, L, 5) are [z_lo, z_hi, s_lo, s_hi, R] of each medium class at the
    two bracketing knots; ``media`` (C,) weights the classes, ``weight`` () interpolates.
    """
    at_lower = jnp.einsum("clp,c->lp", lower, media)
    at_upper = jnp.einsum("clp,c->lp", upper, media)
    return (1 - weight) * at_lower + weight * at_upper, at_lower, at_upper


def _level_terms(params):
    """Per level: z·s products and slopes as used by the distance (tuple of (L,) arrays)."""
    z_lo, z_hi, s_lo, s_hi, radius = (params[:, a] for a in range(5))
    return z_lo * s_lo, s_lo, z_hi * s_hi, s_hi, radius


def _level_tangent(params, tangent):
    """A tangent (L, 5) of ``params`` as :func:`_select_pair` takes it (slopes of u, dR)."""
    z_lo, z_hi, s_lo, s_hi, _ = (params[:, a] for a in range(5))
    dz_lo, dz_hi, ds_lo, ds_hi, d_radius = (tangent[:, a] for a in range(5))
    # u = max(s_lo (z_lo − ζ), s_hi (ζ − z_hi), 0)
    d_lo = dz_lo * s_lo + (z_lo * ds_lo)
    d_hi = dz_hi * s_hi + (z_hi * ds_hi)

    def slope(k, zeta):
        return d_lo[k] - ds_lo[k] * zeta, ds_hi[k] * zeta - d_hi[k]

    return slope, d_radius


def _zeta_tangent(terms):
    """The derivative of u along ζ, as a tangent for :func:`_select_pair`."""
    s_lo, s_hi = terms[1], terms[3]
    return (lambda k, zeta: (-s_lo[k], s_hi[k])), None


def _geometry(points_mm, tip_mm, unit):
    """Axial coordinate ζ (q,), squared distance ρ² to the axis (q,) and offsets d (3 × (q,)).

    ρ² is the squared length of d minus its axial part (not |d|² − ζ², which loses digits near
    the axis in float32).
    """
    d = [points_mm[a] - tip_mm[a] for a in range(3)]
    zeta = unit[0] * d[0] + unit[1] * d[1] + unit[2] * d[2]
    e = [d[a] - zeta * unit[a] for a in range(3)]
    return zeta, e[0] * e[0] + e[1] * e[1] + e[2] * e[2], d, e


def _select_pair(zeta, rho2, terms, v_levels, tangents=()):
    """The bracketing shell pair of every point, and the tangents that go with it.

    The point is beyond shell k when its squared effective distance ``ρ² + u_k²`` reaches
    ``R_k²``; the pair is the last such shell and the next (or the tail beyond the warmest).
    Each tangent is a pair ``(slope, radius)``: ``slope(k, zeta)`` gives the tangents of the
    two branches of u_k (before and after the shell's axial extent), ``radius`` (L,) the
    tangent of R or None. Returns ``(pair, selected)``: pair = [u_lo, u_hi, R_lo, R_hi, V_lo,
    V_hi] and, per tangent, [du_lo, du_hi] (+ [dR_lo, dR_hi]) selected by the same masks.
    """
    zs_lo, s_lo, zs_hi, s_hi, radius = terms
    levels = radius.shape[-1]
    us, before = [], []
    for k in range(levels):
        a = zs_lo[k] - s_lo[k] * zeta
        b = s_hi[k] * zeta - zs_hi[k]
        us.append(jnp.maximum(jnp.maximum(a, b), 0.0))
        before.append(a > b)
    last = levels - 1
    level_v = [v_levels[k] for k in range(levels)] + [jnp.zeros((), v_levels.dtype)]
    radius_hi = [radius[k + 1] for k in range(last)] + [radius[last] + TAIL_MM]
    us.append(us[last])  # the tail beyond the warmest shell keeps that shell's shape
    index = [*range(levels), last]
    columns = []
    for slope, d_radius in tangents:
        du = [jnp.where(before[i], *slope(i, zeta)) for i in index]
        dr = [] if d_radius is None else [d_radius[i] for i in index]
        columns.append((du, dr))
    pair = [us[0], us[1], radius[0], radius[1], level_v[0], level_v[1]]
    selected = [du[:2] + dr[:2] for du, dr in columns]
    for k in range(1, levels):
        beyond = rho2 + us[k] * us[k] >= radius[k] * radius[k]
        new = [us[k], us[k + 1], radius[k], radius_hi[k], level_v[k], level_v[k + 1]]
        pair = [jnp.where(beyond, n, p) for n, p in zip(new, pair, strict=True)]
        for j, (du, dr) in enumerate(columns):
            new = du[k : k + 2] + dr[k : k + 2]
            selected[j] = [jnp.where(beyond, n, p) for n, p in zip(new, selected[j], strict=True)]
    return pair, selected


def _interpolate(rho2, u_lo, u_hi, r_lo, r_hi, v_lo, v_hi, present):
    """``present`` × V between the pair's levels by the point's relative position (q,).

    V = V_lo − (V_lo − V_hi)·clip(f_lo / gap, 0, 1), kept non-negative, with f = √d² − R the
    effective distance outside a shell and gap = max(f_lo − f_hi, 1 µm). It is written with the
    division last: XLA on the CPU writes out the result of a division that several loops read
    and recomputes in each loop everything after it; so each probe's potential is written out
    once, and the temperature lookup that reads it does not repeat the shell selection.
    """
    f_lo = jnp.sqrt(rho2 + u_lo * u_lo + _SQRT_EPS) - r_lo
    f_hi = jnp.sqrt(rho2 + u_hi * u_hi + _SQRT_EPS) - r_hi
    gap = jnp.maximum(f_lo - f_hi, _MIN_GAP_MM)
    numerator = v_lo * gap - (v_lo - v_hi) * jnp.clip(f_lo, 0.0, gap)
    return present * jnp.maximum(numerator, 0.0) / gap


def _rsqrt(x):
    """1/√x for x > 0 from elementary operations (three Newton steps from a bit-level guess;
    within a few float32 ulps). XLA on the CPU writes out every square root or division whose
    result is used twice and recomputes the selection feeding it; these it does not."""
    if x.dtype != jnp.float32:
        return 1.0 / jnp.sqrt(x)
    guess = jnp.int32(0x5F375A86) - jax.lax.shift_right_logical(
        jax.lax.bitcast_convert_type(x, jnp.int32), jnp.int32(1)
    )
    y = jax.lax.bitcast_convert_type(guess, jnp.float32)
    for _ in range(3):
        y = y * (1.5 - 0.5 * x * y * y)
    return y


def _reciprocal(x):
    """1/x for x > 0 from elementary operations (as :func:`_rsqrt`)."""
    if x.dtype != jnp.float32:
        return 1.0 / x
    guess = jnp.int32(0x7EF311C3) - jax.lax.bitcast_convert_type(x, jnp.int32)
    y = jax.lax.bitcast_convert_type(guess, jnp.float32)
    for _ in range(3):
        y = y * (2.0 - x * y)
    return y


def _distance_slopes(f_lo, f_hi, v_lo, v_hi):
    """dV/df_lo and dV/df_hi of :func:`_interpolate` (= −dV/dR_lo, −dV/dR_hi).

    They follow the conventions of autodiff of the same expressions (``clip`` and ``maximum``
    pass no gradient where they bind).
    """
    gap_raw = f_lo - f_hi
    gap = jnp.maximum(gap_raw, _MIN_GAP_MM)
    inverse = _reciprocal(gap)
    numerator = v_lo * gap - (v_lo - v_hi) * jnp.clip(f_lo, 0.0, gap)
    moving = (numerator > 0) & (f_lo > 0) & (f_lo < gap)
    d_raw = jnp.where(moving, v_hi - v_lo, 0.0) * inverse
    d_hi = jnp.where(gap_raw > _MIN_GAP_MM, d_raw * (f_lo * inverse), 0.0)
    return d_raw - d_hi, d_hi


def _potential(points_mm, tip_mm, unit, weight, media, lower, upper, v_levels, present):
    params, _, _ = _blend(weight, media, lower, upper)
    zeta, rho2, _, _ = _geometry(points_mm, tip_mm, unit)
    pair, _ = _select_pair(zeta, rho2, _level_terms(params), v_levels)
    return _interpolate(rho2, *pair, present)


@jax.custom_vjp
def probe_potential(points_mm, tip_mm, unit, weight, media, lower, upper, v_levels, present):
    """Cold potential V (q,) of one probe at points (3, q), times ``present``.

    Parameters
    ----------
    points_mm : (3, q) float32
        Query points (LPS, mm) of one medium.
    tip_mm, unit : (3,)
        Probe tip (mm) and unit axis from the tip towards the entry.
    weight : ()
        Interpolation weight between the two knots (freeze times) that bracket the probe's
        equivalent freeze time.
    media : (C,)
        Weights of the medium classes whose shells the probe's ice grows with.
    lower, upper : (C, L, 5)
        Per class and level, [z_lo, z_hi, s_lo, s_hi, R] (mm, mm, 1, 1, mm) at the two knots.
        Constants: no gradient is returned for them.
    v_levels : (L,)
        Potentials of the levels in the query points' medium (°C-equivalent); constants.
    present : ()
        1 for a probe, 0 for padding.

    Gradients with respect to points, tip, unit, weight, media and present are those of the
    plain formulation (:func:`probe_potential_reference`) up to float32 rounding.
    """
    return _potential(points_mm, tip_mm, unit, weight, media, lower, upper, v_levels, present)


def probe_potential_reference(*args):
    """The same function differentiated by plain autodiff (for tests and comparisons)."""
    return _potential(*args)


def _tangents(params, at_lower, at_upper, weight, lower, upper):
    """Tangents for :func:`_select_pair`: u along ζ, then the shell parameters along the knot
    weight and along each medium weight."""
    terms = _level_terms(params)
    directions = [at_upper - at_lower] + [
        (1 - weight) * lower[c] + weight * upper[c] for c in range(lower.shape[0])
    ]
    return [_zeta_tangent(terms)] + [_level_tangent(params, t) for t in directions]


def _slopes(points_mm, tip_mm, unit, weight, media, lower, upper, v_levels):
    """Per point (each (q,)): dV/dζ, dV/dρ² and [dV/d(knot weight), dV/d(each medium weight)].

    Square roots and divisions are elementary here (:func:`_rsqrt`, :func:`_reciprocal`; see
    :func:`_backward`).
    """
    params, at_lower, at_upper = _blend(weight, media, lower, upper)
    tangents = _tangents(params, at_lower, at_upper, weight, lower, upper)
    zeta, rho2, _, _ = _geometry(points_mm, tip_mm, unit)
    pair, selected = _select_pair(zeta, rho2, _level_terms(params), v_levels, tangents)
    u_lo, u_hi, r_lo, r_hi, v_lo, v_hi = pair
    x_lo = rho2 + u_lo * u_lo + _SQRT_EPS
    x_hi = rho2 + u_hi * u_hi + _SQRT_EPS
    inverse_lo, inverse_hi = _rsqrt(x_lo), _rsqrt(x_hi)
    d_lo, d_hi = _distance_slopes(x_lo * inverse_lo - r_lo, x_hi * inverse_hi - r_hi, v_lo, v_hi)
    du_lo, du_hi = d_lo * u_lo * inverse_lo, d_hi * u_hi * inverse_hi
    d_zeta = du_lo * selected[0][0] + du_hi * selected[0][1]
    d_rho2 = 0.5 * (d_lo * inverse_lo + d_hi * inverse_hi)
    along = [du_lo * s[0] + du_hi * s[1] - d_lo * s[2] - d_hi * s[3] for s in selected[1:]]
    return d_zeta, d_rho2, along


def _moments(points_mm):
    """The basis [1, p, p⊗p] (q, 10) of moments about the points' centre."""
    centre = jnp.mean(points_mm, axis=1)
    p = [points_mm[a] - centre[a] for a in range(3)]
    columns = [jnp.ones_like(p[0]), *p] + [p[a] * p[b] for a, b in _PAIRS]
    return jnp.stack(columns, axis=1)


_PAIRS = ((0, 0), (1, 1), (2, 2), (0, 1), (0, 2), (1, 2))


def _second_moment(moments):
    """The symmetric 3×3 matrix Σ w p⊗p from the last six moments."""
    m = [[None] * 3 for _ in range(3)]
    for (a, b), value in zip(_PAIRS, moments, strict=True):
        m[a][b] = m[b][a] = value
    return jnp.stack([jnp.stack(row) for row in m])


def _forward(*primals):
    # With symbolic zeros, each primal says whether it is differentiated ("perturbed"); the
    # backward pass computes only what those need (None marks the others, statically).
    args = tuple(p.value for p in primals)
    wanted = tuple(p.value if p.perturbed else None for p in primals)
    return _potential(*args), (args, wanted)


def _geometry_cotangents(points_mm, tip_mm, unit, x, y):
    """Cotangents of tip and unit from the moments of x = g·dV/dζ (4,) and y = g·dV/dρ² (10,)
    about the points' centre (:func:`_moments`): Σ x, Σ x·d, Σ y·d and Σ y·d⊗d about the tip
    (d = point − tip) follow from them."""
    centre = jnp.mean(points_mm, axis=1)
    t = tip_mm - centre
    y_d = y[1:4] - t * y[0]
    y_dd = _second_moment(y[4:]) - jnp.outer(y[1:4], t) - jnp.outer(t, y[1:4])
    y_dd = y_dd + y[0] * jnp.outer(t, t)
    y_e = y_d - unit * (unit @ y_d)  # Σ y e, e = d − ζ·unit, ζ = unit·d
    # dV/dtip = −(dV/dζ·unit + 2 dV/dρ²·e); dV/dunit = dV/dζ·d + dV/dρ²·∂ρ²/∂unit with
    # ∂ρ²/∂unit = −2(ζ e + (e·unit) d) = −2ζ((1 + o) d − ζ·unit), o = 1 − |unit|².
    g_tip = -(x[0] * unit + 2.0 * y_e)
    y_zeta_d = y_dd @ unit  # Σ y ζ d
    off = 1.0 - unit @ unit
    g_unit = (x[1:4] - t * x[0]) - 2.0 * (1.0 + off) * y_zeta_d
    return g_tip, g_unit + 2.0 * unit * (unit @ y_zeta_d)


def _backward(residuals, g):
    # Each per-point slope is recomputed in a loop of its own that ends in a matrix product
    # with the basis of moments, which sums it (see the module docstring). A sum over the
    # points is a product with the basis's first column, not jnp.sum, so that the loop is not
    # fused into a reduction (which XLA on the CPU runs unvectorised).
    args, wanted = residuals
    if isinstance(g, SymbolicZero):
        return (None,) * len(args)
    points_mm, tip_mm, unit, present = args[0], args[1], args[2], args[-1]
    d_zeta, d_rho2, along = _slopes(*args[:-1])
    scaled = present * g
    basis = _moments(points_mm)
    g_points = g_tip = g_unit = g_weight = g_media = g_present = None
    if any(w is not None for w in wanted[1:3]):
        x = (scaled * d_zeta) @ basis[:, :4]
        y = (scaled * d_rho2) @ basis
        g_tip, g_unit = _geometry_cotangents(points_mm, tip_mm, unit, x, y)
    if wanted[0] is not None:
        e = _geometry(points_mm, tip_mm, unit)[3]
        g_points = jnp.stack([scaled * (d_zeta * unit[a] + 2.0 * d_rho2 * e[a]) for a in range(3)])
    if wanted[3] is not None:
        g_weight = (scaled * along[0]) @ basis[:, 0]
    if wanted[4] is not None:
        g_media = jnp.stack([(scaled * a) @ basis[:, 0] for a in along[1:]])
    if wanted[-1] is not None:
        g_present = jnp.sum(g * _potential(*args[:-1], jnp.ones_like(present)))
    return (g_points, g_tip, g_unit, g_weight, g_media, None, None, None, g_present)


probe_potential.defvjp(_forward, _backward, symbolic_zeros=True)
