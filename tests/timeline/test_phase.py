"""Phase within a quantum: negative beats (count-in), quantum 0, next matches."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge.timeline.phase import next_downbeat, next_phase_match, phase

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


@given(BEATS, st.floats(min_value=0.0, max_value=16.0), QUANTA)
def test_next_phase_match_is_the_first_later_beat_with_that_phase(beat, target, quantum):
    match = next_phase_match(beat, target, quantum)
    assert beat < match <= beat + quantum + 1e-9 * max(1.0, abs(beat))
    difference = abs(phase(match, quantum) - phase(target, quantum))
    assert min(difference, quantum - difference) == pytest.approx(0.0, abs=1e-7)


def test_next_downbeat_in_seven_eight_and_during_count_in():
    assert next_downbeat(0.0, 3.5) == 3.5
    assert next_downbeat(3.5, 3.5) == 7.0
    assert next_downbeat(-2.0, 4.0) == 0.0
    assert next_downbeat(1.0, 4.0, origin_beat=2.0) == 2.0
    assert next_phase_match(3.0, 1.0, 0.0) == 3.0


def test_property_tests_have_no_wall_clock_deadline_on_the_shared_cpu():
    """tests/conftest.py's profile: a slow moment on a busy 2-core machine must not fail a property test."""
    from hypothesis import settings

    assert settings().deadline is None
