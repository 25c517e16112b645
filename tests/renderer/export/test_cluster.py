"""``barlight export --cluster``: the demo piece rendered by Ray workers (real Ray, real processes) gives the files
a local export gives, also when a worker is killed mid-chunk or the export is interrupted and run again."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import av
import pytest

from barlight.cli import main
from renderer.export.cluster import HOLD_MID_CHUNK_ENV, ClusterSpec, local_init_options, run_cluster_export
from renderer.export.demo import demo_tempo_map, write_demo
from renderer.export.job import run_export
from renderer.export.request import ExportRequest

pytest.importorskip("ray", reason="the cluster extra (pip install 'barlight[cluster]') is part of the test extras")

TINY_PRESET = """
name = "Tiny"
description = "neon's reactivity on the tiny embedded architecture (plumbing tests)"
palette = ["#0a0014", "#5a00a0", "#ff2bd6", "#28f0ff", "#ffffff"]

[backend]
name = "embedded"
random_init = "tiny"
steps = 1

[prompts.default]
calm = "haze"

[reactivity.strength]
bias = 0.3
onset = 0.4

[reactivity.flash]
onset = 0.8
"""


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> tuple[Path, Path]:
    audio, midi, _piece = write_demo(tmp_path_factory.mktemp("demo"))
    return audio, midi


def digest(out: Path) -> dict[str, object]:
    """What must be identical: decoded frames (hashes), keyframe files and images, the audio stream's packets."""
    def sha(data: bytes) -> str:
        return hashlib.sha256(data).hexdigest()

    video = out / "barlight-demo.mp4"
    with av.open(str(video)) as container:
        frames = [sha(frame.to_ndarray(format="rgb24").tobytes()) for frame in container.decode(video=0)]
    with av.open(str(video)) as container:
        audio = sha(b"".join(bytes(packet) for packet in container.demux(audio=0) if packet.size))
    files = {path.relative_to(out).as_posix(): sha(path.read_bytes())
             for path in sorted(out.rglob("*")) if path.is_file() and path.suffix != ".mp4"}
    return {"frames": frames, "audio": audio, "files": files}


def descendants(pid: int) -> set[int]:
    """Every living process below ``pid`` (from /proc)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


# -- the command line -------------------------------------------------------------------------------

@pytest.mark.parametrize(("extra", "message"), [
    (["--workers", "2"], "--workers: needs --cluster"),
    (["--cluster", "nowhere"], "--cluster: must be local, auto or ray://HOST:PORT"),
    (["--cluster", "local", "--workers", "0"], "--workers: must be a whole number >= 1"),
    (["--cluster", "local", "--cpus-per-worker", "0"], "--cpus-per-worker: must be a whole number >= 1"),
    (["--chunk-bars", "0"], "--chunk-bars: must be a whole number of bars >= 1"),
    (["--cluster", "local", "--video-out", "ndi"], "--video-out: sends frames as they are rendered here; not with --cluster"),
])
def test_bad_cluster_options_are_one_line_and_exit_2(tmp_path, demo, capsys, extra, message):
    audio, midi = demo
    code = main(["export", str(audio), "--timeline", str(midi), "--out", str(tmp_path / "out"), *extra])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_without_ray_the_cluster_option_says_what_to_install(tmp_path, demo):
    audio, midi = demo
    code = ("import sys; sys.modules['ray'] = None; from barlight.cli import main; "
            f"raise SystemExit(main(['export', {str(audio)!r}, '--timeline', {str(midi)!r}, "
            f"'--out', {str(tmp_path / 'out')!r}, '--cluster', 'local']))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr.strip() == "barlight export: error: --cluster: needs Ray: pip install 'barlight[cluster]'"
    assert not (tmp_path / "out").exists()


def test_the_demo_on_a_local_cluster_of_two_workers_equals_a_local_export(tmp_path, demo, capsys):
    """The shipped embedded model, 2 CPU workers, chunks of 4 bars (bar 5 starts a section: no warm-up; bar 9
    does not: one bar of warm-up); Ray starts for the command and leaves no process behind."""
    assert not __import__("ray").is_initialized()
    audio, midi = demo
    common = ["export", str(audio), "--timeline", str(midi), "--size", "64x64", "--fps", "4", "--chunk-bars", "4"]
    assert main([*common, "--out", str(tmp_path / "local"), "--quiet"]) == 0
    before = descendants(os.getpid())
    assert main([*common, "--out", str(tmp_path / "cluster"), "--cluster", "local", "--workers", "2"]) == 0
    err = capsys.readouterr().err
    assert "96/96" in err  # one progress bar for the whole cluster
    local, cluster = digest(tmp_path / "local"), digest(tmp_path / "cluster")
    assert len(local["frames"]) == 96
    assert cluster == local
    assert (tmp_path / "cluster" / "barlight-demo.mp4").read_bytes() == (tmp_path / "local" / "barlight-demo.mp4").read_bytes()
    assert not (tmp_path / "cluster" / ".barlight-work").exists()
    deadline = time.monotonic() + 30
    while descendants(os.getpid()) - before and time.monotonic() < deadline:
        time.sleep(0.5)
    assert descendants(os.getpid()) - before == set()


# -- faults, on a Ray session shared by the tests below ------------------------------------------------

@pytest.fixture(scope="module")
def ray_session(tmp_path_factory) -> Path:
    """One local Ray instance (2 CPUs) for the fault tests; run_cluster_export uses it and leaves it running.
    Yields the file that arms the workers' hold mid-chunk (:data:`HOLD_MID_CHUNK_ENV`), not armed."""
    import ray

    hold = tmp_path_factory.mktemp("hold") / "armed"
    options = local_init_options(2)
    env_vars = {**options["runtime_env"]["env_vars"], HOLD_MID_CHUNK_ENV: str(hold)}
    before = descendants(os.getpid())
    ray.init(**{**options, "runtime_env": {**options["runtime_env"], "env_vars": env_vars}})
    yield hold
    ray.shutdown()
    deadline = time.monotonic() + 30
    while descendants(os.getpid()) - before and time.monotonic() < deadline:
        time.sleep(0.5)
    assert descendants(os.getpid()) - before == set(), "Ray left processes behind"


@pytest.fixture(scope="module")
def tiny_request(demo, tmp_path_factory):
    """``make(out)``: the demo with neon-like feedback on the tiny architecture, 64x64 at 8 fps, 2-bar chunks."""
    audio, _midi = demo
    preset = tmp_path_factory.mktemp("preset") / "tiny.toml"
    preset.write_text(TINY_PRESET, encoding="utf-8")

    def make(out: Path) -> ExportRequest:
        return ExportRequest(audio=audio, out_dir=out, tempo_map=demo_tempo_map(), timeline_source="demo",
                             preset=str(preset), fps=Fraction(8), size=(64, 64), chunk_bars=2)

    return make


@pytest.fixture(scope="module")
def tiny_local(tiny_request, tmp_path_factory) -> dict[str, object]:
    out = tmp_path_factory.mktemp("tiny-local")
    run_export(tiny_request(out), progress=False)
    return digest(out)


def test_a_worker_killed_mid_chunk_is_replaced_and_the_export_is_the_same(ray_session, tiny_request, tiny_local,
                                                                          tmp_path):
    """The first worker halfway through a chunk holds there (the armed hook) and is SIGKILLed once the board shows
    it running that chunk with those frames done; Ray restarts it and the chunk is rendered again."""
    hold = ray_session
    hold.touch()
    seen, killed = [], []

    def kill_the_held_worker(status):
        seen.append(status)
        for held in hold.parent.glob(f"{hold.name}.*"):
            pid, index, done = (int(part) for part in held.name.split(".")[1:])
            if not killed and status.running.get(index) == pid and status.chunk_frames.get(index) == done:
                os.kill(pid, signal.SIGKILL)
                killed.append((index, done))

    try:
        result = run_cluster_export(tiny_request(tmp_path / "out"), ClusterSpec("local", 2), progress=False,
                                    on_progress=kill_the_held_worker)
    finally:
        hold.unlink(missing_ok=True)  # disarmed for the tests after this one
    assert len(killed) == 1, "the held worker was not killed"
    index, done = killed[0]
    assert 0 < done < seen[-1].chunk_frames[index]  # mid-chunk: chunks here have 29..38 frames
    assert seen[-1].attempts == 7  # 6 chunks, the killed one rendered again
    assert seen[-1].frames_done == result.plan.frame_count == 192  # counted once
    assert digest(tmp_path / "out") == tiny_local


def test_an_interrupted_cluster_export_keeps_its_finished_chunks(ray_session, tiny_request, tiny_local, tmp_path):
    out = tmp_path / "out"
    segments = out / ".barlight-work" / "segments"

    def interrupt_after_two_chunks(_status):
        if len(list(segments.glob("*.mp4"))) >= 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_cluster_export(tiny_request(out), ClusterSpec("local", 2), progress=False,
                           on_progress=interrupt_after_two_chunks)
    assert not (out / "barlight-demo.mp4").exists()
    kept = sorted(path.name for path in segments.glob("*.mp4"))
    assert len(kept) >= 2
    result = run_cluster_export(tiny_request(out), ClusterSpec("local", 2), progress=False)
    assert 0 < result.rendered_frames < 192 and result.resumed_from == 192 - result.rendered_frames
    assert digest(out) == tiny_local
    assert not (out / ".barlight-work").exists()


def test_workers_larger_than_any_node_are_refused_before_any_work(ray_session, tiny_request, tmp_path):
    from bridge.errors import InputError

    with pytest.raises(InputError, match=r"--cpus-per-worker: no node of the cluster has 3 CPUs \(the largest has 2\)"):
        run_cluster_export(tiny_request(tmp_path / "out"), ClusterSpec("local", 1, cpus_per_worker=3), progress=False)
    assert not (tmp_path / "out").exists()
