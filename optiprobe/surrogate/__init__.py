"""Fast differentiable thermal surrogate, calibrated on the solver (see docs/surrogate.md).

``load_surrogate()`` loads the shipped artefact and refuses it when the solver, tissue table or
probe catalogue changed since calibration; ``Surrogate.temperature(probes, query)`` predicts the
minimum temperature reached at query points and works under ``jax.jit``, ``jax.vmap`` and
``jax.grad``.
"""

from optiprobe.surrogate.model import (
    ProbeSet,
    Query,
    StaleSurrogateError,
    Surrogate,
    load_surrogate,
    make_query,
    probe_set,
    volume_query,
)

__all__ = [
    "ProbeSet",
    "Query",
    "StaleSurrogateError",
    "Surrogate",
    "load_surrogate",
    "make_query",
    "probe_set",
    "volume_query",
]
