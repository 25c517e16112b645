"""Per-bar keyframes: one entry per bar of the exported range, written as JSON, CSV and Parseq.

``keyframes.json`` is the source of truth (and what ``barlight export --keyframes``
reads back); ``keyframes.csv`` flattens it one row per bar for spreadsheets;
``keyframes.parseq.json`` is a Parseq document (the Deforum parameter sequencer's
format: ``options`` plus ``keyframes`` of ``{frame, seed, seed_i, info}``) so its
seeds and bar labels can be loaded there. See docs/export.md for every field.

Times: ``seconds`` and ``beat`` are song time from the TempoMap (bar 1 at 0 s), so they
read the same as the DAW; ``frame`` and ``video_seconds`` count from the first frame of
the video, which shows the first exported bar. With bars from 1 the two agree:
``frame == round(seconds * fps)``.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from bridge.errors import InputError
from bridge.timeline.tempo_map import TempoMap
from renderer.export.timing import fps_label, parse_fps

FORMAT_VERSION = 1
JSON_NAME = "keyframes.json"
CSV_NAME = "keyframes.csv"
PARSEQ_NAME = "keyframes.parseq.json"
IMAGE_DIR = "keyframes"


def image_name(bar: int) -> str:
    """Path (relative to the export folder) of bar ``bar``'s keyframe image."""
    return f"{IMAGE_DIR}/bar_{bar:04d}.png"


@dataclass(frozen=True)
class BarKeyframe:
    """One bar of the export: where it starts (song time and video frame), its music, and how it was rendered."""

    bar: int
    beat: float
    seconds: float
    video_seconds: float
    frame: int
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
            "conditioning": self.conditioning, "image": self.image,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BarKeyframe:
        return cls(
            bar=int(data["bar"]), beat=float(data["beat"]), seconds=float(data["seconds"]),
            video_seconds=float(data.get("video_seconds", data["seconds"])), frame=int(data["frame"]),
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


# -- writing -----------------------------------------------------------------------------

def keyframes_json(sheet: KeyframeSheet) -> str:
    return json.dumps(sheet.to_dict(), indent=2, ensure_ascii=False) + "\n"


CSV_COLUMNS = ("bar", "beat", "seconds", "video_seconds", "frame", "bpm", "numerator", "denominator",
               "section", "seed", "image")


def keyframes_csv(sheet: KeyframeSheet) -> str:
    """One row per bar: the timing columns, then ``feature_<name>`` and ``cond_<name>`` for every scalar
    (nested names joined with dots, e.g. ``feature_mean.rms_db``; per-band lists stay in the JSON only)."""
    feature_keys = sorted({k for kf in sheet.bars for k in _flat(kf.features)})
    cond_keys = sorted({k for kf in sheet.bars for k in _flat(kf.conditioning)})
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*CSV_COLUMNS, *(f"feature_{k}" for k in feature_keys), *(f"cond_{k}" for k in cond_keys)])
    for kf in sheet.bars:
        row = kf.to_dict()
        flat = _flat(kf.conditioning)
        features = _flat(kf.features)
        writer.writerow([
            *("" if row[c] is None else row[c] for c in CSV_COLUMNS),
            *(features.get(k, "") for k in feature_keys),
            *(flat.get(k, "") for k in cond_keys),
        ])
    return out.getvalue()


def _is_scalar(value: Any) -> bool:
    return isinstance(value, (int, float, str, bool)) or value is None


def _flat(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested dicts flattened to ``a.b`` keys; lists are left out of the CSV (they stay in the JSON)."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flat(value, f"{name}."))
        elif _is_scalar(value):
            out[name] = value
    return out


def parseq_seed(seed: int) -> int:
    """Barlight's 63-bit bar seed folded to the 32 bits Parseq/Deforum seeds have (JavaScript numbers
    hold integers exactly only up to 2**53)."""
    return int(seed) % 2**32


def keyframes_parseq(sheet: KeyframeSheet, doc_name: str = "Barlight export") -> str:
    """A Parseq document: seed keyframes on each bar's frame (step interpolation), bar and section as ``info``.

    Parseq assumes one constant tempo, so ``options.bpm`` is the tempo at the first
    exported bar; the keyframes themselves sit on exact frame numbers, so tempo changes
    and meter changes still land right. Frames are video frames (the first exported bar is 0).
    Seeds are folded to 32 bits (:func:`parseq_seed`); ``keyframes.json`` keeps the full ones.
    """
    keyframes = []
    for kf in sheet.bars:
        label = f"bar {kf.bar}" + (f" {kf.section}" if kf.section else "") + f" {kf.numerator}/{kf.denominator}"
        keyframes.append({"frame": kf.frame, "seed": parseq_seed(kf.seed), "seed_i": "S", "info": label})
    last = max(sheet.frame_count - 1, 0)
    if not keyframes or keyframes[-1]["frame"] < last:
        keyframes.append({"frame": last})  # Parseq renders up to its last keyframe
    if keyframes and keyframes[0]["frame"] != 0:
        keyframes.insert(0, {"frame": 0, "seed": parseq_seed(sheet.bars[0].seed) if sheet.bars else 0, "seed_i": "S"})
    doc = {
        "meta": {"docName": doc_name, "generated_by": "barlight"},
        "prompts": {"positive": "", "negative": ""},
        "options": {
            "input_fps": "",
            "bpm": round(sheet.bars[0].bpm, 6) if sheet.bars else 120,
            "output_fps": float(sheet.fps) if sheet.fps.denominator != 1 else sheet.fps.numerator,
            "cc_window_width": 0,
            "cc_window_slide_rate": 1,
            "cc_use_input": False,
        },
        "managedFields": ["seed"],
        "displayedFields": ["seed"],
        "keyframeLock": "frames",
        "keyframes": keyframes,
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def write_keyframes(sheet: KeyframeSheet, out_dir: str | os.PathLike[str]) -> tuple[Path, Path, Path]:
    """Write ``keyframes.json``, ``keyframes.csv`` and ``keyframes.parseq.json`` into ``out_dir`` (each atomically)."""
    from bridge.files import atomic_output

    out = Path(out_dir)
    paths = (out / JSON_NAME, out / CSV_NAME, out / PARSEQ_NAME)
    for path, text in zip(paths, (keyframes_json(sheet), keyframes_csv(sheet), keyframes_parseq(sheet))):
        with atomic_output(path) as tmp:
            tmp.write_text(text, encoding="utf-8")
    return paths


def read_keyframes(path: str | os.PathLike[str]) -> KeyframeSheet:
    """Read a ``keyframes.json`` written by :func:`write_keyframes`."""
    path = Path(path)
    if path.is_dir():
        path = path / JSON_NAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(path, "no such keyframes file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise InputError(path, f"not readable JSON ({err})") from None
    if not isinstance(data, dict) or data.get("format") != "barlight-keyframes":
        raise InputError(path, "not a Barlight keyframes file (no \"format\": \"barlight-keyframes\")")
    return KeyframeSheet.from_dict(data, os.fspath(path))


def bars_by_number(bars: Sequence[BarKeyframe]) -> dict[int, BarKeyframe]:
    return {kf.bar: kf for kf in bars}
