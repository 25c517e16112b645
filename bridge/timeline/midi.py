"""Standard MIDI Files -> :class:`TempoMap`: set_tempo, time_signature, marker and cue_marker.

Format 0 and 1 (and 2, read the same way): tempo and meter events are taken from
every track, not only the first, and an event repeated on several tracks (same
tick, same value) counts once. Several tempos or meters at one tick: the last one
in file order holds. Beats are ``tick / ticks_per_beat`` exactly (quarter notes).
A file without a ``set_tempo`` at tick 0 starts at ``default_bpm`` (the SMF default
is 120 BPM); one without a ``time_signature`` at tick 0 starts in ``default_meter``.
"""

from __future__ import annotations

import os
from fractions import Fraction

from bridge.errors import InputError
from bridge.inputs import check_regular_file
from bridge.timeline.tempo_map import Marker, Meter, TempoMap, TempoPoint, check_meter

SMF_DEFAULT_BPM = 120.0


def _decode_text(text: str) -> str:
    """mido reads meta text as latin-1; most tools write UTF-8. Prefer UTF-8 when it decodes."""
    raw = text.encode("latin-1", errors="replace")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return text


def _events(midifile) -> list[tuple[int, int, int, object]]:
    """``(absolute_tick, track, index, message)`` for every meta event we use, in file order per tick."""
    wanted = {"set_tempo", "time_signature", "marker", "cue_marker"}
    events = []
    for track_number, track in enumerate(midifile.tracks):
        tick = 0
        for index, message in enumerate(track):
            tick += message.time
            if message.type in wanted:
                events.append((tick, track_number, index, message))
    events.sort(key=lambda e: (e[0], e[1], e[2]))
    return events


def read_midi_file(path: str | os.PathLike[str]):
    """Open ``path`` with mido, turning every parse failure into an :class:`InputError`."""
    import mido

    check_regular_file(path, "midi")  # mido holds every event as an object: a few MB is a whole song
    try:
        return mido.MidiFile(os.fspath(path))
    except FileNotFoundError:
        raise InputError(path, "no such file") from None
    except EOFError:
        empty = os.path.isfile(path) and os.path.getsize(path) == 0
        raise InputError(path, "empty file (0 bytes)" if empty else
                         "truncated Standard MIDI File (it ends in the middle of a chunk)") from None
    except (OSError, ValueError, KeyError, IndexError, TypeError) as err:
        detail = str(err) or type(err).__name__
        raise InputError(path, f"not a readable Standard MIDI File ({detail})") from None


def tempo_map_from_midifile(
    midifile,
    where: str | os.PathLike[str] = "<midi>",
    default_bpm: float = SMF_DEFAULT_BPM,
    default_meter: tuple[int, int] = (4, 4),
) -> TempoMap:
    """The tempo map of a loaded ``mido.MidiFile``; ``where`` names it in errors."""
    ticks_per_beat = midifile.ticks_per_beat
    if not isinstance(ticks_per_beat, int) or not 0 < ticks_per_beat < 0x8000:
        raise InputError(where, f"unsupported time division {ticks_per_beat!r} (SMPTE timing is not supported)")

    tempo_by_tick: dict[int, float] = {0: float(default_bpm)}
    meter_by_tick: dict[int, tuple[int, int]] = {0: default_meter}
    markers: dict[tuple[int, str], None] = {}  # ordered set: duplicates across tracks collapse
    for tick, _track, _index, message in _events(midifile):
        if message.type == "set_tempo":
            if message.tempo <= 0:
                raise InputError(where, f"set_tempo of {message.tempo} µs per quarter at tick {tick} is not a tempo")
            tempo_by_tick[tick] = 60_000_000.0 / message.tempo
        elif message.type == "time_signature":
            numerator, denominator = int(message.numerator), int(message.denominator)
            try:
                check_meter(numerator, denominator)
            except ValueError as err:
                raise InputError(where, f"time signature at tick {tick}: {err}") from None
            meter_by_tick[tick] = (numerator, denominator)
        else:
            markers[(tick, _decode_text(message.text).strip())] = None

    def beats(tick: int) -> float:
        return float(Fraction(tick, ticks_per_beat))

    tempo = [TempoPoint(beats(tick), bpm) for tick, bpm in sorted(tempo_by_tick.items())]
    meters = [Meter(beats(tick), num, den) for tick, (num, den) in sorted(meter_by_tick.items())]
    named = [Marker(name, beats(tick)) for tick, name in markers]
    try:
        return TempoMap(tuple(tempo), tuple(meters), tuple(named))
    except ValueError as err:
        raise InputError(where, str(err)) from None


def tempo_map_from_midi(
    path: str | os.PathLike[str],
    default_bpm: float = SMF_DEFAULT_BPM,
    default_meter: tuple[int, int] = (4, 4),
) -> TempoMap:
    """Read the tempo map, meters and markers of the Standard MIDI File at ``path``."""
    return tempo_map_from_midifile(read_midi_file(path), path, default_bpm, default_meter)


def midi_end_beat(path: str | os.PathLike[str]) -> float:
    """The beat where the Standard MIDI File at ``path`` ends: its last event on any track (notes included,
    ``end_of_track`` too), in quarter notes. Where the tempo map says nothing about how long a song is, this does."""
    midifile = read_midi_file(path)
    ticks_per_beat = midifile.ticks_per_beat
    last_tick = max((sum(message.time for message in track) for track in midifile.tracks), default=0)
    return float(Fraction(last_tick, ticks_per_beat)) if isinstance(ticks_per_beat, int) and ticks_per_beat > 0 else 0.0
