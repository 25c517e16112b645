"""Phase math as free functions of explicit inputs (after Ableton Link's ``Phase.hpp``).

Beats are quarter notes from song start and may be negative (count-in); a quantum is a
cycle length in beats (4.0 = one 4/4 bar); a quantum of 0 means "no cycle".
For bar lines under changing meters ask the TempoMap (``bar_start_beat``); these
functions cover one fixed cycle. ``bridge.senders.link`` counts bars with ``cycle_start`` and
``renderer.moment`` takes a Moment's beat phase with ``phase``.
"""

from __future__ import annotations

import math


def cycle_start(beat: float, quantum: float) -> float:
    """The cycle boundary at or before ``beat``: a whole number of quanta; ``beat`` itself when quantum is 0.

    Defined for negative beats (count-in): cycle_start(-1, 4) == -4.
    """
    if quantum <= 0:
        return beat
    start = math.floor(beat / quantum) * quantum
    return start - quantum if start > beat else start  # beat / quantum rounded up to a whole number


def phase(beat: float, quantum: float) -> float:
    """Position of ``beat`` within a cycle of ``quantum`` beats, in [0, quantum); 0 when quantum is 0.

    Defined for negative beats (count-in): phase(-1, 4) == 3.
    """
    if quantum <= 0:
        return 0.0
    result = beat - cycle_start(beat, quantum)
    return result if result < quantum else 0.0  # a beat a rounding error below a boundary is on it
