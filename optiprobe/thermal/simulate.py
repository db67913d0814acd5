"""``simulate``: run a plan's protocol on a voxelised case and return temperatures and status.

The grid's outer faces are held at the initial temperature (the far field of a body or a gel
bath), and hydrodissection fluid marked ``held_at_temperature`` is held at its fluid temperature.
Time steps are explicit, of the largest stable size for the tissues present; the loop is a
``lax.scan`` over chunks, between which thermocouples are recorded. Traced code never raises:
``simulate`` checks the result is finite and returns a :class:`SolverStatus`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from optiprobe.anatomy.volume import Volume
from optiprobe.case.models import Case
from optiprobe.case.plan import Plan
from optiprobe.errors import OptiprobeError, SolverStatus
from optiprobe.probes import get_probe_model
from optiprobe.thermal.material import (
    Material,
    enthalpy,
    material_from_volume,
    temperature,
)
from optiprobe.thermal.operators import stable_explicit_dt
from optiprobe.thermal.schedule import ACTIVE_THAW_SURFACE_C, timeline
from optiprobe.thermal.sources import (
    ProbeArrays,
    bspline_stencil,
    make_probe_source,
    sample_points,
)
from optiprobe.thermal.stepping import Fixed, ThermalState, make_rkl2_step, make_step, rkl2_factor
from optiprobe.units import mm_to_m

__all__ = ["Forward", "ForwardData", "ThermalResult", "make_forward", "probe_arrays", "simulate"]

_SAMPLES_PER_MM = 1.0  # rings along the active zone per mm
_RING_POINTS = 8


@dataclass(frozen=True)
class ThermalResult:
    """What a simulation produced (numpy arrays, °C, seconds).

    Attributes
    ----------
    t_min_c, t_final_c : (nx, ny, nz) float32
        Minimum temperature reached and temperature at the end.
    sensor_times_s : (m,) float
        Times at which thermocouples were recorded.
    sensors_c : dict name → (m,) float
        Thermocouple temperatures.
    structure_min_c : dict name → (m,) float
        Coldest temperature of each protected structure at each recording time.
    status : SolverStatus
    dt_s : float
        Time step used.
    n_steps : int
    stages : int
        Right-hand-side evaluations per step (1 for forward Euler, s for RKL2).
    """

    t_min_c: np.ndarray
    t_final_c: np.ndarray
    sensor_times_s: np.ndarray
    sensors_c: dict[str, np.ndarray]
    structure_min_c: dict[str, np.ndarray]
    status: SolverStatus
    dt_s: float
    n_steps: int
    stages: int


def probe_arrays(plan: Plan, case: Case, volume: Volume) -> tuple[ProbeArrays, float]:
    """Kernel arrays of a plan's probes (index coordinates, SI) and the protocol length (s)."""
    protocol = plan.protocol or case.protocol
    custom = {m.name: m for m in case.probes.models if not isinstance(m, str)}
    models = [custom.get(p.model) or get_probe_model(p.model) for p in plan.probes]
    defaults = protocol.freeze_durations_min
    freeze = np.array([p.freeze_min or defaults for p in plan.probes], dtype=float)
    times = timeline(protocol, freeze)
    grid = volume.grid
    to_index = lambda key: grid.world_to_index(np.array([getattr(p, key) for p in plan.probes]))  # noqa: E731
    cooling = [m.cooling for m in models]
    return ProbeArrays(
        tips=jnp.asarray(to_index("tip_mm")),
        entries=jnp.asarray(to_index("entry_mm")),
        radius_m=jnp.asarray([mm_to_m(m.diameter_mm / 2) for m in models]),
        tip_offset_m=jnp.asarray([mm_to_m(m.tip_offset_mm) for m in models]),
        active_length_m=jnp.asarray([mm_to_m(m.active_length_mm) for m in models]),
        surface_c=jnp.asarray([c.temperature_c for c in cooling]),
        ramp_s=jnp.asarray([c.ramp_s for c in cooling]),
        freeze_windows_s=jnp.asarray(times.freeze_windows_s),
        thaw_windows_s=jnp.asarray(times.thaw_windows_s),
        thaw_surface_c=jnp.asarray(ACTIVE_THAW_SURFACE_C),
        max_power_w=jnp.asarray(
            [np.inf if c.max_power_w is None else c.max_power_w for c in cooling]
        ),
    ), times.total_s


def _fixed(case: Case, volume: Volume) -> Fixed:
    shape = volume.grid.shape
    mask = np.zeros(shape, dtype=bool)
    mask[[0, -1], :, :] = mask[:, [0, -1], :] = mask[:, :, [0, -1]] = True
    value = np.full(shape, case.environment.initial_temperature_c, dtype=np.float32)
    for region in case.protection:
        if region.type == "hydrodissection" and region.held_at_temperature:
            held = volume.masks[region.name]
            mask |= held
            value[held] = region.fluid_temperature_c
    return Fixed(jnp.asarray(mask), jnp.asarray(value))


def _max_diffusivity(material: Material) -> float:
    present = np.unique(np.asarray(material.index))
    k = np.maximum(np.asarray(material.k_frozen), np.asarray(material.k_unfrozen))[present]
    c = np.minimum(np.asarray(material.c_frozen), np.asarray(material.c_unfrozen))[present]
    return float(np.max(k / c))


def _stages_for(max_step_s: float, dt_explicit: float) -> int:
    """Fewest RKL2 stages whose stable step reaches ``max_step_s`` (2 = plain explicit-like)."""
    stages = 2
    while 0.9 * rkl2_factor(stages) * dt_explicit < max_step_s and stages < 64:
        stages += 1
    return stages


@jax.tree_util.register_dataclass
@dataclass(frozen=True)
class ForwardData:
    """The grid-sized inputs of a simulation, passed to ``run`` as arguments.

    Passing them as arguments rather than closing over them keeps megabytes of constants out of
    the compiled program (compilation took 6.4 s with them embedded on the L4 grid).
    """

    material: Material
    fixed: Fixed
    structures: jax.Array  # (n_structures, n_voxels) bool
    sensor_index: tuple[jax.Array, jax.Array, jax.Array]


@dataclass(frozen=True)
class Forward:
    """A built simulation: ``run(probes, data) -> (final state, (sensors, structure minima))``.

    ``run`` is a pure JAX function of the probe arrays (tips, entries, freeze windows, …) and
    of ``data`` (the grid-sized inputs), so it can be jitted, vmapped and differentiated; each
    recording chunk is checkpointed, so reverse mode keeps one state per chunk rather than one
    per step. ``advance(state, probes, data, records)`` runs ``records`` chunks from ``state``
    (``initial(data)`` is the resting state), so a long run can be cut into pieces that report
    progress.
    """

    run: Callable
    advance: Callable
    initial: Callable
    probes: ProbeArrays
    data: ForwardData
    material: Material
    dt_s: float
    stages: int
    steps_per_record: int
    n_records: int


def make_forward(
    case: Case,
    volume: Volume,
    plan: Plan,
    *,
    record_every_s: float = 10.0,
    dt_s: float | None = None,
    max_step_s: float = 5.0,
) -> Forward:
    """Build the simulation of ``plan`` on ``volume`` (see :func:`simulate` for the options)."""
    material = material_from_volume(volume)
    spacing_m = tuple(mm_to_m(s) for s in volume.grid.spacing_mm)
    limit = stable_explicit_dt(_max_diffusivity(material), spacing_m)
    if dt_s is not None and dt_s > limit:
        raise OptiprobeError(
            f"time step {dt_s:g} s exceeds the explicit stability limit {limit:.4g} s",
            allowed=f"dt_s <= {limit:.4g} s, or leave it unset",
        )
    if dt_s is None:
        stages = _stages_for(max_step_s, limit)
        dt = min(max_step_s, 0.9 * rkl2_factor(stages) * limit)
    else:
        stages, dt = 1, dt_s
    probes, total_s = probe_arrays(plan, case, volume)
    n_samples = max(
        4, int(np.ceil(float(np.max(probes.active_length_m)) * 1000 * _SAMPLES_PER_MM))
    )
    steps_per_record = max(1, round(record_every_s / dt))
    n_records = int(np.ceil(total_s / (dt * steps_per_record)))
    if volume.protected:
        stacked = np.stack([volume.masks[n] for n in volume.protected])
    else:
        stacked = np.zeros((0, volume.grid.n_voxels), dtype=bool)
    data = ForwardData(
        material=material,
        fixed=_fixed(case, volume),
        structures=jnp.asarray(stacked.reshape(len(volume.protected), volume.grid.n_voxels)),
        sensor_index=_sensor_index(case, volume),
    )
    shape = volume.grid.shape
    body_c = case.environment.initial_temperature_c

    def build_source(probe_set: ProbeArrays, material: Material):
        # The exchange limiter sees each voxel's *frozen* heat capacity, a constant: the
        # apparent capacity jumps by orders of magnitude across the mushy zone, which made the
        # probes' heat flow (and so every temperature) jump as neighbouring voxels changed
        # phase. The frozen value is the one that applies next to a working probe, and the
        # smaller one, so the limiter stays conservative (stable) elsewhere.
        frozen_capacity = material.field("c_frozen")
        return make_probe_source(
            probe_set,
            lambda t: frozen_capacity,
            shape=shape,
            spacing_m=spacing_m,
            n_samples=n_samples,
            n_ring=_RING_POINTS,
            body_c=body_c,
            switch_width_s=dt,
            # The exchange limiter uses the forward-Euler limit whatever the integrator, so the
            # probe operator (and the physics) does not change with the step; its stiffness
            # stays inside RKL2's stability region (λ·dt <= 0.9·(s²+s−2)/4 < (s²+s−2)/2).
            dt_s=limit,
        )

    def advance(state: ThermalState, probe_set: ProbeArrays, data: ForwardData, records: int):
        """Run ``records`` recording chunks from ``state`` (``records`` is static)."""
        material = data.material
        source, _ = build_source(probe_set, material)
        options = {
            "arterial_c": case.environment.arterial_temperature_c,
            "source": source,
            "fixed": data.fixed,
        }
        if stages == 1:
            step = make_step(material, spacing_m, dt, **options)
        else:
            step = make_rkl2_step(material, spacing_m, dt, stages=stages, **options)

        @jax.checkpoint
        def chunk(state, _):
            state = jax.lax.fori_loop(0, steps_per_record, lambda i, s: step(s), state)
            t = temperature(state.h, material)
            cold = jnp.where(data.structures, t.reshape(1, -1), jnp.inf)
            return state, (t[data.sensor_index], jnp.min(cold, axis=1, initial=jnp.inf))

        return jax.lax.scan(chunk, state, None, length=records)

    def initial(data: ForwardData) -> ThermalState:
        t0 = jnp.full(shape, body_c, jnp.float32)
        return ThermalState(enthalpy(t0, data.material), t0, jnp.asarray(0.0, jnp.float32))

    def run(probe_set: ProbeArrays, data: ForwardData):
        return advance(initial(data), probe_set, data, n_records)

    def all_inside(probe_set: ProbeArrays):
        points, _ = sample_points(probe_set, jnp.asarray(spacing_m), n_samples, _RING_POINTS)
        return jnp.all(bspline_stencil(points, shape)[2])

    # One small compiled check; building the whole source eagerly here took 1.9 s of dispatch.
    if not bool(jax.jit(all_inside)(probes)):
        raise OptiprobeError(
            SolverStatus.PROBE_OUTSIDE_GRID.message,
            location="plan probes",
            allowed="tips and active zones inside the case grid (a larger grid.margin_mm)",
        )
    return Forward(
        run, advance, initial, probes, data, material, dt, stages, steps_per_record, n_records
    )


def simulate(
    case: Case,
    volume: Volume,
    plan: Plan,
    *,
    record_every_s: float = 10.0,
    dt_s: float | None = None,
    max_step_s: float = 5.0,
    progress: Callable[[float, float], None] | None = None,
) -> ThermalResult:
    """Simulate ``plan`` on ``volume`` (the voxelised ``case``) through the whole protocol.

    By default the time integrator is RKL2 super-time-stepping with steps of about
    ``max_step_s`` seconds (as many stages as that needs for stability); ``dt_s`` instead runs
    plain forward Euler at that step, which must respect the explicit stability limit.
    ``progress(simulated_s, total_s)``, if given, is called as the run advances (about 25
    times, or once per record when their count has no suitable divisor; every piece runs the
    same compiled program, so this costs no extra compilation).

    Raises
    ------
    OptiprobeError
        If a probe's active zone leaves the grid (the status says so too) or ``dt_s`` exceeds
        the stability limit.
    """
    forward = make_forward(
        case, volume, plan, record_every_s=record_every_s, dt_s=dt_s, max_step_s=max_step_s
    )
    pieces = _pieces(forward.n_records, progress is not None)
    advance = jax.jit(forward.advance, static_argnums=3)
    state = jax.jit(forward.initial)(forward.data)
    total_s = forward.n_records * forward.steps_per_record * forward.dt_s
    parts = []
    for done, size in pieces:
        state, part = advance(state, forward.probes, forward.data, size)
        parts.append(part)
        if progress is not None:
            jax.block_until_ready(state)
            progress((done + size) * forward.steps_per_record * forward.dt_s, total_s)
    final = state
    records = tuple(np.concatenate([np.asarray(p[i]) for p in parts]) for i in range(2))
    t_final = np.asarray(temperature(final.h, forward.material))
    t_min = np.asarray(final.t_min)
    status = SolverStatus.OK if np.all(np.isfinite(t_final)) else SolverStatus.NON_FINITE
    sensors, coldest = (np.asarray(r) for r in records)
    dt = forward.dt_s
    return ThermalResult(
        t_min_c=t_min,
        t_final_c=t_final,
        sensor_times_s=(np.arange(forward.n_records) + 1) * forward.steps_per_record * dt,
        sensors_c={c.name: sensors[:, i] for i, c in enumerate(case.thermocouples)},
        structure_min_c={name: coldest[:, i] for i, name in enumerate(volume.protected)},
        status=status,
        dt_s=dt,
        n_steps=forward.n_records * forward.steps_per_record,
        stages=forward.stages,
    )


def _pieces(n_records: int, split: bool) -> list[tuple[int, int]]:
    """(first record, count) of each piece of the run: one piece, or about 25 equal ones.

    Pieces all have the same size (a divisor of ``n_records``) so that one compiled program
    runs them all.
    """
    if not split:
        return [(0, n_records)]
    size = max(
        d for d in range(1, n_records + 1) if n_records % d == 0 and d <= max(1, n_records // 25)
    )
    return [(start, size) for start in range(0, n_records, size)]


def _sensor_index(case: Case, volume: Volume):
    if not case.thermocouples:
        return (jnp.zeros(0, jnp.int32),) * 3
    positions = np.array([c.position_mm for c in case.thermocouples])
    index = np.clip(
        np.rint(volume.grid.world_to_index(positions)).astype(int),
        0,
        np.array(volume.grid.shape) - 1,
    )
    return tuple(jnp.asarray(index[:, a]) for a in range(3))
