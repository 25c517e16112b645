"""``load_timeline(source)`` — the one way every command turns a user's timeline argument into a TempoMap.

Dispatch by extension: ``.mid``/``.midi`` (Standard MIDI File), ``.als`` (Ableton
Live set), ``.jsonl`` (a session recorded by ``barlight record``); no source means
a constant tempo from ``bpm`` and ``meter``. With a file, ``bpm`` and ``meter``
only fill in what the file lacks (a MIDI file without a tempo at its start).
Every problem is an :class:`InputError` naming the file or the option.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from bridge.errors import InputError
from bridge.timeline.tempo_map import TempoMap, check_meter

MIDI_SUFFIXES = (".mid", ".midi", ".smf")
ALS_SUFFIXES = (".als",)
RECORDING_SUFFIXES = (".jsonl",)
#: A recording still being written, or left by a crash (``bridge.recording``), reads like a finished one.
PARTIAL_RECORDING_SUFFIX = ".jsonl.part"


def timeline_suffix(source: str | os.PathLike[str]) -> str:
    """The lower-case suffix that says how to read ``source``; ``.jsonl`` for a ``.jsonl.part`` recording."""
    name = Path(os.fspath(source)).name.lower()
    return RECORDING_SUFFIXES[0] if name.endswith(PARTIAL_RECORDING_SUFFIX) else Path(name).suffix


def is_recording(source: str | os.PathLike[str] | None) -> bool:
    """Whether ``source`` names a session recording (``.jsonl``, or ``.jsonl.part`` left by a crash)."""
    return source is not None and timeline_suffix(source) in RECORDING_SUFFIXES

_METER = re.compile(r"\s*(\d+)\s*/\s*(\d+)\s*")


def parse_meter(text: str, where: str = "--meter") -> tuple[int, int]:
    """``"7/8"`` -> ``(7, 8)``; raises :class:`InputError` for anything a DAW can't have (``4/3``, ``0/4``)."""
    match = _METER.fullmatch(str(text))
    if not match:
        raise InputError(where, f"meter must look like 4/4 or 7/8, got {text!r}")
    numerator, denominator = int(match.group(1)), int(match.group(2))
    try:
        check_meter(numerator, denominator)
    except ValueError as err:
        raise InputError(where, f"{text.strip()}: {err}") from None
    return numerator, denominator


#: The tempos a command-line ``--bpm`` may give: what DAWs offer (Live 20-999, Logic 5-990, Reaper 1-960).
#: Files may hold others; an argument this far out is a typo that would mean thousands of bars.
ARGUMENT_BPM_RANGE = (1.0, 999.0)
#: The longest bar table any command makes (``timeline``, ``analyze``): 100,000 bars is 55 hours at 120 BPM.
MAX_BARS = 100_000


def parse_bpm(bpm: float | str, where: str = "--bpm") -> float:
    """A command-line tempo in :data:`ARGUMENT_BPM_RANGE` as float; raises :class:`InputError` otherwise."""
    try:
        value = float(bpm)
    except (TypeError, ValueError):
        raise InputError(where, f"tempo must be a number of BPM, got {bpm!r}") from None
    low, high = ARGUMENT_BPM_RANGE
    if not low <= value <= high:  # NaN fails too
        raise InputError(where, f"tempo must be {low:g}..{high:g} BPM (the range DAWs offer), got {bpm!r}")
    return value


def check_bar_count(last_bar: int, where: str, first_bar: int = 1, most: int = MAX_BARS) -> None:
    """InputError at ``where`` when bars ``first_bar..last_bar`` are more than ``most``."""
    if last_bar - first_bar + 1 > most:
        raise InputError(where, f"{last_bar - first_bar + 1} bars: at most {most} are made; check the tempo "
                                "and meter (a typo there means thousands of bars)")


def constant_timeline(bpm: float, meter: str | tuple[int, int] | None = None) -> TempoMap:
    """One tempo and one meter (default 4/4) from song start."""
    numerator, denominator = parse_meter(meter) if isinstance(meter, str) else (meter or (4, 4))
    return TempoMap.constant(parse_bpm(bpm), numerator, denominator)


def load_timeline(
    source: str | os.PathLike[str] | None,
    bpm: float | None = None,
    meter: str | None = None,
    *,
    ramps: str = "exact",
) -> TempoMap:
    """The TempoMap of ``source`` (a .mid/.midi, .als or .jsonl file), or constant ``bpm``/``meter`` when None.

    ``ramps`` (Live sets only): ``"exact"`` integrates tempo ramps exactly, ``"live"`` steps
    them on the 16th-note grid the way Live plays them.
    """
    meter_tuple = parse_meter(meter) if meter is not None else None
    bpm_value = parse_bpm(bpm) if bpm is not None else None
    if source is None or os.fspath(source) == "":
        if bpm_value is None:
            raise InputError("timeline", "no tempo: give a .mid, .als or .jsonl file, or --bpm")
        return TempoMap.constant(bpm_value, *(meter_tuple or (4, 4)))

    path = Path(os.fspath(source))
    suffix = timeline_suffix(path)
    if suffix not in MIDI_SUFFIXES + ALS_SUFFIXES + RECORDING_SUFFIXES:
        raise InputError(path, f"unknown timeline type {suffix or '(no extension)'!r}: use .mid, .midi, .smf, .als or .jsonl")
    if not path.exists():
        raise InputError(path, "no such file")
    if path.is_dir():
        raise InputError(path, "is a directory, not a file")

    if suffix in MIDI_SUFFIXES:
        from bridge.timeline.midi import SMF_DEFAULT_BPM, tempo_map_from_midi

        return tempo_map_from_midi(path, bpm_value or SMF_DEFAULT_BPM, meter_tuple or (4, 4))
    if suffix in ALS_SUFFIXES:
        from bridge.timeline.als import tempo_map_from_als

        return tempo_map_from_als(path, ramps)
    return _load_recording(path)


def _load_recording(path: Path) -> TempoMap:
    try:
        from bridge.recording import tempo_map_from_recording
    except ImportError:
        raise InputError(path, "reading recordings is not available in this build") from None
    try:
        return tempo_map_from_recording(path)
    except InputError:
        raise
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise InputError(path, f"not a readable recording ({err})") from None


def timeline_end_beat(source: str | os.PathLike[str] | None) -> float | None:
    """Where a timeline's music ends, when the source knows it: a recording's last beat played
    (``bridge.recording.recording_end_beat``), a MIDI file's last event, notes included
    (``bridge.timeline.midi.midi_end_beat``); None for sources without an end (a Live set, a constant tempo)."""
    if source is None:
        return None
    if timeline_suffix(source) in MIDI_SUFFIXES:
        from bridge.timeline.midi import midi_end_beat

        return midi_end_beat(source)
    if not is_recording(source):
        return None
    try:
        from bridge.recording import recording_end_beat
    except ImportError:
        return None
    try:
        return float(recording_end_beat(Path(os.fspath(source))))
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise InputError(source, f"not a readable recording ({err})") from None
