"""A distributed export on Ray: chunks rendered by model replicas across a cluster, into the same files.

``barlight export ... --cluster local|auto|ray://HOST:PORT`` (docs/scaling.md). Ray schedules the
workers on the cluster's GPUs and cores, restarts the ones that die and moves the data; Barlight
only hands out chunks:

- The driver (this process) reads AUDIO, computes its features and plans the chunks once
  (:func:`renderer.export.job.prepare_export`). It puts the job in Ray's object store: plan,
  features and request, without the audio samples and without a model.
- Each worker is a Ray actor holding one model replica: one per GPU, or one per
  ``cpus_per_worker`` cores. It loads the model itself: the embedded weights ship in the
  package, and a diffusers model is read on its own node (its cache, or a shared path).
- A worker that is free gets the next chunk, so faster workers take more. It renders the chunk
  (:func:`renderer.export.job.render_frames`, the same frames as a local export) and returns its
  video segment plus the PNGs of the keyframe frames in it.
- A worker that dies is restarted by Ray, and its chunk is rendered again (``max_restarts`` and
  ``max_task_retries``); a worker that cannot be restarted hands its chunk back to the others.
- Each finished chunk is kept in the work folder when it arrives, so after Ctrl-C the same
  command renders only the chunks that are missing.
- The driver joins the segments and writes the keyframe files as a local export does
  (:func:`renderer.export.job.export_set`).

Importing this module imports no Ray; :func:`run_cluster_export` does.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from bridge.errors import InputError
from renderer.backends.base import Backend
from renderer.devices import worker_environment
from renderer.export.checkpoint import FrameStore, encode_png
from renderer.export.chunks import Chunk
from renderer.export.job import (ExportJob, ExportResult, build_renderer, export_set, prepare_export, render_frames,
                                 video_sink, with_seeds, write_outputs)
from renderer.export.request import ExportRequest
from renderer.export.segments import open_segment, segment_path
from renderer.sinks.base import Outputs

#: Times Ray restarts a dead worker, and runs its chunk again, before the chunk goes to another one.
MAX_RESTARTS = 3
#: Seconds between looks at the workers' progress.
POLL_SECONDS = 0.5
#: Fault injection for tests: the path of a file. While it exists, the first worker halfway through a chunk
#: renames it to ``PATH.<pid>.<chunk>.<frames done>`` and stops there for two minutes, to be killed mid-chunk.
HOLD_MID_CHUNK_ENV = "BARLIGHT_TEST_HOLD_MID_CHUNK"


# -- where to run ---------------------------------------------------------------------------

@dataclass(frozen=True)
class ClusterSpec:
    """Where and on how many workers: ``address`` is ``local`` (a Ray instance started here for the export),
    ``auto`` (the cluster ``ray start`` made) or ``ray://HOST:PORT`` (a remote cluster's client port).
    ``workers``: model replicas (None: one per GPU, else one per ``cpus_per_worker`` cores)."""

    address: str = "local"
    workers: int | None = None
    cpus_per_worker: int = 1

    def __post_init__(self) -> None:
        address = self.address
        if address not in ("local", "auto") and not (address.startswith("ray://") and ":" in address[6:]):
            raise InputError("--cluster", f"must be local, auto or ray://HOST:PORT, got {address!r}")
        if self.workers is not None and (isinstance(self.workers, bool) or self.workers < 1):
            raise InputError("--workers", f"must be a whole number >= 1, got {self.workers!r}")
        if isinstance(self.cpus_per_worker, bool) or self.cpus_per_worker < 1:
            raise InputError("--cpus-per-worker", f"must be a whole number >= 1, got {self.cpus_per_worker!r}")


def require_ray() -> Any:
    """The ``ray`` module, or a one-line error saying what to install."""
    try:
        import ray
    except ImportError:
        raise InputError("--cluster", "needs Ray: pip install 'barlight[cluster]'") from None
    return ray


def init_options() -> dict[str, Any]:
    """``ray.init`` options every connection shares: the workers' OpenMP environment (the CPU policy's), Ray's
    logging left alone."""
    return {"runtime_env": {"env_vars": worker_environment()}, "log_to_driver": False, "configure_logging": False}


def local_init_options(cpus: int) -> dict[str, Any]:
    """``ray.init`` options for a Ray instance on this machine with ``cpus`` cores for the workers. Its workers
    run at this process's priority, as a local export's rendering does (Ray's default lowers theirs by 15, which
    starves them on a machine busy with other work)."""
    return {**init_options(), "address": "local", "num_cpus": cpus, "include_dashboard": False,
            "_system_config": {"worker_niceness": 0}}


@contextlib.contextmanager
def connect(spec: ClusterSpec) -> Iterator[None]:
    """Ray, for the length of the block: the session the caller started if there is one (left running),
    else a new local instance sized for the workers (stopped after) or the cluster at ``spec.address``."""
    ray = require_ray()
    if ray.is_initialized():
        yield
        return
    if spec.address == "local":
        cpus = (spec.workers or max(1, (os.cpu_count() or 1) // spec.cpus_per_worker)) * spec.cpus_per_worker
        options = local_init_options(cpus)
    else:
        options = {**init_options(), "address": spec.address}
    try:
        ray.init(**options)
    except (ConnectionError, RuntimeError, ValueError) as err:
        raise InputError("--cluster", f"cannot reach Ray at {spec.address} ({err})") from None
    try:
        yield
    finally:
        ray.shutdown()


def worker_options(spec: ClusterSpec, device: str | None) -> tuple[int, dict[str, Any]]:
    """How many workers and what each takes: one GPU each when the cluster has GPUs (and ``device`` is not
    ``cpu``), else ``spec.cpus_per_worker`` cores each; ``spec.workers`` overrides the count."""
    import ray

    resources = ray.cluster_resources()
    largest = max((node["Resources"].get("CPU", 0) for node in ray.nodes() if node.get("Alive")), default=0)
    if spec.cpus_per_worker > largest:
        raise InputError("--cpus-per-worker", f"no node of the cluster has {spec.cpus_per_worker} CPUs "
                                              f"(the largest has {largest:g})")
    gpus = int(resources.get("GPU", 0)) if device in (None, "cuda") or str(device).startswith("cuda") else 0
    if gpus:
        return spec.workers or gpus, {"num_gpus": 1, "num_cpus": spec.cpus_per_worker}
    count = spec.workers or max(1, int(resources.get("CPU", 1) // spec.cpus_per_worker))
    return count, {"num_cpus": spec.cpus_per_worker}


# -- a worker -------------------------------------------------------------------------------

@dataclass(frozen=True)
class ChunkOutput:
    """What a worker returns for a chunk: its video segment (file bytes) and its keyframe frames as PNG."""

    index: int
    segment: bytes
    images: dict[int, bytes] = field(default_factory=dict)


def worker_job(job: ExportJob) -> ExportJob:
    """``job`` as the workers get it: without the audio samples, AUDIO's own features and the renderer."""
    return replace(job, clip=None, features=None, renderer=None)


def render_chunk(job: ExportJob, chunk: Chunk, on_frame: Callable[[int], None] = lambda done: None) -> ChunkOutput:
    """Render ``chunk`` of ``job`` alone into a segment (:func:`renderer.export.segments.open_segment`), keeping
    the frames that are keyframe images; ``on_frame(n)`` after the chunk's ``n``-th frame."""
    request, plan = job.request, job.plan
    video_format = job.video_format
    wanted = job.image_frames & set(chunk.frames)
    images = {}
    with tempfile.TemporaryDirectory(prefix="barlight-chunk-") as folder:
        path = segment_path(folder, chunk, video_format)
        with open_segment(path, plan.fps, request.size, video_format) as writer:
            for k, result in render_frames(job, chunk.first_frame, chunk.stop_frame):
                writer.write(result.frame)
                if k in wanted:
                    images[k] = encode_png(result.frame)
                on_frame(k + 1 - chunk.first_frame)
        return ChunkOutput(chunk.index, path.read_bytes(), images)


class ChunkWorker:
    """One model replica (a Ray actor): loads the request's model once, then renders chunks of any job."""

    def __init__(self, request: ExportRequest, preset: Any) -> None:
        self.renderer = build_renderer(request, preset)

    def ready(self) -> int:
        """Answers once the model is loaded: this worker's process id."""
        return os.getpid()

    def describe(self) -> dict[str, Any]:
        """The backend's name and description (what the driver's stand-in reports for the job's identity)."""
        return {"name": self.renderer.backend.name or "", "backend": self.renderer.backend.describe()}

    def render(self, job: ExportJob, index: int, board: Any) -> ChunkOutput:
        job = replace(job, renderer=with_seeds(self.renderer, job.request))
        chunk = job.chunks[index]
        board.start.remote(index, os.getpid())

        def on_frame(done: int) -> None:
            board.frame.remote(index, done)
            if done == len(chunk.frames) // 2:
                _hold_if_armed(index, done)

        return render_chunk(job, chunk, on_frame)


def _hold_if_armed(index: int, done: int) -> None:
    """The test hook :data:`HOLD_MID_CHUNK_ENV`: the one worker that takes the armed file waits here."""
    armed = os.environ.get(HOLD_MID_CHUNK_ENV)
    if not armed:
        return
    try:
        os.rename(armed, f"{armed}.{os.getpid()}.{index}.{done}")  # atomic: one worker wins
    except FileNotFoundError:  # not armed, or taken
        return
    time.sleep(120)


class ProgressBoard:
    """Where workers report progress (a Ray actor): frames done per chunk (its latest attempt's, never
    counted twice), the chunks running and on which process, and how many attempts were started."""

    def __init__(self) -> None:
        self.frames: dict[int, int] = {}
        self.running: dict[int, int] = {}
        self.attempts = 0

    def start(self, index: int, pid: int) -> None:
        self.attempts += 1
        self.running[index] = pid

    def frame(self, index: int, done: int) -> None:
        self.frames[index] = max(self.frames.get(index, 0), done)

    def finish(self, index: int, frames: int) -> None:
        self.frames[index] = frames
        self.running.pop(index, None)

    def status(self) -> ClusterStatus:
        return ClusterStatus(sum(self.frames.values()), dict(self.frames), dict(self.running), self.attempts)


@dataclass(frozen=True)
class ClusterStatus:
    """Progress of the chunks rendered this run: frames done (in all, and per chunk), ``running`` chunk ->
    worker process id, and chunk attempts started (more than the chunks when a worker died and its chunk was
    rendered again)."""

    frames_done: int
    chunk_frames: dict[int, int]
    running: dict[int, int]
    attempts: int


class WorkerBackend(Backend):
    """The driver's stand-in for the backend its workers loaded: their name and description, no model."""

    def __init__(self, name: str, described: dict[str, Any]) -> None:  # noqa: D107 - no config to check
        self.name = name
        self._described = dict(described)

    @property
    def device(self) -> str:
        return str(self._described.get("device", ""))

    def to(self, device: str) -> Backend:
        raise RuntimeError("the model is on the cluster's workers")

    def latent_shape(self, width: int, height: int) -> tuple[int, ...]:
        raise RuntimeError("the model is on the cluster's workers")

    def __call__(self, request: Any) -> Any:
        raise RuntimeError("the model is on the cluster's workers")

    def describe(self) -> dict[str, Any]:
        return dict(self._described)


# -- the driver -----------------------------------------------------------------------------

class ClusterRun:
    """The workers of one export and the board they report to; :meth:`close` ends them."""

    def __init__(self, spec: ClusterSpec, request: ExportRequest, preset: Any) -> None:
        import ray

        count, options = worker_options(spec, request.device)
        worker_class = ray.remote(max_restarts=MAX_RESTARTS, max_task_retries=MAX_RESTARTS, **options)(ChunkWorker)
        self.workers = [worker_class.remote(request, preset) for _ in range(count)]
        self.board = ray.remote(num_cpus=0)(ProgressBoard).remote()

    def close(self) -> None:
        import ray

        for actor in (*self.workers, self.board):
            ray.kill(actor, no_restart=True)

    def stand_in(self, request: ExportRequest, preset: Any) -> Any:
        """A Renderer for the driver: the request's preset, size and seed, with a :class:`WorkerBackend`
        describing the first worker that is up (the conditioning needs no model)."""
        import ray

        from renderer.renderer import Renderer

        pending = [actor.describe.remote() for actor in self.workers]
        done, _ = ray.wait(pending, num_returns=1)
        described = _first_answer(done)
        if described["backend"].get("stream_batch"):  # frames in flight between calls: not one frame per call
            raise InputError("--cluster", "the backend's stream_batch carries frames from call to call; "
                                          "an export in chunks needs it off (stream_batch = false)")
        return Renderer(WorkerBackend(described["name"], described["backend"]), preset, request.size, request.seed)

    def render_and_write(self, job: ExportJob, store: FrameStore, stage: Path, progress: bool,
                         on_progress: Callable[[ClusterStatus], None] | None) -> tuple[int, int, dict]:
        """Render the chunks ``store`` lacks on the workers, then join the video and write the files in ``stage``."""
        todo = [c for c in job.chunks if not store.finished(c, job.video_format)]
        rendered = sum(len(c.frames) for c in todo)
        kept = job.plan.frame_count - rendered  # frames of the chunks an earlier run finished
        self._dispatch(job, todo, store, _ProgressBar(job.plan.frame_count, kept, progress), on_progress)
        video = video_sink(job, stage, store, job.plan.frame_count)  # the workers sent every segment
        return kept, rendered, write_outputs(job, Outputs([video]), store.frame_path, stage)

    def _dispatch(self, job: ExportJob, todo: list[Chunk], store: FrameStore, bar: _ProgressBar,
                  on_progress: Callable[[ClusterStatus], None] | None) -> None:
        """Hand the chunks to the workers as they come free, keeping each result as it arrives."""
        import ray
        from ray.exceptions import RayActorError

        job_ref = ray.put(worker_job(job))
        queue = deque(todo)
        waiting = {actor.ready.remote(): (actor, None) for actor in self.workers}  # a worker, and its chunk
        try:
            while queue or any(chunk is not None for _, chunk in waiting.values()):
                if not waiting:
                    raise RuntimeError("every worker of the cluster died; the chunks left are kept for a rerun")
                done, _ = ray.wait(list(waiting), num_returns=1, timeout=POLL_SECONDS)
                for ref in done:
                    actor, chunk = waiting.pop(ref)
                    try:
                        output = ray.get(ref)
                    except RayActorError:  # dead for good (restarted MAX_RESTARTS times): its chunk goes back
                        queue.extendleft([chunk] if chunk is not None else [])
                        continue
                    if chunk is not None:
                        _keep(store, job, chunk, output)
                        self.board.finish.remote(chunk.index, len(chunk.frames))
                    if queue:
                        chunk = queue.popleft()
                        waiting[actor.render.remote(job_ref, chunk.index, self.board)] = (actor, chunk)
                status = ray.get(self.board.status.remote())
                bar.show(status.frames_done)
                if on_progress is not None:
                    on_progress(status)
        finally:
            bar.close()


def _first_answer(refs: list) -> Any:
    import ray
    from ray.exceptions import RayActorError

    try:
        return ray.get(refs[0])
    except RayActorError as err:  # the model failed to load: say why
        raise RuntimeError(f"a cluster worker could not start: {err}") from None


def _keep(store: FrameStore, job: ExportJob, chunk: Chunk, output: ChunkOutput) -> None:
    """A finished chunk into the work folder: its keyframe PNGs first, then its segment (which marks it done)."""
    from bridge.files import write_atomic

    for frame, png in output.images.items():
        store.save_png(frame, png)
    write_atomic(segment_path(store.segments_dir, chunk, job.video_format), output.segment)


class _ProgressBar:
    """One tqdm bar with an ETA for the whole cluster (or nothing)."""

    def __init__(self, total: int, kept: int, enabled: bool) -> None:
        self.kept = kept
        self._bar = None
        if enabled:
            from tqdm import tqdm

            self._bar = tqdm(total=total, initial=kept, unit="frame", desc="render", file=sys.stderr,
                             dynamic_ncols=True)

    def show(self, frames_done: int) -> None:
        if self._bar is not None and self.kept + frames_done > self._bar.n:
            self._bar.update(self.kept + frames_done - self._bar.n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def run_cluster_export(request: ExportRequest, cluster: ClusterSpec, progress: bool = True,
                       on_progress: Callable[[ClusterStatus], None] | None = None,
                       on_commit_step: Callable[[str], None] | None = None) -> ExportResult:
    """Render and write one export on a Ray cluster: the same files as :func:`renderer.export.job.run_export`.
    ``on_progress(status)`` runs on every look at the workers (about twice a second)."""
    from renderer.presets import load_preset

    preset = load_preset(request.preset)
    with connect(cluster):
        run = ClusterRun(cluster, request, preset)
        try:
            def prepare() -> ExportJob:
                return prepare_export(request, make_renderer=lambda: run.stand_in(request, preset))

            def render(job: ExportJob, store: FrameStore, stage: Path) -> tuple[int, int, dict]:
                return run.render_and_write(job, store, stage, progress, on_progress)

            return export_set(request, prepare, render, on_commit_step)
        finally:
            run.close()
