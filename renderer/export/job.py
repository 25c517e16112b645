"""The export job: plan the frames from the TempoMap, render them with checkpoints, then write the files.

Timing contract (docs/export.md):

- the video starts at the first exported bar (bar 1 unless ``--bars A:B``), and so does AUDIO;
- frame ``k`` shows the Moment at song time ``start_seconds + k / fps`` (exact, never accumulated);
- there are ``ceil(duration * fps)`` frames, ``duration`` being the audio cut to the bar range;
- bar ``n``'s keyframe has ``seconds`` = the TempoMap's start of bar ``n`` (song time) and
  ``frame = round((seconds - start_seconds) * fps)``, so with bars from 1, ``round(seconds * fps)``.

Three steps, each callable alone: :func:`prepare_export` (the plan: audio, frames, features,
renderer), :func:`render_frames` (the render loop, over any range of frames) and
:func:`write_outputs` (the keyframe files, then the video). :func:`run_export` runs them on one
machine: each chunk's video segment is kept in the work folder as it completes, and the frames
that become keyframe images as PNGs, so a rerun renders only the chunks without a segment
(:mod:`renderer.export.checkpoint`). A worker thread feeds the frame sinks (the video file first)
in frame order while the next frame renders (a resumed run feeds them from its first frame on).

The video, keyframe files and images are one set (:func:`bridge.files.staged_set`): they are
written into a hidden staging folder beside the earlier export's files and swapped in together
after the last one is complete, so a crash at any moment leaves the earlier set or the new one
under the final names. A run that fails before rendering a frame leaves no work folder (and no
``--out`` folder it created) behind.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bridge.errors import InputError
from bridge.files import created_folder, staged_set
from bridge.timeline.sources import check_bar_count
from bridge.timeline.tempo_map import Bar, TempoMap
from renderer.export.audio import AudioClip, read_export_audio
from renderer.export.checkpoint import BackgroundWriter, FrameStore
from renderer.export.chunks import Chunk, chain_start, plan_chunks
from renderer.export.keyframe_formats import keyframe_names, write_keyframes
from renderer.export.keyframes import BarKeyframe, KeyframeSheet, image_name
from renderer.export.request import ExportRequest
from renderer.export.segments import SegmentedVideo
from renderer.export.timing import BarRange, frame_count, frame_seconds, nearest_frame
from renderer.moment import Moment, moment_at
from renderer.sinks.base import FramePosition, FrameSink, Outputs
from renderer.sinks.video_file import H264, VideoFormat

if TYPE_CHECKING:
    from renderer.renderer import RenderResult, RenderState


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

    def image_frame(self, bar: Bar) -> int:
        """The frame whose picture is ``bar``'s keyframe image: the one nearest its start (a bar starting in
        the last half frame rounds to one past the end: its picture is the last frame)."""
        return min(self.frame_of(bar.seconds), self.frame_count - 1)

    def position(self, frame: int) -> FramePosition:
        """The musical position ``frame`` shows (what the frame sinks are told with it)."""
        return FramePosition.of(moment_at(self.tempo_map, None, self.song_seconds(frame)), frame)


#: The most bars an export makes (one keyframe image each): 10,000 bars is 5.5 hours at 120 BPM in 4/4.
MAX_EXPORT_BARS = 10_000
#: The most frames an export renders (each is also a checkpoint PNG): an hour at 120 fps.
MAX_EXPORT_FRAMES = 432_000


def plan_export(tempo_map: TempoMap, audio_seconds: Fraction, fps: Fraction, bars: BarRange = BarRange(),
                where: str = "timeline") -> ExportPlan:
    """Plan an export of ``bars`` whose audio (starting at the first of them) lasts ``audio_seconds``;
    InputError naming ``where`` (the timeline's source) beyond :data:`MAX_EXPORT_BARS` bars, or naming
    ``--fps`` beyond :data:`MAX_EXPORT_FRAMES` frames."""
    start_seconds = tempo_map.bar_start_seconds(bars.first)
    duration = Fraction(audio_seconds)
    if bars.last is not None:
        end = Fraction(tempo_map.bar_start_seconds(bars.last + 1)) - Fraction(start_seconds)
        duration = min(duration, end)
    if duration <= 0:
        raise InputError("AUDIO", "no audio to export")
    check_bar_count(tempo_map.bar_at(tempo_map.beat_at(start_seconds + float(duration))), where, bars.first,
                    MAX_EXPORT_BARS)
    if frame_count(duration, fps) > MAX_EXPORT_FRAMES:
        raise InputError("--fps", f"{frame_count(duration, fps)} frames: at most {MAX_EXPORT_FRAMES} are rendered "
                                  "(export a lower --fps, or a range with --bars)")
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

def analyze_audio(audio: AudioClip, where: Path | str) -> Any:
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
    files: dict[str, tuple[Path, ...]]  # keyframe format -> the files it wrote
    plan: ExportPlan
    rendered_frames: int  # frames rendered by this run (the rest came from checkpoints)
    resumed_from: int  # frames kept from an earlier run (a local export resumes at this frame)

    @property
    def keyframes(self) -> tuple[Path, ...]:
        """The keyframe files (``keyframes.json`` first), without the images."""
        return tuple(path for name, paths in self.files.items() if name != "images" for path in paths)

    @property
    def images(self) -> tuple[Path, ...]:
        return self.files.get("images", ())


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


def build_renderer(request: ExportRequest, preset: Any = None):
    """The Renderer for ``request``: its preset (or ``preset``, already read), backend, size and seed
    (per-bar seeds are applied by :func:`with_seeds`)."""
    from renderer.renderer import Renderer

    renderer = Renderer.from_preset(request.preset if preset is None else preset, backend=request.backend,
                                    size=request.size,
                                    device=request.device, seed=request.seed, model=request.model)
    from renderer.devices import apply_cpu_policy

    apply_cpu_policy(request.threads)  # after loading: it overrides the backend's own default
    return renderer


def with_seeds(renderer: Any, request: ExportRequest) -> Any:
    """Check the renderer matches the request; apply seeds from a keyframes file that differ (edited by hand)."""
    if tuple(renderer.size) != tuple(request.size):
        raise ValueError(f"renderer size {tuple(renderer.size)} differs from the requested {request.size}")
    if request.seed is not None and renderer.seed != request.seed:
        raise ValueError(f"renderer base seed {renderer.seed} differs from the requested {request.seed}")
    overrides = {bar: seed for bar, seed in request.seeds.items() if renderer.seed_for_bar(bar) != seed}
    return renderer.with_bar_seeds(overrides) if overrides else renderer


# -- step 1, the plan: what to render, with what -------------------------------------------------

@dataclass(frozen=True, eq=False)
class ExportJob:
    """An export ready to render, made by :func:`prepare_export`: the request, its plan, the audio the
    video carries (``clip``, from song time ``audio_start_seconds``), the features of AUDIO on its own
    clock and on the song's, the renderer with the request's seeds, and the plan's chunks. A worker of a
    distributed export holds one without ``clip`` and ``features`` (it needs neither)."""

    request: ExportRequest
    plan: ExportPlan
    clip: AudioClip | None
    audio_start_seconds: float
    features: Any
    song_features: Any
    renderer: Any
    chunks: tuple[Chunk, ...]

    @cached_property
    def chunk_starts(self) -> dict[int, Chunk]:
        """First frame -> its chunk."""
        return {chunk.first_frame: chunk for chunk in self.chunks}

    @cached_property
    def image_frames(self) -> frozenset[int]:
        """The frames that are keyframe images (one per bar, :meth:`ExportPlan.image_frame`)."""
        return frozenset(self.plan.image_frame(row) for row in self.plan.bars)

    @property
    def video_format(self) -> VideoFormat:
        """The video's codec settings (H.264 unless the request says otherwise)."""
        return self.request.video_format or H264

    def frame_moment(self, frame: int) -> Moment:
        """The Moment frame ``frame`` shows."""
        return self.moment(self.plan.song_seconds(frame))

    def moment(self, seconds: float) -> Moment:
        """The Moment at song time ``seconds``, with half a frame of lookahead: an onset or a locator shows on
        the frame nearest it, not the one after."""
        return moment_at(self.plan.tempo_map, self.song_features, seconds,
                         window_beats=self.renderer.preset.window_beats,
                         lookahead_seconds=float(1 / (2 * self.plan.fps)))

    def identity(self) -> dict[str, Any]:
        """What decides the frames (the work folder's ``job.json``): a rerun with the same identity resumes."""
        plan, renderer = self.plan, self.renderer
        return {
            "timeline": _timeline_dict(plan.tempo_map),
            "audio": _audio_digest(self.clip),
            "fps": [plan.fps.numerator, plan.fps.denominator],
            "size": list(self.request.size),
            "start_bar": plan.start_bar,
            "audio_start_seconds": self.audio_start_seconds,
            "frame_count": plan.frame_count,
            "preset": renderer.preset.name,
            "preset_source": str(renderer.preset.source),
            "preset_digest": _file_digest(renderer.preset.source),
            "backend": renderer.backend.describe(),
            "seed": renderer.seed,
            "bar_seeds": {str(b.bar): renderer.seed_for_bar(b.bar) for b in plan.bars},
            "chunk_bars": self.request.chunk_bars,
        }


def prepare_export(request: ExportRequest, renderer: Any = None, features: Any = None,
                   make_renderer: Callable[[], Any] | None = None) -> ExportJob:
    """Read AUDIO, plan the frames and bars, analyse the features (unless given) and build the renderer
    (unless given; then it is checked against the request), last, by ``make_renderer()`` if given (a cluster's
    workers load their models meanwhile). Renders nothing."""
    audio = read_export_audio(request.audio, request.tempo_map)
    # Song time of AUDIO's first sample: the first exported bar's, unless AUDIO is the whole song.
    audio_start = 0.0 if request.audio_from_bar_1 else request.tempo_map.bar_start_seconds(request.bars.first)
    skip = Fraction(request.tempo_map.bar_start_seconds(request.bars.first)) - Fraction(audio_start)
    if skip >= audio.duration_seconds:
        raise InputError(request.audio, f"the audio ends before bar {request.bars.first}")
    plan = plan_export(request.tempo_map, audio.duration_seconds - skip, request.fps, request.bars,
                       request.timeline_source or "timeline")
    if features is None:
        features = analyze_audio(audio, request.audio)
    if renderer is None:
        renderer = make_renderer() if make_renderer is not None else build_renderer(request)
    renderer = with_seeds(renderer, request)
    return ExportJob(request, plan, audio.cut(skip, skip + plan.duration_seconds), audio_start, features,
                     song_track(features, audio_start), renderer, plan_chunks(plan, request.chunk_bars))


# -- step 2, the render loop ----------------------------------------------------------------

def render_frames(job: ExportJob, first: int, stop: int,
                  state: RenderState | None = None) -> Iterator[tuple[int, RenderResult]]:
    """Frames ``first`` .. ``stop - 1`` of the plan, in order, each rendered from the previous one's state;
    ``state`` is the state before ``first`` (None: none, as before frame 0). At a chunk's first frame the
    state is the one the coherence rule gives (:func:`entry_state`), so a range starting there renders the
    same frames alone (one chunk of a distributed export) as within the whole (a local export)."""
    for k in range(first, stop):
        chunk = job.chunk_starts.get(k)
        if chunk is not None and chunk.index > 0:
            state = entry_state(job, chunk, state)
        result = job.renderer.render(job.frame_moment(k), state)
        state = result.state
        yield k, result


def entry_state(job: ExportJob, chunk: Chunk, state: RenderState | None = None) -> RenderState | None:
    """The state entering ``chunk`` by the rule of :mod:`renderer.export.chunks`: ``state`` (the state after
    the frame before, when given) if the feedback chain restarts by itself within the bar before the chunk,
    else the state after rendering the frames from the chain's start afresh."""
    renderer = job.renderer
    start, exact = chain_start(chunk, lambda k: renderer.reads_previous(job.frame_moment(k), job.frame_moment(k - 1)))
    if exact and state is not None:
        return state
    warm = None
    for k in range(start, chunk.first_frame):
        warm = renderer.render(job.frame_moment(k), warm).state
    return warm


def _render_and_send(job: ExportJob, store: FrameStore, outputs: Outputs, first: int, progress: bool,
                     on_frame: Callable[[int], None] | None) -> int:
    """Render the frames from ``first`` (the first chunk ``store`` lacks) on, feeding ``outputs`` in frame order
    (the video sink first) and keeping the keyframe images; returns the frames rendered. On an error or
    Ctrl-C every frame rendered so far is written out (so the chunks it completes are kept for a rerun)
    and ``outputs`` aborted."""
    plan = job.plan
    bar_iter = _progress(plan.frame_count, first, progress, "render")
    # Frames go to the sinks (and the keyframe images to disk) on a worker thread, in order, while the next renders.
    writer = BackgroundWriter(store, outputs, plan.position, keep=job.image_frames)
    try:
        for k, result in render_frames(job, first, plan.frame_count):
            writer.save_frame(k, result.frame)
            if bar_iter is not None:
                bar_iter.update(1)
            if on_frame is not None:
                on_frame(k)
        writer.close()
    except BaseException:
        try:
            writer.close()  # every rendered frame to the sinks: a chunk it completes is kept
        finally:
            outputs.abort()
        raise
    finally:
        if bar_iter is not None:
            bar_iter.close()
    return plan.frame_count - first


# -- step 3, the files ------------------------------------------------------------------------

def keyframe_sheet(job: ExportJob) -> KeyframeSheet:
    """The keyframes of ``job``: one per bar, where it starts, its music, and the frame that shows it (its
    ``image_frame``, with the conditioning that frame was rendered with)."""
    plan, request, renderer = job.plan, job.request, job.renderer
    summaries = bar_features(job.features, plan, job.audio_start_seconds)
    keyframes = []
    for row in plan.bars:
        frame = plan.frame_of(row.seconds)
        image_frame = plan.image_frame(row)
        image_moment = job.moment(plan.song_seconds(image_frame))  # what that frame was rendered for
        keyframes.append(BarKeyframe(
            bar=row.bar, beat=row.beat, seconds=row.seconds,
            video_seconds=float(Fraction(row.seconds) - Fraction(plan.start_seconds)), frame=frame,
            image_frame=image_frame, bpm=row.bpm, numerator=row.numerator, denominator=row.denominator,
            section=job.moment(row.seconds).section, seed=renderer.seed_for_bar(row.bar),
            features=summaries.get(row.bar, {}), conditioning=renderer.condition(image_moment).to_dict(),
            image=image_name(row.bar),
        ))
    return KeyframeSheet(
        fps=plan.fps, width=request.size[0], height=request.size[1], audio=str(request.audio.resolve()),
        timeline={"source": request.timeline_source, **_timeline_dict(plan.tempo_map)},
        bars=tuple(keyframes), frame_count=plan.frame_count, duration_seconds=float(plan.duration_seconds),
        start_bar=plan.start_bar, start_seconds=plan.start_seconds, preset=request.preset,
        backend=renderer.backend.name or "", video=request.video_path.name, base_seed=renderer.seed,
        audio_start_seconds=job.audio_start_seconds,
    )


def write_outputs(job: ExportJob, outputs: Outputs, frame_image: Callable[[int], Path],
                  out_dir: Path | None = None) -> dict[str, tuple[Path, ...]]:
    """Write every keyframe format into ``out_dir`` (default the request's; ``frame_image(k)``: the PNG of
    frame ``k``), then end the sinks' streams, so the video is finished last; on an error the sinks are aborted."""
    try:
        files = write_keyframes(keyframe_sheet(job), Path(out_dir or job.request.out_dir), frame_image)
        outputs.close()
    except BaseException:
        outputs.abort()
        raise
    return files


def run_export(
    request: ExportRequest,
    renderer: Any = None,
    features: Any = None,
    progress: bool = True,
    on_frame: Callable[[int], None] | None = None,
    sinks: Iterable[FrameSink] = (),
    on_commit_step: Callable[[str], None] | None = None,
) -> ExportResult:
    """Render and write one export on this machine; see the module docstring. ``on_frame(k)`` runs after
    frame k is rendered (and queued for the sinks); ``sinks`` get every frame too, after the video file (and
    end with it); ``on_commit_step(name)`` runs before each step of swapping the new set in
    (:func:`bridge.files.commit_set`)."""
    return export_set(request, lambda: prepare_export(request, renderer, features),
                      lambda job, store, stage: _render_and_write(job, store, stage, progress, on_frame, sinks),
                      on_commit_step)


#: ``render(job, store, stage)`` renders what ``store`` lacks and writes the files into ``stage``: (first
#: frame rendered or frames kept from an earlier run, frames rendered, format -> the staged files).
RenderStep = Callable[[ExportJob, FrameStore, Path], tuple[int, int, dict[str, tuple[Path, ...]]]]


def export_set(request: ExportRequest, prepare: Callable[[], ExportJob], render: RenderStep,
               on_commit_step: Callable[[str], None] | None = None) -> ExportResult:
    """One export, rendered by ``render`` (here or on a cluster): the job from ``prepare()``, its work
    folder (resumed when it holds the same job), and its files staged and swapped in as one set."""
    out = Path(request.out_dir)
    with created_folder(out):
        job = prepare()
        store = FrameStore(out, job.identity())
        store.open()
        try:
            with staged_set(out, keyframe_names(), on_commit_step) as stage:
                first, rendered, staged = render(job, store, stage)
        except BaseException:
            store.remove_if_unused()  # nothing rendered: nothing to resume from
            raise
    if not request.keep_work:
        store.remove()
    files = {name: tuple(out / path.relative_to(stage) for path in paths) for name, paths in staged.items()}
    return ExportResult(request.video_path, files, job.plan, rendered, first)


def _render_and_write(job: ExportJob, store: FrameStore, stage: Path, progress: bool,
                      on_frame: Callable[[int], None] | None,
                      sinks: Iterable[FrameSink]) -> tuple[int, int, dict[str, tuple[Path, ...]]]:
    """Render into the video in ``stage`` and write the keyframe files there: (first frame rendered, frames
    rendered, format -> the staged files)."""
    first = store.resume_frame(job.chunks, job.video_format)
    video = video_sink(job, stage, store, first)
    outputs = Outputs([video, *sinks])
    rendered = _render_and_send(job, store, outputs, first, progress, on_frame)
    if video.frames_written != job.plan.frame_count:
        outputs.abort()
        raise RuntimeError(f"encoded {video.frames_written} of {job.plan.frame_count} frames")
    files = write_outputs(job, outputs, store.frame_path, stage)
    return first, rendered, files


def video_sink(job: ExportJob, stage: Path, store: FrameStore, first_frame: int) -> SegmentedVideo:
    """The export's video in ``stage``: its chunks' segments kept in ``store``'s work folder, joined on close;
    it is sent the frames from ``first_frame`` on (the frame count: none, every segment is there)."""
    request, plan = job.request, job.plan
    return SegmentedVideo(stage / request.video_path.name, plan.fps, request.size, job.clip, job.video_format,
                          job.chunks, store.segments_dir, first_frame)


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
