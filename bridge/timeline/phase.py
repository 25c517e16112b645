"""Phase math as free functions of explicit inputs (after Ableton Link's ``Phase.hpp``).

Beats are quarter notes from song start and may be negative (count-in); a quantum is a
cycle length in beats (4.0 = one 4/4 bar); a quantum of 0 means "no cycle".
For bar lines under changing meters ask the TempoMap (``bar_start_beat``); these
functions cover one fixed cycle.
"""

from __future__ import annotations

import math


def phase(beat: float, quantum: float) -> float:
    """Position of ``beat`` within a cycle of ``quantum`` beats, in [0, quantum); 0 when quantum is 0.

    Defined for negative beats (count-in): phase(-1, 4) == 3.
    """
    if quantum <= 0:
        return 0.0
    result = beat - math.floor(beat / quantum) * quantum
    if result < 0.0:  # beat / quantum underflowed to -0.0
        result += quantum
    return result if result < quantum else 0.0  # a tiny negative beat rounds up to a whole cycle


def next_phase_match(beat: float, target_phase: float, quantum: float) -> float:
    """The first beat strictly after ``beat`` whose phase is ``target_phase``; ``beat`` when quantum is 0."""
    if quantum <= 0:
        return beat
    candidate = beat - phase(beat, quantum) + phase(target_phase, quantum)
    return candidate if candidate > beat else candidate + quantum


def next_downbeat(beat: float, bar_beats: float, origin_beat: float = 0.0) -> float:
    """The first bar line strictly after ``beat`` on a grid of ``bar_beats`` beats through ``origin_beat``."""
    return next_phase_match(beat, origin_beat, bar_beats)
