"""The checks the rows of :mod:`bridge.protocol.spec` name, each failure a drop reason.

A receiver counts dropped datagrams per reason (``ProtocolError.reason``); the
reasons are listed in :data:`DROP_REASONS` and in docs/protocol.md. Every check
raises naming the argument and the range it missed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from bridge.errors import BarlightError
from bridge.timeline.tempo_map import check_meter as check_timeline_meter

#: Why a datagram was dropped. The first group comes from :func:`bridge.protocol.decode.decode`,
#: the last three from the receiver.
DROP_REASONS: tuple[str, ...] = (
    "undecodable",  # not an OSC 1.0 message (bundle, garbage, bad padding, bad UTF-8, odd type tag)
    "unknown_address",  # not a sender -> renderer address of protocol v1
    "too_few_args",  # fewer arguments than the address needs
    "wrong_type",  # an argument's type tag is not the one listed (f/d, i/h, s)
    "not_finite",  # NaN or +-inf in a float argument
    "bad_bpm",  # tempo <= 0 or > the table's MAX_BPM
    "bad_meter",  # numerator outside 1..99 or denominator not a power of two 1..64
    "out_of_range",  # negative amplitude, macro outside 0..1, loop end before start, bad port, bad PCM block
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


@dataclass(frozen=True)
class Range:
    """A number's allowed range as a field check: ``at_least``/``above`` below, ``at_most`` above."""

    at_least: float | None = None
    above: float | None = None
    at_most: float | None = None
    reason: str = "out_of_range"

    def __call__(self, name: str, value: float) -> None:
        if ((self.at_least is not None and value < self.at_least) or (self.above is not None and value <= self.above)
                or (self.at_most is not None and value > self.at_most)):
            raise ProtocolError(self.reason, f"{name} must be {self.describe()}, got {value!r}")

    def describe(self) -> str:
        """``0..1``, ``>= 0`` or ``> 0 and <= 999``."""
        if self.at_least is not None and self.at_most is not None:
            return f"{self.at_least:g}..{self.at_most:g}"
        parts = [f">= {self.at_least:g}" if self.at_least is not None else "",
                 f"> {self.above:g}" if self.above is not None else "",
                 f"<= {self.at_most:g}" if self.at_most is not None else ""]
        return " and ".join(part for part in parts if part)


@dataclass(frozen=True)
class BlobSize:
    """A blob's allowed size as a field check: whole items of ``unit`` bytes, ``at_least``..``at_most`` of them."""

    unit: int
    at_least: int
    at_most: int

    def __call__(self, name: str, value: bytes) -> None:
        items, rest = divmod(len(value), self.unit)
        if rest or not self.at_least <= items <= self.at_most:
            raise ProtocolError("out_of_range", f"{name} must hold {self.at_least}..{self.at_most} items of "
                                                f"{self.unit} bytes, got {len(value)} bytes")


def check_version(name: str, version: str) -> None:
    """A hello's ``version`` must be of major version 1 (``"1"``, ``"1.2"``)."""
    if version.split(".", 1)[0] != "1":
        raise ProtocolError("unsupported_version", f"protocol {name} {version!r}, this receiver speaks 1")


def check_meter(numerator: int, denominator: int) -> None:
    """The meters a TempoMap accepts (:func:`bridge.timeline.tempo_map.check_meter`), as a ``bad_meter`` drop."""
    try:
        check_timeline_meter(numerator, denominator)
    except ValueError as err:
        raise ProtocolError("bad_meter", str(err)) from None


def check_loop(start_beat: float, end_beat: float) -> None:
    if end_beat < start_beat:
        raise ProtocolError("out_of_range", f"loop end_beat {end_beat!r} is before start_beat {start_beat!r}")
