"""Running the real CLI on hostile input, and checking what the issue promises (issue 17, docs/safety.md).

Every case runs ``python -m barlight ...`` in a fresh subprocess whose address space is capped
(``RLIMIT_AS``, :data:`ADDRESS_SPACE_LIMIT`), and reaps it with ``os.wait4`` to read that one
child's peak resident memory. The checks:

- no Python traceback, ever;
- a refusal exits 2 with exactly one line, ``barlight CMD: error: WHERE: PROBLEM``, naming the
  file or the option (:func:`assert_refused`);
- peak memory under 1 GB (:data:`PEAK_RSS_LIMIT_MB`) for inputs under 20 MB;
- every file the user had before is byte-identical afterwards (:func:`snapshot`).
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
#: The child's address-space cap. torch reserves more address space than it touches, so this is
#: above the 1 GB the issue sets for resident memory; that is measured per child (PEAK_RSS_LIMIT_MB).
ADDRESS_SPACE_LIMIT = 3 * 1024**3
PEAK_RSS_LIMIT_MB = 1024


@dataclass(frozen=True)
class Run:
    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    peak_rss_mb: float
    seconds: float

    @property
    def error_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip()]


def limit_memory() -> None:
    """The child's address-space cap (``preexec_fn``)."""
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE_LIMIT, ADDRESS_SPACE_LIMIT))


def run_cli(*argv: str, cwd: Path, timeout: float = 180.0, env: dict[str, str] | None = None,
            stdin: bytes | None = None) -> Run:
    """``barlight *argv`` in ``cwd`` as a subprocess under the memory cap; its result and peak memory."""
    environment = {**os.environ, "PYTHONPATH": str(REPO), "QT_QPA_PLATFORM": "offscreen",
                   "BARLIGHT_SESSIONS": str(cwd / "sessions"), **(env or {})}
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.monotonic()
        process = subprocess.Popen([sys.executable, "-m", "barlight", *argv], cwd=cwd, env=environment,
                                   stdin=subprocess.DEVNULL if stdin is None else subprocess.PIPE,
                                   stdout=out, stderr=err, preexec_fn=limit_memory)
        if stdin is not None:
            process.stdin.write(stdin)
            process.stdin.close()
        timer = threading.Timer(timeout, process.kill)
        timer.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)
        finally:
            timer.cancel()
        process.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.monotonic() - started
        out.seek(0)
        err.seek(0)
        return Run(tuple(argv), process.returncode, out.read().decode("utf-8", "replace"),
                   err.read().decode("utf-8", "replace"), usage.ru_maxrss / 1024.0, seconds)


class Zygote:
    """The pre-imported CLI of tests/hostile/zygote.py: one forked run per call, started in milliseconds
    instead of seconds. Its memory figure counts the zygote's libraries too (an upper bound)."""

    def __init__(self) -> None:
        env = {"PYTHONPATH": str(REPO), "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "QT_QPA_PLATFORM": "offscreen"}
        self.process = subprocess.Popen([sys.executable, "-m", "tests.hostile.zygote"], cwd=REPO, env=env, text=True,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        assert json.loads(self.process.stdout.readline()) == {"ready": True}

    def run(self, argv: list[str], cwd: Path, env: dict[str, str] | None = None, kill_after: float | None = None,
            kill_at_step: int | None = None, timeout: float = 300.0) -> dict:
        """The zygote's answer for one run (see tests/hostile/zygote.py)."""
        request = {"argv": list(argv), "cwd": str(cwd), "env": env or {}, "kill_after": kill_after,
                   "kill_at_step": kill_at_step, "timeout": timeout}
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        return json.loads(self.process.stdout.readline())

    def cli(self, *argv: str, cwd: Path, timeout: float = 180.0) -> Run:
        """``barlight *argv`` in ``cwd``, forked, as a :class:`Run`."""
        answer = self.run(list(argv), cwd, env={"BARLIGHT_SESSIONS": str(cwd / "sessions")}, timeout=timeout)
        return Run(tuple(argv), answer["returncode"], answer["stdout"], answer["stderr"], answer["peak_rss_mb"],
                   answer["seconds"])

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=30)


def snapshot(folder: Path) -> dict[str, str]:
    """Relative path -> sha256 of every file under ``folder`` (folders as ``DIR/``)."""
    files = {}
    for path in sorted(folder.rglob("*")):
        name = path.relative_to(folder).as_posix()
        if path.is_symlink():
            files[name] = f"-> {os.readlink(path)}"
        elif path.is_dir():
            files[name + "/"] = ""
        elif path.is_file():
            files[name] = hashlib.sha256(path.read_bytes()).hexdigest()
    return files


def assert_sane(run: Run) -> None:
    """What holds for every run: no traceback, exit 0 or 2 (or a signal's), memory under the limit."""
    assert "Traceback" not in run.stderr and "Traceback" not in run.stdout, (run.argv, run.stderr[-3000:])
    assert run.returncode in (0, 2), (run.argv, run.returncode, run.stderr[-2000:])
    assert run.peak_rss_mb < PEAK_RSS_LIMIT_MB, (run.argv, run.peak_rss_mb)


def assert_refused(run: Run, *names: str) -> str:
    """Exit 2, one line ``barlight CMD: error: ...`` that names one of ``names`` (a file or an option)."""
    assert_sane(run)
    assert run.returncode == 2, (run.argv, run.returncode, run.stdout[-500:], run.stderr[-2000:])
    lines = [line for line in run.error_lines if ": warning: " not in line]
    assert len(lines) == 1, (run.argv, run.stderr)
    line = lines[0]
    assert line.startswith("barlight ") and ": error: " in line, (run.argv, line)
    assert not names or any(name in line for name in names), (run.argv, line, names)
    return line


def assert_unchanged(before: dict[str, str], after: dict[str, str], allowed_new: tuple[str, ...] = ()) -> None:
    """Every file from ``before`` is byte-identical in ``after``; nothing new but ``allowed_new`` prefixes."""
    changed = {name for name, digest in before.items() if after.get(name) != digest}
    assert not changed, sorted(changed)
    new = {name for name in after if name not in before and not name.startswith(allowed_new)}
    assert not new, sorted(new)
