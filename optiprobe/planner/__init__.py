"""Automatic planning: candidates, CP-SAT selection on the surrogate, solver verification."""
