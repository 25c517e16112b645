"""Helpers for the render-process tests: is a process still running, and which children does a process have."""

from __future__ import annotations

import time
from pathlib import Path


def running(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie waiting to be reaped (Linux /proc)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def children(pid: int) -> list[int]:
    """The running child processes of ``pid`` (every thread's children, from /proc)."""
    found = []
    for path in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            found += [int(child) for child in path.read_text().split()]
        except FileNotFoundError:
            continue
    return [child for child in found if running(child)]


def render_processes(pid: int) -> list[int]:
    """The render processes ``pid`` spawned (multiprocessing's spawn children, not its resource tracker)."""
    found = []
    for child in children(pid):
        try:
            command = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ")
        except FileNotFoundError:
            continue
        if b"spawn_main" in command:
            found.append(child)
    return found


def wait_until(condition, seconds: float, step_seconds: float = 0.05) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(step_seconds)
    return True
