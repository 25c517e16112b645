"""The heads-up display as a value: text lines and meters, built from what the preview knows. Pure.

The window only paints a :class:`Hud`; what it says is decided here, so it is tested without Qt.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bridge.clock import TransportSnapshot
from bridge.features.frame import amplitude_db
from renderer.preview.schedule import PreviewFrame
from renderer.preview.status import LOST, PreviewStatus
from renderer.preview.worker import bar_beat_label

#: dB range of the band meters (bottom, top).
BAND_DB_RANGE = (-60.0, 0.0)


@dataclass(frozen=True)
class Meter:
    label: str
    value: float  #: 0..1


@dataclass(frozen=True)
class Hud:
    """What the HUD shows: ``lines`` of text, then rows of meters (``features``, ``bands``, ``macros``)."""

    lines: tuple[str, ...]
    features: tuple[Meter, ...] = ()
    bands: tuple[Meter, ...] = ()
    macros: tuple[Meter, ...] = ()


@dataclass(frozen=True)
class PreviewStats:
    """Timing of the preview, for the HUD (all in seconds or per second)."""

    shown_fps: float = 0.0
    render_seconds: float | None = None  #: last render's duration
    render_estimate_seconds: float = 0.0  #: the latency the worker plans with
    late: int = 0
    stale: int = 0
    max_tick_gap_seconds: float = 0.0  #: the longest pause between two display ticks lately (a stalled display)


def _unit(value: float, lo: float, hi: float) -> float:
    return min(max((value - lo) / (hi - lo), 0.0), 1.0)


def build_hud(snapshot: TransportSnapshot, now_seconds: float, status: PreviewStatus, frame: PreviewFrame | None,
              stats: PreviewStats, bands: Sequence[float] | None, macros: Sequence[float], preset: str,
              latency_ms: float, recording: str | None, note: str = "") -> Hud:
    """The HUD at ``now_seconds``: position and tempo now (what is audible), sender, timing, meters."""
    if status.state == LOST and frame is not None:  # the held frame's position, not an extrapolation
        where = f"{frame.label}   {snapshot.bpm:.2f} BPM   {snapshot.numerator}/{snapshot.denominator}   " \
                f"{frame.section or '—'}   (held)"
    elif snapshot.valid:
        beat = snapshot.beat_at(now_seconds)
        section = snapshot.section(beat)
        where = (f"{bar_beat_label(snapshot, beat)}   {snapshot.bpm:.2f} BPM   {snapshot.numerator}/"
                 f"{snapshot.denominator}   {section.name if section else '—'}")
    else:
        where = "—.—   — BPM   —/—   —"
    render = "—" if stats.render_seconds is None else f"{stats.render_seconds * 1000:.0f} ms"
    lines = [
        where,
        f"{status.sender or 'no sender'} · {status.state}",
        f"{stats.shown_fps:.1f} fps · render {render} (plans {stats.render_estimate_seconds * 1000:.0f} ms ahead)"
        f" · dropped {stats.late} late, {stats.stale} stale"
        f" · longest pause {stats.max_tick_gap_seconds * 1000:.0f} ms",
        f"preset {preset} · offset {latency_ms:+.0f} ms · "
        + (f"recording {recording}" if recording else "not recording"),
    ]
    if frame is not None and frame.preset != preset and frame.preset:
        lines.append(f"(showing a {frame.preset} frame)")
    if note:
        lines.append(note)
    info = frame.info if frame is not None else {}
    features = tuple(Meter(name, float(info.get(name, 0.0))) for name in ("energy", "brightness", "onset"))
    band_meters = tuple(Meter(str(i + 1), _unit(amplitude_db(b), *BAND_DB_RANGE))
                        for i, b in enumerate(bands or (0.0,) * 8))
    macro_meters = tuple(Meter(f"M{i + 1}", float(m)) for i, m in enumerate(macros))
    return Hud(tuple(lines), features, band_meters, macro_meters)
