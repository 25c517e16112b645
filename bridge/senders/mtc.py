"""MIDI Time Code: quarter-frame and full-frame decoding, socket-free.

Quarter frames (``F1 0nnndddd``) carry one time in 8 pieces sent 4 per frame: piece 0
goes out as frame ``F`` starts, piece ``k`` a quarter frame ``k`` later, so when piece 7
completes the time, the clock already reads ``F + 7/4`` frames and the next piece 0
starts ``F + 2`` (the "2 frames old" rule). :class:`MtcDecoder` stamps every quarter
frame after the first complete set with the time it stands for, so each one (100 per
second at 25 fps) is a time sample. A full-frame SysEx (``F0 7F 7F 01 01 hh mm ss ff F7``)
is a locate: the time it names, now.

The rate code sits in bits 5-6 of the hours: 0 = 24, 1 = 25, 2 = 29.97 drop-frame, 3 = 30 fps.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bridge.errors import InputError

RATES_FPS: tuple[float, ...] = (24.0, 25.0, 30000.0 / 1001.0, 30.0)
NOMINAL_FPS: tuple[int, ...] = (24, 25, 30, 30)  # frames counted per second in a label, by rate code


@dataclass(frozen=True)
class Timecode:
    """An SMPTE time ``hours:minutes:seconds:frames`` at rate code ``rate`` (0..3, see module doc)."""

    hours: int
    minutes: int
    seconds: int
    frames: int
    rate: int = 1

    @property
    def fps(self) -> float:
        return RATES_FPS[self.rate]

    @property
    def total_seconds(self) -> float:
        """Seconds since 00:00:00:00 (drop-frame labels skip frames 0 and 1 of most minutes)."""
        nominal = NOMINAL_FPS[self.rate]
        frames = ((self.hours * 60 + self.minutes) * 60 + self.seconds) * nominal + self.frames
        if self.rate == 2:
            total_minutes = self.hours * 60 + self.minutes
            frames -= 2 * (total_minutes - total_minutes // 10)
        return frames / self.fps

    def __str__(self) -> str:
        sep = ";" if self.rate == 2 else ":"
        return f"{self.hours:02d}:{self.minutes:02d}:{self.seconds:02d}{sep}{self.frames:02d}"


_TIMECODE = re.compile(r"\s*(\d{1,2}):(\d{1,2}):(\d{1,2})[:;.](\d{1,2})\s*")


def parse_timecode(text: str, fps: float = 25.0, where: str = "--mtc-start") -> float:
    """``"01:00:00:00"`` -> seconds (3600.0), frames counted at ``fps``; InputError when malformed."""
    match = _TIMECODE.fullmatch(str(text))
    if not match:
        raise InputError(where, f"timecode must look like HH:MM:SS:FF, got {text!r}")
    hours, minutes, seconds, frames = (int(g) for g in match.groups())
    if minutes > 59 or seconds > 59 or frames >= round(fps):
        raise InputError(where, f"{text.strip()}: minutes/seconds must be < 60 and frames < {round(fps)}")
    return (hours * 60 + minutes) * 60 + seconds + frames / fps


def parse_full_frame(data: tuple[int, ...] | list[int]) -> Timecode | None:
    """The time of an MTC full-frame SysEx (mido's ``data``, without F0/F7); None for other SysEx."""
    data = tuple(data)
    if len(data) != 8 or data[0] != 0x7F or data[2:4] != (0x01, 0x01):
        return None
    hh, mm, ss, ff = data[4:8]
    return Timecode(hh & 0x1F, mm & 0x3F, ss & 0x3F, ff & 0x1F, (hh >> 5) & 0x03)


def full_frame_data(timecode: Timecode, device: int = 0x7F) -> tuple[int, ...]:
    """The SysEx ``data`` of a full-frame message for ``timecode`` (inverse of :func:`parse_full_frame`)."""
    return (0x7F, device, 0x01, 0x01, (timecode.rate << 5) | timecode.hours, timecode.minutes,
            timecode.seconds, timecode.frames)


def quarter_frame_values(timecode: Timecode) -> tuple[int, ...]:
    """The 8 quarter-frame ``frame_value`` nibbles (pieces 0..7) that encode ``timecode``."""
    hours = (timecode.rate << 5) | timecode.hours
    fields = (timecode.frames, timecode.seconds, timecode.minutes, hours)
    return tuple(v for field in fields for v in (field & 0x0F, field >> 4))


@dataclass(frozen=True)
class MtcSample:
    """At ``arrival_seconds`` (the caller's clock) the timecode read ``mtc_seconds``; ``locate`` for full frames."""

    arrival_seconds: float
    mtc_seconds: float
    fps: float
    locate: bool = False


class MtcDecoder:
    """Turns quarter-frame and full-frame messages into :class:`MtcSample` values.

    Thread-safety: none; one thread feeds. Realtime-safety: O(1) per message.
    """

    def __init__(self) -> None:
        self._pieces: list[int | None] = [None] * 8
        self._expected = 0  # next piece in forward order
        self._base: float | None = None  # seconds of piece 0 of the current set
        self._fps = 25.0

    def reset(self) -> None:
        self._pieces = [None] * 8
        self._expected = 0
        self._base = None

    def feed(self, message: Any, arrival_seconds: float) -> MtcSample | None:
        """Feed a mido message; returns a sample when it fixes a time, else None."""
        if message.type == "sysex":
            timecode = parse_full_frame(message.data)
            if timecode is None:
                return None
            self.reset()
            self._fps = timecode.fps
            return MtcSample(arrival_seconds, timecode.total_seconds, timecode.fps, locate=True)
        if message.type != "quarter_frame":
            return None
        piece, value = int(message.frame_type), int(message.frame_value)
        if piece != self._expected:
            # out of order (locate, reverse, dropped byte): wait for the next piece 0
            self._pieces = [None] * 8
            self._base = None
            if piece != 0:
                self._expected = 0
                return None
        self._pieces[piece] = value
        self._expected = (piece + 1) % 8
        if piece == 7 and None not in self._pieces:
            p = self._pieces
            hours = p[6] | (p[7] << 4)  # type: ignore[operator]
            timecode = Timecode(hours & 0x1F, p[4] | (p[5] << 4), p[2] | (p[3] << 4),  # type: ignore[operator]
                                p[0] | (p[1] << 4), (hours >> 5) & 0x03)  # type: ignore[operator]
            self._fps = timecode.fps
            self._base = timecode.total_seconds
            self._pieces = [None] * 8
            return MtcSample(arrival_seconds, self._base + 7 / (4 * self._fps), self._fps)
        if self._base is not None:
            # pieces of the next set: the previous set's time plus 2 frames plus k quarter frames
            return MtcSample(arrival_seconds, self._base + (8 + piece) / (4 * self._fps), self._fps)
        return None
