"""The export job: plan the frames from the TempoMap, render them with checkpoints, then write the files.

Timing contract (docs/export.md):

- the video starts at the first exported bar (bar 1 unless ``--bars A:B``), and so does AUDIO;
- frame ``k`` shows the Moment at song time ``start_seconds + k / fps`` (exact, never accumulated);
- there are ``ceil(duration * fps)`` frames, ``duration`` being the audio cut to the bar range;
- bar ``n``'s keyframe has ``seconds`` = the TempoMap's start of bar ``n`` (song time) and
  ``frame = round((seconds - start_seconds) * fps)``, so with bars from 1, ``round(seconds * fps)``.

Rendering checkpoints every frame (PNG) and the renderer state about once a second (and on
Ctrl-C or a crash), so a rerun resumes. A worker thread writes the checkpoints and feeds the
encoder in frame order while the next frame renders (a resumed run first re-feeds the kept
frames). The video is encoded into a hidden temporary file; the keyframe images and files are
written after the last frame, and the video is renamed into place last.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from bridge.errors import InputError
from bridge.timeline.tempo_map import Bar, TempoMap
from renderer.export.audio import AudioClip, read_audio
from renderer.export.checkpoint import BackgroundWriter, FrameStore
from renderer.export.keyframes import BarKeyframe, KeyframeSheet, image_name, write_keyframes
from renderer.export.request import ExportRequest
from renderer.export.timing import BarRange, frame_count, frame_seconds, nearest_frame
from renderer.export.video import H264, VideoWriter


# -- the plan: pure timing ---------------------------------------------------------------

@dataclass(frozen=True)
class ExportPlan:
    """Which frames and bars an export has; pure arithmetic on the TempoMap, fps and audio length."""

    tempo_map: TempoMap
    fps: Fraction
    start_bar: int
    start_seconds: float  # song time of frame 0: the start of ``start_bar``
    duration_seconds: Fraction  # length of the video (the audio cut to the bar range)
    frame_count: int
    bars: tuple[Bar, ...]  # bars that start within the video

    def song_seconds(self, frame: int) -> float:
        """Song time shown by ``frame``: ``start_seconds + frame / fps``, computed afresh for every frame."""
        return float(Fraction(self.start_seconds) + frame_seconds(frame, self.fps))

    def frame_of(self, seconds: float) -> int:
        """The video frame nearest song time ``seconds``."""
        return nearest_frame(Fraction(seconds) - Fraction(self.start_seconds), self.fps)


def plan_export(tempo_map: TempoMap, audio_seconds: Fraction, fps: Fraction, bars: BarRange = BarRange()) -> ExportPlan:
    """Plan an export of ``bars`` whose audio (starting at the first of them) lasts ``audio_seconds``."""
    start_seconds = tempo_map.bar_start_seconds(bars.first)
    duration = Fraction(audio_seconds)
    if bars.last is not None:
        end = Fraction(tempo_map.bar_start_seconds(bars.last + 1)) - Fraction(start_seconds)
        duration = min(duration, end)
    if duration <= 0:
        raise InputError("AUDIO", "no audio to export")
    rows = []
    number = bars.first
    while True:
        row = tempo_map.bar(number)
        if Fraction(row.seconds) - Fraction(start_seconds) >= duration:
            break
        rows.append(row)
        number += 1
    return ExportPlan(tempo_map, Fraction(fps), bars.first, start_seconds, duration, frame_count(duration, fps),
                      tuple(rows))


# -- features in song time ---------------------------------------------------------------

def analyze_audio(audio: AudioClip, where: os.PathLike[str] | str) -> Any:
    """The FeatureTrack of the decoded AUDIO (``bridge.features``' extractor; any format FFmpeg reads)."""
    from bridge.features import FeatureExtractor

    try:
        extractor = FeatureExtractor(audio.sample_rate)
    except ValueError as err:
        raise InputError(where, str(err)) from None
    return extractor.analyze(audio.samples.T)


def song_track(track: Any, offset_seconds: float) -> Any:
    """``track`` (a FeatureTrack on the audio's clock) moved onto the song's clock: frame times + ``offset_seconds``.

    AUDIO starts at the first exported bar, so its time 0 is that bar's song time.
    """
    if not offset_seconds:
        return track
    import dataclasses

    return dataclasses.replace(track, seconds=np.asarray(track.seconds) + float(offset_seconds))


# -- the result --------------------------------------------------------------------------

@dataclass(frozen=True)
class ExportResult:
    video: Path
    keyframes: tuple[Path, ...]
    images: tuple[Path, ...]
    plan: ExportPlan
    rendered_frames: int  # frames rendered by this run (the rest came from checkpoints)
    resumed_from: int


def _audio_digest(clip: AudioClip) -> str:
    digest = hashlib.sha256()
    digest.update(str(clip.sample_rate).encode())
    digest.update(np.ascontiguousarray(clip.samples).tobytes())
    return digest.hexdigest()[:32]


def _file_digest(path: str) -> str | None:
    """Hash of a preset file's bytes (an edited preset must not resume from old frames)."""
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:32]
    except OSError:
        return None


def build_renderer(request: ExportRequest):
    """The Renderer for ``request``: its preset, backend, size and seed (per-bar seeds are applied by run_export)."""
    from renderer.renderer import Renderer

    renderer = Renderer.from_preset(request.preset, backend=request.backend, size=request.size,
                                    device=request.device, seed=request.seed, model=request.model)
    from renderer.devices import apply_cpu_policy

    apply_cpu_policy(request.threads)  # after loading: it overrides the backend's own default
    return renderer


def _with_seeds(renderer: Any, request: ExportRequest) -> Any:
    """Check the renderer matches the request; apply seeds from a keyframes file that differ (edited by hand)."""
    if tuple(renderer.size) != tuple(request.size):
        raise ValueError(f"renderer size {tuple(renderer.size)} differs from the requested {request.size}")
    if request.seed is not None and renderer.seed != request.seed:
        raise ValueError(f"renderer base seed {renderer.seed} differs from the requested {request.seed}")
    overrides = {bar: seed for bar, seed in request.seeds.items() if renderer.seed_for_bar(bar) != seed}
    return renderer.with_bar_seeds(overrides) if overrides else renderer


def run_export(
    request: ExportRequest,
    renderer: Any = None,
    features: Any = None,
    progress: bool = True,
    on_frame: Callable[[int], None] | None = None,
) -> ExportResult:
    """Render and write one export; see the module docstring. ``on_frame(k)`` runs after frame k is kept."""
    from bridge.files import atomic_output
    from renderer.moment import moment_at

    out = Path(request.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    audio = read_audio(request.audio)
    # Song time of AUDIO's first sample: the first exported bar's, unless AUDIO is the whole song.
    audio_start = 0.0 if request.audio_from_bar_1 else request.tempo_map.bar_start_seconds(request.bars.first)
    skip = Fraction(request.tempo_map.bar_start_seconds(request.bars.first)) - Fraction(audio_start)
    if skip >= audio.duration_seconds:
        raise InputError(request.audio, f"the audio ends before bar {request.bars.first}")
    plan = plan_export(request.tempo_map, audio.duration_seconds - skip, request.fps, request.bars)
    clip = audio.cut(skip, skip + plan.duration_seconds)
    if features is None:
        features = analyze_audio(audio, request.audio)
    song_features = song_track(features, audio_start)
    renderer = _with_seeds(renderer if renderer is not None else build_renderer(request), request)
    window_beats = renderer.preset.window_beats
    video_format = request.video_format or H264

    # Half a frame of lookahead: an onset shows on the frame nearest it, not the one after.
    lookahead = float(1 / (2 * plan.fps))

    def moment(seconds: float):
        return moment_at(plan.tempo_map, song_features, seconds, window_beats=window_beats,
                         lookahead_seconds=lookahead)

    job = {
        "timeline": _timeline_dict(plan.tempo_map),
        "audio": _audio_digest(clip),
        "fps": [plan.fps.numerator, plan.fps.denominator],
        "size": list(request.size),
        "start_bar": plan.start_bar,
        "audio_start_seconds": audio_start,
        "frame_count": plan.frame_count,
        "preset": renderer.preset.name,
        "preset_source": str(renderer.preset.source),
        "preset_digest": _file_digest(renderer.preset.source),
        "backend": renderer.backend.describe(),
        "seed": renderer.seed,
        "bar_seeds": {str(b.bar): renderer.seed_for_bar(b.bar) for b in plan.bars},
    }
    store = FrameStore(out, job)
    store.open()
    first, state = store.resume_point()
    state_every = request.state_every or max(1, round(float(plan.fps)))
    rendered = 0
    last_done = first - 1
    video_path = request.video_path
    video = VideoWriter(video_path, plan.fps, request.size, clip, video_format)
    bar_iter = _progress(plan.frame_count, first, progress, "render")
    # Frames are checkpointed and encoded on a worker thread, in order, while the next one renders.
    writer = BackgroundWriter(store, sink=lambda _k, rgb: video.write(rgb))
    try:
        for k in range(first):
            writer.replay(k)
        for k in range(first, plan.frame_count):
            result = renderer.render(moment(plan.song_seconds(k)), state)
            state = result.state
            writer.save_frame(k, result.frame)
            last_done = k
            rendered += 1
            if (k + 1) % state_every == 0 or k == plan.frame_count - 1:
                writer.save_state(k, state)
            if bar_iter is not None:
                bar_iter.update(1)
            if on_frame is not None:
                on_frame(k)
        writer.close()
    except BaseException:
        try:
            writer.close()  # every finished frame onto disk ...
        finally:
            video.abort()
            if last_done >= first:  # ... and the state after the last one: a rerun resumes right there
                store.save_state(last_done, state)
        raise
    finally:
        if bar_iter is not None:
            bar_iter.close()
    if video.frames_written != plan.frame_count:
        video.abort()
        raise RuntimeError(f"encoded {video.frames_written} of {plan.frame_count} frames")

    try:
        summaries = bar_features(features, plan, audio_start)
        keyframes = []
        images = []
        image_dir = out / "keyframes"
        image_dir.mkdir(exist_ok=True)
        for row in plan.bars:
            bar_moment = moment(row.seconds)
            description = renderer.describe(bar_moment)
            frame = plan.frame_of(row.seconds)
            image = image_name(row.bar)
            # A bar starting in the last half frame rounds to one past the end: show the last frame.
            with atomic_output(out / image) as tmp:
                shutil.copyfile(store.frame_path(min(frame, plan.frame_count - 1)), tmp)
            images.append(out / image)
            keyframes.append(BarKeyframe(
                bar=row.bar, beat=row.beat, seconds=row.seconds,
                video_seconds=float(Fraction(row.seconds) - Fraction(plan.start_seconds)),
                frame=frame, bpm=row.bpm, numerator=row.numerator, denominator=row.denominator,
                section=bar_moment.section, seed=renderer.seed_for_bar(row.bar),
                features=summaries.get(row.bar, {}),
                conditioning=description["conditioning"], image=image,
            ))

        sheet = KeyframeSheet(
            fps=plan.fps, width=request.size[0], height=request.size[1], audio=os.fspath(request.audio.resolve()),
            timeline={"source": request.timeline_source, **_timeline_dict(plan.tempo_map)},
            bars=tuple(keyframes), frame_count=plan.frame_count, duration_seconds=float(plan.duration_seconds),
            start_bar=plan.start_bar, start_seconds=plan.start_seconds, preset=request.preset,
            backend=renderer.backend.name or "", video=video_path.name, base_seed=renderer.seed,
            audio_start_seconds=audio_start,
        )
        written = write_keyframes(sheet, out)
        current = {path.name for path in images}
        for stale in image_dir.glob("bar_[0-9][0-9][0-9][0-9].png"):  # from an earlier export into DIR
            if stale.name not in current:
                stale.unlink(missing_ok=True)
        video.close()  # the video appears last, when everything else is in place
    except BaseException:
        video.abort()
        raise
    if not request.keep_work:
        store.remove()
    return ExportResult(video_path, written, tuple(images), plan, rendered, first)


def _timeline_dict(tempo_map: TempoMap) -> dict[str, Any]:
    data = tempo_map.to_dict()
    data.pop("bars", None)
    return data


def bar_features(track: Any, plan: ExportPlan, audio_start_seconds: float) -> dict[int, dict[str, Any]]:
    """Bar number -> its feature summary (``bridge.features.summary``: mean/max per feature, onsets
    in AUDIO seconds, dominant pitch class, ``end_seconds`` in song time)."""
    from bridge.features.summary import summarize_bars

    if not plan.bars or track is None or not len(track):
        return {}
    summaries = summarize_bars(track, plan.tempo_map, plan.bars[0].bar, plan.bars[-1].bar,
                               audio_start_seconds=audio_start_seconds)
    return {s.bar: {"end_seconds": s.end_seconds, **s.stats.to_dict()} for s in summaries}


def _progress(total: int, initial: int, enabled: bool, label: str):
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=total, initial=initial, unit="frame", desc=label, file=sys.stderr, dynamic_ncols=True)
