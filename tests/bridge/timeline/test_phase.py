"""Phase within a quantum and the cycle boundary before a beat: negative beats (count-in), quantum 0."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge.timeline.phase import cycle_start, phase

BEATS = st.floats(min_value=-1e4, max_value=1e5, allow_nan=False)
QUANTA = st.sampled_from([0.5, 1.0, 3.0, 3.5, 4.0, 7.0, 16.0])


def test_phase_of_count_in_beats_and_quantum_zero():
    assert phase(-1.0, 4.0) == 3.0
    assert phase(-4.0, 4.0) == 0.0
    assert phase(5.5, 4.0) == 1.5
    assert phase(5.5, 0.0) == 0.0
    assert phase(-1e-17, 4.0) == 0.0
    assert phase(-5e-324, 3.0) == 0.0


@given(BEATS, QUANTA)
def test_phase_lies_in_the_cycle(beat, quantum):
    assert 0.0 <= phase(beat, quantum) < quantum


@given(st.integers(-1000, 1000).map(lambda n: n / 8), QUANTA, st.integers(-50, 50))
def test_phase_repeats_every_quantum(beat, quantum, cycles):
    assert phase(beat + cycles * quantum, quantum) == phase(beat, quantum)  # exact on a binary grid


def test_cycle_start_of_count_in_beats_boundaries_and_quantum_zero():
    assert cycle_start(-1.0, 4.0) == -4.0
    assert cycle_start(101.0, 3.5) == 98.0  # 7/8: bars every 3.5 beats
    assert cycle_start(98.0, 3.5) == 98.0  # a boundary starts its own cycle
    assert cycle_start(97.99, 3.5) == 94.5
    assert cycle_start(5.5, 0.0) == 5.5


@given(BEATS, QUANTA)
def test_cycle_start_is_the_last_whole_cycle_at_or_before_the_beat(beat, quantum):
    start = cycle_start(beat, quantum)
    assert start <= beat < start + quantum
    assert start / quantum == int(start / quantum)  # a whole number of quanta, no rounding noise
    # the phase is the distance from the cycle start (a whole cycle less for a beat a rounding error below it)
    distance = (beat - start) - phase(beat, quantum)
    assert min(abs(distance), abs(distance - quantum)) == pytest.approx(0.0, abs=1e-9 * max(1.0, abs(beat)))


def test_property_tests_have_no_wall_clock_deadline_on_the_shared_cpu():
    """tests/conftest.py's profile: a slow moment on a busy 2-core machine must not fail a property test."""
    from hypothesis import settings

    assert settings().deadline is None
