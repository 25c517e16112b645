"""Phase math as free functions of explicit inputs (after Ableton Link's ``Phase.hpp``)."""

from __future__ import annotations

import math


def phase(beat: float, quantum: float) -> float:
    """Position of ``beat`` within a cycle of ``quantum`` beats, in [0, quantum); 0 when quantum is 0.

    Defined for negative beats (count-in): phase(-1, 4) == 3.
    """
    if quantum <= 0:
        return 0.0
    return beat - math.floor(beat / quantum) * quantum


def next_phase_match(beat: float, target_phase: float, quantum: float) -> float:
    """The first beat strictly after ``beat`` whose phase is ``target_phase``."""
    if quantum <= 0:
        return beat
    candidate = beat - phase(beat, quantum) + phase(target_phase, quantum)
    return candidate if candidate > beat else candidate + quantum
