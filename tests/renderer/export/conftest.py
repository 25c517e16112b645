"""Builders for export tests: timelines written as real files (MIDI, Live set, recording), click tracks,
and a Renderer on the real embedded backend with tiny seeded weights (64x64 frames)."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Sequence
from pathlib import Path

import mido
import numpy as np
import pytest
import soundfile

from bridge.protocol.messages import MarkersMessage, TransportMessage, message_to_dict
from bridge.timeline.tempo_map import Marker, TempoMap

SIZE = (64, 64)


# -- audio ----------------------------------------------------------------------------------

def click_times(tempo_map: TempoMap, end_seconds: float) -> list[float]:
    """Song seconds of every counted beat (the meter's note value) before ``end_seconds``."""
    times = []
    bar = 1
    while tempo_map.bar_start_seconds(bar) < end_seconds:
        row = tempo_map.bar(bar)
        unit = 4.0 / row.denominator
        for i in range(row.numerator):
            seconds = tempo_map.seconds_at(row.beat + i * unit)
            if seconds < end_seconds:
                times.append(seconds)
        bar += 1
    return times


def write_clicks(path: Path, times: Sequence[float], seconds: float, rate: int = 44100,
                 offset_seconds: float = 0.0) -> Path:
    """A stereo click track: a 6 ms broadband noise burst at each of ``times`` (minus ``offset_seconds``)."""
    audio = np.zeros(int(round(seconds * rate)), np.float32)
    n = int(0.006 * rate)
    rng = np.random.default_rng(3)
    burst = (rng.uniform(-1.0, 1.0, n) * np.exp(-np.arange(n) / (0.002 * rate))).astype(np.float32) * 0.9
    for t in times:
        start = int(round((t - offset_seconds) * rate))
        if 0 <= start < len(audio):
            stop = min(len(audio), start + n)
            audio[start:stop] += burst[: stop - start]
    audio += (rng.standard_normal(len(audio)) * 1e-3).astype(np.float32)  # a noise floor, like a real bounce
    soundfile.write(str(path), np.stack([audio, audio]).T, rate, subtype="PCM_16")
    return path


# -- timelines as files --------------------------------------------------------------------------

def write_midi(path: Path, tempos: Sequence[tuple[float, float]], meters: Sequence[tuple[float, int, int]],
               markers: Sequence[tuple[float, str]] = (), ticks_per_beat: int = 480) -> Path:
    """A format-1 Standard MIDI File: tempo map on track 0, ``(beat, bpm)``, ``(beat, num, den)``, ``(beat, name)``."""
    events = [(round(b * ticks_per_beat), mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm))) for b, bpm in tempos]
    events += [(round(b * ticks_per_beat), mido.MetaMessage("time_signature", numerator=n, denominator=d))
               for b, n, d in meters]
    events += [(round(b * ticks_per_beat), mido.MetaMessage("marker", text=name)) for b, name in markers]
    track = mido.MidiTrack()
    now = 0
    for tick, message in sorted(events, key=lambda e: e[0]):
        track.append(message.copy(time=tick - now))
        now = tick
    track.append(mido.MetaMessage("end_of_track", time=0))
    midi = mido.MidiFile(type=1, ticks_per_beat=ticks_per_beat)
    midi.tracks.append(track)
    midi.save(str(path))
    return path


def _meter_value(numerator: int, denominator: int) -> int:
    return (numerator - 1) + 99 * (denominator.bit_length() - 1)


def write_als(path: Path, tempo_events: Sequence[tuple[float, float]], meters: Sequence[tuple[float, int, int]],
              locators: Sequence[tuple[float, str]] = ()) -> Path:
    """A gzipped Live 11 set: tempo automation ``(beat, bpm)`` (linear between points), meter automation, locators."""
    initial = -63072000

    def events(tag: str, pairs) -> str:
        return "".join(f'<{tag} Id="{i}" Time="{t:g}" Value="{v:g}" />' for i, (t, v) in enumerate(pairs))

    tempo = [(initial, tempo_events[0][1]), *tempo_events]
    meter = [(initial if b == 0 else b, _meter_value(n, d)) for b, n, d in meters]

    def envelope(target: str, tag: str, pairs) -> str:
        return (f'<AutomationEnvelope Id="{target}"><EnvelopeTarget><PointeeId Value="{target}" /></EnvelopeTarget>'
                f"<Automation><Events>{events(tag, pairs)}</Events></Automation></AutomationEnvelope>")

    locator_xml = "".join(
        f'<Locator Id="{i}"><LomId Value="0" /><Time Value="{t:g}" /><Name Value="{name}" />'
        f'<Annotation Value="" /><IsSongStart Value="false" /></Locator>' for i, (t, name) in enumerate(locators))
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<Ableton MajorVersion="5" MinorVersion="11.0_433" Creator="Ableton Live 11.3.4"><LiveSet><Tracks />'
        f"<MasterTrack><AutomationEnvelopes><Envelopes>{envelope('8', 'FloatEvent', tempo)}"
        f"{envelope('10', 'EnumEvent', meter)}</Envelopes></AutomationEnvelopes>"
        f'<DeviceChain><Mixer><Tempo><LomId Value="0" /><Manual Value="{tempo_events[0][1]:g}" />'
        '<AutomationTarget Id="8"><LockEnvelope Value="0" /></AutomationTarget></Tempo>'
        f'<TimeSignature><Manual Value="{meter[0][1]}" /><AutomationTarget Id="10" /></TimeSignature>'
        "</Mixer></DeviceChain></MasterTrack>"
        f"<Locators><Locators>{locator_xml}</Locators></Locators></LiveSet></Ableton>"
    )
    path.write_bytes(gzip.compress(xml.encode("utf-8")))
    return path


def write_recording(path: Path, truth: TempoMap, seconds: float, every_seconds: float = 0.05) -> Path:
    """A session recording of a DAW playing ``truth`` from bar 1: /daw/transport every ``every_seconds``."""
    lines = [{"format": "barlight-session", "version": 1, "protocol": "1", "started_unix": 0.0,
              "started_host_seconds": 100.0}]
    markers = MarkersMessage(tuple(Marker(m.name, m.beat) for m in truth.markers))
    lines.append({"t": 100.0, "session": "live", "from": "127.0.0.1:9000", "beat": 0.0, **message_to_dict(markers)})
    for k in range(int(seconds / every_seconds) + 1):
        song = k * every_seconds
        beat = truth.beat_at(song)
        position = truth.position_at(beat)
        bar_start = truth.bar_start_beat(position.bar)
        message = TransportMessage(True, beat, truth.bpm_at(beat), position.numerator, position.denominator,
                                   bar_start, position.bar)
        lines.append({"t": 100.0 + song, "session": "live", "from": "127.0.0.1:9000", "beat": beat,
                      **message_to_dict(message)})
    lines.append({"end": True, "t": 100.0 + seconds, "messages": len(lines) - 1})
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return path


# -- the renderer ---------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def tiny_backend():
    """The real embedded backend with tiny seeded weights (loaded once for the whole session)."""
    from renderer.backends import load_backend

    return load_backend("embedded", random_init="tiny", device="cpu", steps=1)


@pytest.fixture
def make_renderer(tiny_backend) -> Callable[..., object]:
    """``make_renderer(preset="neon", size=SIZE, seed=None)`` -> a Renderer sharing the tiny backend."""
    from renderer.renderer import Renderer

    def make(preset="neon", size=SIZE, seed=None):
        return Renderer.from_preset(preset, backend=tiny_backend, size=size, seed=seed)

    return make


FLASH_PRESET = """
name = "Flash test"
description = "black frames that flash white on every onset"
backend = "embedded"
palette = ["#000000", "#000000"]
pulse_beats = 0.1
smoothing_beats = 0.1

[prompts.default]
calm = "nothing"

[reactivity.flash]
onset = 1.0

[reactivity.palette]
bias = 1.0

[reactivity.strength]
bias = 0.0
"""


@pytest.fixture
def flash_preset(tmp_path: Path) -> Path:
    path = tmp_path / "flash.toml"
    path.write_text(FLASH_PRESET, encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def build():
    """The builders above, for test modules (test modules do not import conftest)."""
    import types

    return types.SimpleNamespace(click_times=click_times, write_clicks=write_clicks, write_midi=write_midi,
                                 write_als=write_als, write_recording=write_recording)
