"""The sampled planning problem (optiprobe.planner.problem)."""

from __future__ import annotations

import numpy as np
from conftest import with_nerve


def test_a_plans_score_is_the_sum_of_its_options_potentials(write_case):
    # The verification's correction compares the solver with the surrogate's prediction for
    # the plan it simulated (score of the plan); CP-SAT's rows add the options' potentials.
    # Both must describe the same thing: up to the 0.1 mm rounding of tips and entries in
    # plan_from, the plan's score is the sum of its options' potentials.
    from optiprobe.planner.candidates import access_of, generate_candidates
    from optiprobe.planner.problem import build_problem
    from optiprobe.surrogate.model import load_surrogate, probe_set
    from optiprobe.validation import load_and_voxelize

    text = with_nerve()
    case, volume = load_and_voxelize(write_case(text))
    surrogate = load_surrogate()
    candidates = generate_candidates(case, volume, access=access_of(case, volume))
    problem = build_problem(case, volume, candidates, surrogate, say=lambda message: None)
    assert problem.structure_slices[0].stop > problem.structure_slices[0].start
    rng = np.random.default_rng(0)
    for _ in range(3):
        chosen = sorted(rng.choice(len(problem.potentials), 2, replace=False))
        plan = problem.plan_from(chosen)
        scored = np.asarray(problem.score(probe_set(plan, case, surrogate)))
        summed = problem.potentials[chosen].sum(axis=0)
        assert np.all(np.abs(scored - summed) <= 0.02 * np.maximum(summed, 1.0))
