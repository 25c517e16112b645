"""Damaged files: whatever the bytes, load_timeline returns a TempoMap or raises InputError — nothing else."""

from __future__ import annotations

import gzip
import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bridge.errors import InputError
from bridge.timeline.examples import example_path
from bridge.timeline.sources import load_timeline
from bridge.timeline.tempo_map import TempoMap

EXAMPLE = example_path().read_bytes()

EDITS = st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), min_size=1, max_size=8)


def _damage(data: bytes, edits: list[tuple[int, int]], cut: int | None) -> bytes:
    buffer = bytearray(data)
    for position, value in edits:
        buffer[position % len(buffer)] = value
    return bytes(buffer[:cut] if cut else buffer)


def _load_is_clean(path) -> None:
    try:
        result = load_timeline(path)
    except InputError as err:
        assert err.where == str(path)
    else:
        # whatever survived the damage is a working map: it converts time both ways and round-trips through JSON
        bar_seconds = result.bar_start_seconds(3)
        assert math.isfinite(bar_seconds) and result.bar_at(result.beat_at(bar_seconds) + 1e-6) == 3
        assert TempoMap.from_dict(result.to_dict(last_bar=2)) == result


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(EDITS, st.one_of(st.none(), st.integers(1, len(EXAMPLE))))
def test_damaged_midi_files(tmp_path, edits, cut):
    path = tmp_path / "damaged.mid"
    path.write_bytes(_damage(EXAMPLE, edits, cut))
    _load_is_clean(path)


LIVE_SET = (
    '<?xml version="1.0" encoding="UTF-8"?><Ableton MajorVersion="5" MinorVersion="11.0_433"><LiveSet>'
    '<MasterTrack><AutomationEnvelopes><Envelopes><AutomationEnvelope Id="0"><EnvelopeTarget>'
    '<PointeeId Value="8" /></EnvelopeTarget><Automation><Events><FloatEvent Id="0" Time="-63072000" Value="120" />'
    '<FloatEvent Id="1" Time="16" Value="120" /><FloatEvent Id="2" Time="32" Value="140" /></Events></Automation>'
    '</AutomationEnvelope></Envelopes></AutomationEnvelopes><DeviceChain><Mixer><Tempo><Manual Value="120" />'
    '<AutomationTarget Id="8" /></Tempo><TimeSignature><Manual Value="201" /><AutomationTarget Id="10" />'
    '</TimeSignature></Mixer></DeviceChain></MasterTrack><Locators><Locators><Locator Id="0"><Time Value="8" />'
    '<Name Value="A" /></Locator></Locators></Locators></LiveSet></Ableton>'
).encode()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(EDITS, st.one_of(st.none(), st.integers(1, len(LIVE_SET))), st.booleans())
def test_damaged_live_sets(tmp_path, edits, cut, damage_compressed):
    path = tmp_path / "damaged.als"
    if damage_compressed:
        path.write_bytes(_damage(gzip.compress(LIVE_SET), edits, cut))
    else:
        path.write_bytes(gzip.compress(_damage(LIVE_SET, edits, cut)))
    _load_is_clean(path)
