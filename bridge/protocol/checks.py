"""Validation of decoded protocol v1 values, each failure named by a drop reason.

A receiver counts dropped datagrams per reason (``ProtocolError.reason``); the
reasons are listed in :data:`DROP_REASONS` and in docs/protocol.md.
"""

from __future__ import annotations

import math

from bridge.errors import BarlightError
from bridge.timeline.tempo_map import check_meter as check_timeline_meter

#: Highest tempo a v1 message may carry (quarter notes per minute); it must also be > 0.
MAX_BPM = 999.0

#: Why a datagram was dropped. The first group comes from :func:`bridge.protocol.decode.decode`,
#: the last three from the receiver.
DROP_REASONS: tuple[str, ...] = (
    "undecodable",  # not an OSC 1.0 message (bundle, garbage, bad padding, bad UTF-8, odd type tag)
    "unknown_address",  # not a sender -> renderer address of protocol v1
    "too_few_args",  # fewer arguments than the address needs
    "wrong_type",  # an argument's type tag is not the one listed (f/d, i/h, s)
    "not_finite",  # NaN or +-inf in a float argument
    "bad_bpm",  # tempo <= 0 or > MAX_BPM
    "bad_meter",  # numerator outside 1..99 or denominator not a power of two 1..64
    "out_of_range",  # negative amplitude, macro outside 0..1, loop end before start, bad port
    "unsupported_version",  # hello announcing a protocol major version other than 1
    "not_allowed",  # source address not allowed by the receiver's allow list
    "flood",  # beyond the per-source rate limit
)


class ProtocolError(BarlightError, ValueError):
    """A datagram that protocol v1 rejects; ``reason`` is one of :data:`DROP_REASONS`."""

    def __init__(self, reason: str, detail: str) -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason}: {detail}")


def check_finite(name: str, value: float) -> float:
    if not math.isfinite(value):
        raise ProtocolError("not_finite", f"{name} is {value!r}")
    return float(value)


def check_bpm(bpm: float) -> float:
    check_finite("bpm", bpm)
    if not 0.0 < bpm <= MAX_BPM:
        raise ProtocolError("bad_bpm", f"bpm must be > 0 and <= {MAX_BPM:g}, got {bpm!r}")
    return float(bpm)


def check_meter(numerator: int, denominator: int) -> None:
    """The meters a TempoMap accepts (:func:`bridge.timeline.tempo_map.check_meter`), as a ``bad_meter`` drop."""
    try:
        check_timeline_meter(numerator, denominator)
    except ValueError as err:
        raise ProtocolError("bad_meter", str(err)) from None


def check_amplitude(name: str, value: float) -> float:
    check_finite(name, value)
    if value < 0.0:
        raise ProtocolError("out_of_range", f"{name} must be >= 0, got {value!r}")
    return float(value)


def check_unit(name: str, value: float) -> float:
    check_finite(name, value)
    if not 0.0 <= value <= 1.0:
        raise ProtocolError("out_of_range", f"{name} must be 0..1, got {value!r}")
    return float(value)


def check_loop(start_beat: float, end_beat: float) -> None:
    check_finite("start_beat", start_beat)
    check_finite("end_beat", end_beat)
    if end_beat < start_beat:
        raise ProtocolError("out_of_range", f"loop end_beat {end_beat!r} is before start_beat {start_beat!r}")


def check_port(name: str, port: int) -> int:
    if not 1 <= port <= 65535:
        raise ProtocolError("out_of_range", f"{name} must be 1..65535, got {port}")
    return port


def check_version(version: str) -> str:
    if version.split(".", 1)[0] != "1":
        raise ProtocolError("unsupported_version", f"protocol version {version!r}, this receiver speaks 1")
    return version
