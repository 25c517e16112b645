"""Per-bar keyframes as values: one :class:`BarKeyframe` per bar of the exported range in a
:class:`KeyframeSheet`, and :func:`read_keyframes` for ``keyframes.json``.

The files are written by the writers in :mod:`renderer.export.keyframe_formats` (JSON, CSV,
Parseq, the images); ``keyframes.json`` is the source of truth and what
``barlight export --keyframes`` reads back. See docs/export.md for every field.

Times: ``seconds`` and ``beat`` are song time from the TempoMap (bar 1 at 0 s), so they
read the same as the DAW; ``frame`` and ``video_seconds`` count from the first frame of
the video, which shows the first exported bar. With bars from 1 the two agree:
``frame == round(seconds * fps)``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from bridge.errors import InputError
from bridge.files import recover_set
from bridge.inputs import parse_json, read_text_limited
from bridge.timeline.tempo_map import TempoMap
from renderer.export.timing import fps_label, parse_fps

FORMAT_VERSION = 1
JSON_NAME = "keyframes.json"
IMAGE_DIR = "keyframes"


def image_name(bar: int) -> str:
    """Path (relative to the export folder) of bar ``bar``'s keyframe image."""
    return f"{IMAGE_DIR}/bar_{bar:04d}.png"


@dataclass(frozen=True)
class BarKeyframe:
    """One bar of the export: where it starts (song time and nearest video frame), its music, and the frame
    that shows it: ``image_frame`` (``frame``, or the last frame when the bar starts in the video's last
    half frame), its picture ``image`` and the ``conditioning`` it was rendered with."""

    bar: int
    beat: float
    seconds: float
    video_seconds: float
    frame: int
    image_frame: int
    bpm: float
    numerator: int
    denominator: int
    section: str | None
    seed: int
    features: dict[str, Any] = field(default_factory=dict)
    conditioning: dict[str, Any] = field(default_factory=dict)
    image: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "bar": self.bar, "beat": self.beat, "seconds": self.seconds, "video_seconds": self.video_seconds,
            "frame": self.frame, "bpm": self.bpm, "numerator": self.numerator, "denominator": self.denominator,
            "section": self.section, "seed": self.seed, "features": self.features,
            "image_frame": self.image_frame, "conditioning": self.conditioning, "image": self.image,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BarKeyframe:
        return cls(
            bar=int(data["bar"]), beat=float(data["beat"]), seconds=float(data["seconds"]),
            video_seconds=float(data.get("video_seconds", data["seconds"])), frame=int(data["frame"]),
            image_frame=int(data.get("image_frame", data["frame"])),
            bpm=float(data["bpm"]), numerator=int(data["numerator"]), denominator=int(data["denominator"]),
            section=data.get("section"), seed=int(data["seed"]), features=dict(data.get("features") or {}),
            conditioning=dict(data.get("conditioning") or {}), image=str(data.get("image", "")),
        )


@dataclass(frozen=True)
class KeyframeSheet:
    """Everything ``keyframes.json`` holds: the video's geometry, its sources, and one :class:`BarKeyframe` per bar."""

    fps: Fraction
    width: int
    height: int
    audio: str
    timeline: dict[str, Any]
    bars: tuple[BarKeyframe, ...]
    frame_count: int = 0
    duration_seconds: float = 0.0
    start_bar: int = 1
    start_seconds: float = 0.0
    preset: str = ""
    backend: str = ""
    video: str = ""
    base_seed: int | None = None
    audio_start_seconds: float | None = None  # song time of AUDIO's first sample (None: start_seconds)

    @property
    def tempo_map(self) -> TempoMap:
        return TempoMap.from_dict(self.timeline)

    def seeds(self) -> dict[int, int]:
        """Bar number -> seed, as rendered."""
        return {kf.bar: kf.seed for kf in self.bars}

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": "barlight-keyframes",
            "version": FORMAT_VERSION,
            "fps": fps_label(self.fps),
            "fps_rational": [self.fps.numerator, self.fps.denominator],
            "width": self.width,
            "height": self.height,
            "frame_count": self.frame_count,
            "duration_seconds": self.duration_seconds,
            "start_bar": self.start_bar,
            "start_seconds": self.start_seconds,
            "audio_start_seconds": self.start_seconds if self.audio_start_seconds is None else self.audio_start_seconds,
            "audio": self.audio,
            "video": self.video,
            "preset": self.preset,
            "backend": self.backend,
            "base_seed": self.base_seed,
            "timeline": self.timeline,
            "bars": [kf.to_dict() for kf in self.bars],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str = JSON_NAME) -> KeyframeSheet:
        try:
            if "fps_rational" in data:
                fps = Fraction(int(data["fps_rational"][0]), int(data["fps_rational"][1]))
            else:
                fps = parse_fps(str(data["fps"]), f"{where}: fps")
            sheet = cls(
                fps=fps, width=int(data["width"]), height=int(data["height"]), audio=str(data.get("audio", "")),
                timeline=dict(data["timeline"]), bars=tuple(BarKeyframe.from_dict(b) for b in data["bars"]),
                frame_count=int(data.get("frame_count", 0)), duration_seconds=float(data.get("duration_seconds", 0.0)),
                start_bar=int(data.get("start_bar", 1)), start_seconds=float(data.get("start_seconds", 0.0)),
                preset=str(data.get("preset", "")), backend=str(data.get("backend", "")),
                video=str(data.get("video", "")),
                base_seed=None if data.get("base_seed") is None else int(data["base_seed"]),
                audio_start_seconds=None if data.get("audio_start_seconds") is None
                else float(data["audio_start_seconds"]),
            )
            sheet.tempo_map  # noqa: B018 - validates the timeline now, not mid-render
        except InputError:
            raise
        except (KeyError, TypeError, ValueError, IndexError, ZeroDivisionError) as err:
            raise InputError(where, f"not a Barlight keyframes file ({type(err).__name__}: {err})") from None
        return sheet


# -- reading -----------------------------------------------------------------------------

def read_keyframes(path: str | os.PathLike[str]) -> KeyframeSheet:
    """Read a ``keyframes.json`` (written by :mod:`renderer.export.keyframe_formats.json_file`)."""
    path = Path(path)
    if path.is_dir():
        recover_set(path)  # an export into that folder that a crash cut mid-swap is finished first
        path = path / JSON_NAME
    else:
        recover_set(path.parent)
    try:
        data = parse_json(read_text_limited(path, "keyframes"))
    except ValueError as err:
        raise InputError(path, f"not readable JSON ({err})") from None
    if not isinstance(data, dict) or data.get("format") != "barlight-keyframes":
        raise InputError(path, "not a Barlight keyframes file (no \"format\": \"barlight-keyframes\")")
    return KeyframeSheet.from_dict(data, os.fspath(path))
