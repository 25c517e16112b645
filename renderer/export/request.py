"""What one export is asked to make: :class:`ExportRequest`, fresh or re-rendered from a keyframes file.

A re-render (:func:`rerender_request`, ``barlight export --keyframes``) takes everything that
decides *what* is shown from the earlier export's ``keyframes.json``: its timeline, its bars,
its sections and its per-bar seeds (edited ones included), and by default its audio, size,
frame rate, preset, backend and base seed. Any of those defaults may be overridden (render
again at 4K, at 60 fps, on another backend); the bars may not.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from bridge.errors import InputError
from bridge.outputs import Output
from bridge.timeline.tempo_map import TempoMap
from renderer.export.chunks import DEFAULT_CHUNK_BARS, check_chunk_bars
from renderer.export.keyframes import KeyframeSheet
from renderer.export.timing import DEFAULT_FPS, DEFAULT_SIZE, BarRange, parse_fps, parse_size
from renderer.sinks.video_file import H264, VideoFormat
from renderer.presets import DEFAULT_PRESET


@dataclass(frozen=True)
class ExportRequest:
    """Everything one export needs. ``timeline_source`` only names where the TempoMap came from."""

    audio: Path
    out_dir: Path
    tempo_map: TempoMap
    timeline_source: str = ""
    preset: str = DEFAULT_PRESET
    backend: str | None = None
    fps: Fraction = DEFAULT_FPS
    size: tuple[int, int] = DEFAULT_SIZE
    bars: BarRange = BarRange()
    video_format: VideoFormat | None = None
    seed: int | None = None
    seeds: dict[int, int] = field(default_factory=dict)  # bar -> seed overrides (from a keyframes file)
    device: str | None = None
    model: str | None = None
    threads: int | None = None  # torch CPU threads (None: the backend's default)
    audio_from_bar_1: bool = False  # AUDIO is the whole song from bar 1 even with ``bars`` (cut here)
    keep_work: bool = False
    chunk_bars: int = DEFAULT_CHUNK_BARS  # bars per chunk (renderer.export.chunks): a video segment, a worker's task

    def __post_init__(self) -> None:
        check_chunk_bars(self.chunk_bars)

    @property
    def video_path(self) -> Path:
        """``out_dir/<audio name>.mp4`` (``.mov`` for ProRes)."""
        return self.out_dir / video_name(self.audio, self.video_format)


def video_name(audio: str | os.PathLike[str], video_format: VideoFormat | None = None) -> str:
    """The export's video file name: AUDIO's name (a recording's, without ``.jsonl[.part]``) with ``.mp4``
    (``.mov`` for ProRes)."""
    name = Path(os.fspath(audio)).name.removesuffix(".part")
    return f"{Path(name).stem}{(video_format or H264).suffix}"


def export_output(out_dir: str | os.PathLike[str], audio: str | os.PathLike[str],
                  video_format: VideoFormat | None = None, option: str = "--out") -> Output:
    """What an export writes into ``out_dir``, for the output rule (:mod:`bridge.outputs`): its video and
    every keyframe format's files (``WRITES``)."""
    from renderer.export.keyframe_formats import keyframe_names

    return Output.folder(option, out_dir, (video_name(audio, video_format), *keyframe_names()))


def rerender_request(sheet: KeyframeSheet, source: str | os.PathLike[str], out_dir: Path, *,
                     audio: Path | None = None, bars: BarRange | None = None, fps: Fraction | None = None,
                     size: tuple[int, int] | None = None, seed: int | None = None, preset: str | None = None,
                     backend: str | None = None, **settings: Any) -> ExportRequest:
    """The request that renders ``sheet`` (read from ``source``) again into ``out_dir``: same timeline, bars,
    sections and seeds; ``audio``, ``fps``, ``size``, ``seed``, ``preset`` and ``backend`` default to the
    sheet's. ``bars`` must be None (the bars are the sheet's). ``settings`` (device, model, threads,
    video_format, keep_work ...) go to the request as they are."""
    if bars is not None:
        raise InputError("--bars", "a re-render from --keyframes exports the keyframes' bars; leave --bars out")
    where = os.fspath(source)
    return ExportRequest(
        audio=audio or Path(sheet.audio), out_dir=out_dir, tempo_map=sheet.tempo_map,
        timeline_source=str(sheet.timeline.get("source", "")) or where,
        preset=preset or sheet.preset or DEFAULT_PRESET, backend=backend or sheet.backend or None,
        fps=fps or parse_fps(sheet.fps, f"{where}: fps"),
        size=size or parse_size(f"{sheet.width}x{sheet.height}", f"{where}: width x height"),
        bars=BarRange(sheet.start_bar, sheet.bars[-1].bar if sheet.bars else None),
        seed=sheet.base_seed if seed is None else seed, seeds=sheet.seeds(),
        # AUDIO was the whole song when a range starting later had audio from song time 0
        audio_from_bar_1=sheet.start_bar > 1 and sheet.audio_start_seconds == 0.0,
        **settings,
    )
