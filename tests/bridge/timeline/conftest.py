"""Builders for the files the timeline tests read: small MIDI files (mido) and Live sets per generation."""

from __future__ import annotations

import gzip
from collections.abc import Callable, Sequence
from pathlib import Path
from xml.sax.saxutils import quoteattr

import mido
import pytest

INITIAL = -63072000

# -- Standard MIDI Files ----------------------------------------------------------------------

#: (absolute tick, message) per track
Track = Sequence[tuple[int, mido.Message | mido.MetaMessage]]


def write_midi_file(path: Path, tracks: Sequence[Track], ticks_per_beat: int = 480, file_type: int = 1) -> Path:
    midi = mido.MidiFile(type=file_type, ticks_per_beat=ticks_per_beat, charset="utf-8")
    for events in tracks:
        track = mido.MidiTrack()
        previous = 0
        for tick, message in sorted(events, key=lambda e: e[0]):
            track.append(message.copy(time=tick - previous))
            previous = tick
        track.append(mido.MetaMessage("end_of_track", time=0))
        midi.tracks.append(track)
    midi.save(str(path))
    return path


@pytest.fixture(scope="session")
def midi_file_writer() -> Callable[..., Path]:
    """``midi_file_writer(path, tracks, ticks_per_beat=480, file_type=1) -> path`` (session-scoped, for hypothesis)."""
    return write_midi_file


@pytest.fixture
def write_midi(tmp_path: Path) -> Callable[..., Path]:
    """``write_midi(tracks, ticks_per_beat=480, file_type=1, name="song.mid") -> Path``."""

    def write(tracks: Sequence[Track], ticks_per_beat: int = 480, file_type: int = 1, name: str = "song.mid") -> Path:
        return write_midi_file(tmp_path / name, tracks, ticks_per_beat, file_type)

    return write


# -- Ableton Live sets ---------------------------------------------------------------------------

#: (time_beats, value) pairs; the INITIAL sentinel is written as given
Events = Sequence[tuple[float, float]]

CREATORS = {"8": ("4", "8.1_223", "Ableton Live 8.1.3"), "9": ("4", "9.7_178", "Ableton Live 9.7.7"),
            "10": ("5", "10.0_377", "Ableton Live 10.1.30"), "11": ("5", "11.0_433", "Ableton Live 11.3.4"),
            "12": ("5", "12.0_12049", "Ableton Live 12.0.5")}
TEMPO_TARGET, METER_TARGET, VOLUME_TARGET = "8", "10", "5"


def _events_xml(tag: str, events: Events) -> str:
    return "".join(f'<{tag} Id="{i}" Time="{t:g}" Value="{v:g}" />' for i, (t, v) in enumerate(events))


def _envelope(target: str, tag: str, events: Events) -> str:
    return (f'<AutomationEnvelope Id="{target}"><EnvelopeTarget><PointeeId Value="{target}" /></EnvelopeTarget>'
            f"<Automation><Events>{_events_xml(tag, events)}</Events></Automation></AutomationEnvelope>")


def live_set_xml(
    version: str,
    tempo_events: Events = (),
    meter_events: Events = (),
    manual_bpm: float | None = 120.0,
    manual_meter: int | None = 201,
    locators: Sequence[tuple[float, str]] = (),
) -> str:
    """A minimal Live set in the layout of Live ``version`` ("8", "9", "10", "11", "12")."""
    major, minor, creator = CREATORS[version]
    manual_tempo = f'<Manual Value="{manual_bpm:g}" />' if manual_bpm is not None else ""
    manual_sig = f'<Manual Value="{manual_meter}" />' if manual_meter is not None else ""
    if version in ("8", "9"):
        inline_tempo = f"<ArrangerAutomation><Events>{_events_xml('FloatEvent', tempo_events)}</Events></ArrangerAutomation>"
        inline_sig = f"<ArrangerAutomation><Events>{_events_xml('EnumEvent', meter_events)}</Events></ArrangerAutomation>"
        envelopes = ""
    else:
        inline_tempo = inline_sig = ""
        envelopes = _envelope(VOLUME_TARGET, "FloatEvent", [(INITIAL, 0.5), (4.0, 1.0)])  # not the tempo
        if meter_events:
            envelopes += _envelope(METER_TARGET, "EnumEvent", meter_events)
        if tempo_events:
            envelopes += _envelope(TEMPO_TARGET, "FloatEvent", tempo_events)
        envelopes = f"<AutomationEnvelopes><Envelopes>{envelopes}</Envelopes></AutomationEnvelopes>"
    if version == "8":
        tempo_xml = f"<Tempo><LomId Value=\"0\" />{inline_tempo}</Tempo>"
        sig_xml = f"<TimeSignature>{inline_sig}</TimeSignature>"
    else:
        tempo_xml = (f'<Tempo><LomId Value="0" />{manual_tempo}'
                     f'<AutomationTarget Id="{TEMPO_TARGET}"><LockEnvelope Value="0" /></AutomationTarget>{inline_tempo}</Tempo>')
        sig_xml = f'<TimeSignature>{manual_sig}<AutomationTarget Id="{METER_TARGET}" />{inline_sig}</TimeSignature>'
    mixer = (f'<Mixer><Volume><Manual Value="1" /><AutomationTarget Id="{VOLUME_TARGET}" /></Volume>'
             f"{tempo_xml}{sig_xml}</Mixer>")
    chain = f"<MasterChain>{mixer}</MasterChain>" if version == "8" else f"<DeviceChain>{mixer}</DeviceChain>"
    track_tag = "MainTrack" if version == "12" else "MasterTrack"
    locator_xml = "".join(
        f'<Locator Id="{i}"><LomId Value="0" /><Time Value="{t:g}" /><Name Value={quoteattr(name)} />'
        f'<Annotation Value="" /><IsSongStart Value="false" /></Locator>'
        for i, (t, name) in enumerate(locators)
    )
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<Ableton MajorVersion="{major}" MinorVersion="{minor}" Creator="{creator}">'
            f"<LiveSet><Tracks /><{track_tag}>{envelopes}{chain}</{track_tag}>"
            f"<Locators><Locators>{locator_xml}</Locators></Locators></LiveSet></Ableton>")


def write_als_file(path: Path, version: str, **kwargs) -> Path:
    path.write_bytes(gzip.compress(live_set_xml(version, **kwargs).encode("utf-8")))
    return path


@pytest.fixture(scope="session")
def als_file_writer() -> Callable[..., Path]:
    """``als_file_writer(path, version, **live_set_xml_kwargs) -> path`` (session-scoped, for hypothesis)."""
    return write_als_file


@pytest.fixture
def write_als(tmp_path: Path) -> Callable[..., Path]:
    """``write_als(version, name="set.als", **live_set_xml_kwargs) -> Path`` (gzipped like Live writes it)."""

    def write(version: str, name: str = "set.als", **kwargs) -> Path:
        return write_als_file(tmp_path / name, version, **kwargs)

    return write
