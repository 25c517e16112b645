"""A pre-imported Barlight that forks one CLI run per request, so many runs can be killed cheaply.

Run as ``python -m tests.hostile.zygote``. It imports the CLI and the export's heavy libraries
(torch, diffusers, PyAV, librosa) once, runs no torch code itself, then reads one JSON request
per stdin line: ``{"argv": [...], "cwd": DIR, "env": {...}, "kill_after": SECONDS or null,
"kill_at_step": N or null, "timeout": SECONDS}``. For each it forks a child that runs
``barlight.cli.main(argv)`` (the real CLI, in its own process, stdin from /dev/null, its address
space capped at the zygote's plus :data:`EXTRA_ADDRESS_SPACE`) and answers one JSON line:
``{"returncode", "killed", "seconds", "stdout", "stderr", "peak_rss_mb"}``. The peak resident memory
is the child's own (``wait4``), which counts the libraries it shares with the zygote: an upper
bound of what a fresh ``python -m barlight`` would use. ``kill_after`` sends the child SIGKILL
after that long; ``kill_at_step`` makes the child SIGKILL itself before step N of an export's
final swap (:func:`bridge.files.commit_set`), so every instant of the swap can be hit, not just
those a timer happens to land on.
"""

from __future__ import annotations

import functools
import json
import os
import resource
import signal
import sys
import tempfile
import time

#: Address space a child may add to the zygote's (torch reserves much more than it touches).
EXTRA_ADDRESS_SPACE = 2 * 1024**3


def _preload() -> None:
    import av  # noqa: F401
    import diffusers  # noqa: F401
    import librosa  # noqa: F401
    import torch  # noqa: F401

    import barlight.cli  # noqa: F401
    import renderer.backends.embedded  # noqa: F401
    import renderer.embedded.pipeline  # noqa: F401
    import renderer.export.job  # noqa: F401


def _kill_at_step(step: int) -> None:
    """Make this process SIGKILL itself before step ``step`` (0: the commit point) of the next set swap."""
    import renderer.export.job as job
    from bridge.files import staged_set

    steps = []

    def on_step(name: str) -> None:
        steps.append(name)
        if len(steps) > step:
            os.kill(os.getpid(), signal.SIGKILL)

    job.staged_set = functools.partial(_with_steps, staged_set, on_step)


def _with_steps(staged_set, on_step, folder, replaces=(), _ignored=None):
    return staged_set(folder, replaces, on_step)


def _address_space() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def _child(request: dict, stdout_path: str, stderr_path: str) -> None:
    try:
        os.chdir(request["cwd"])
        os.environ.update(request.get("env") or {})
        os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
        os.dup2(os.open(stdout_path, os.O_WRONLY), 1)
        os.dup2(os.open(stderr_path, os.O_WRONLY), 2)
        limit = _address_space() + EXTRA_ADDRESS_SPACE
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        if request.get("kill_at_step") is not None:
            _kill_at_step(int(request["kill_at_step"]))
        from barlight.cli import main

        try:
            code = main(request["argv"])
        except SystemExit as exit:  # argparse's usage errors and --help, as `python -m barlight` would end
            code = exit.code if isinstance(exit.code, int) else (0 if exit.code is None else 1)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    except BaseException:  # noqa: BLE001 - a child must never return into the zygote's loop
        import traceback

        traceback.print_exc()
        sys.stderr.flush()
        os._exit(70)


def _run(request: dict) -> dict:
    paths = []
    for _ in range(2):
        with tempfile.NamedTemporaryFile(delete=False) as handle:
            paths.append(handle.name)
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:
        _child(request, *paths)
    kill_after = request.get("kill_after")
    deadline = started + float(request.get("timeout") or 300.0)
    killed = False
    while True:
        done, status, usage = os.wait4(pid, os.WNOHANG)
        if done:
            break
        now = time.monotonic()
        if (kill_after is not None and now - started >= kill_after) or now >= deadline:
            os.kill(pid, signal.SIGKILL)
            killed = True
            _, status, usage = os.wait4(pid, 0)
            break
        time.sleep(0.002)
    stdout, stderr = (_read_and_remove(path) for path in paths)
    code = os.waitstatus_to_exitcode(status)
    return {"returncode": code, "killed": killed or code == -signal.SIGKILL, "seconds": time.monotonic() - started,
            "stdout": stdout, "stderr": stderr, "peak_rss_mb": usage.ru_maxrss / 1024.0}


def _read_and_remove(path: str) -> str:
    with open(path, encoding="utf-8", errors="replace") as handle:
        text = handle.read()
    os.unlink(path)
    return text


def main() -> None:
    _preload()
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        if line.strip():
            print(json.dumps(_run(json.loads(line))), flush=True)


if __name__ == "__main__":
    main()
