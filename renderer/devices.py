"""Where the model runs: the device (``cuda`` -> ``mps`` -> ``cpu``, overridable by ``--device`` or
``BARLIGHT_DEVICE``) and the CPU policy.

CPU policy (the only place Barlight sets torch's thread count or OpenMP's waiting):

- An explicit count wins: ``--threads`` of ``export``, ``bench`` and ``train`` (train's default is 1),
  or a backend's ``threads`` setting.
- Otherwise the backend decides. The embedded backend runs one thread on the CPU
  (:data:`SMALL_MODEL_THREADS`); the diffusers backend keeps torch's own count. The live preview
  follows the backend too (one thread for the embedded model leaves the other cores to the
  display and the receiver).
- Long jobs (export, train, the preview's render process, a cluster's workers) make idle OpenMP
  threads sleep (:func:`wait_passively`, :data:`PASSIVE_WAIT`).
- A cluster's workers start with this process's OpenMP thread count (:func:`worker_environment`).
- Freed frame-sized blocks stay with the process for the next frame (:func:`reuse_freed_memory`,
  glibc only), instead of going back to the kernel and returning as fresh pages.

They go through :func:`apply_cpu_policy`, :func:`wait_passively` and :func:`worker_environment`.
"""

from __future__ import annotations

import functools
import os
import sys

from bridge.errors import InputError

DEVICE_ENV = "BARLIGHT_DEVICE"
DEVICE_KINDS = ("cuda", "mps", "cpu")
#: Torch threads for the small models Barlight runs on the CPU unless asked otherwise: their tensors
#: are too small to gain from more, and with a DAW busy on the same cores several threads wait on
#: each other (50 frames/s on 1 thread vs 2 on 2 on a loaded 2-core machine, docs/benchmarks.md).
SMALL_MODEL_THREADS = 1
#: The environment that makes idle OpenMP threads sleep instead of spin (a process's own, or a worker's).
PASSIVE_WAIT: dict[str, str] = {"OMP_WAIT_POLICY": "PASSIVE"}


def pick_device(requested: str | None = None) -> str:
    """The device to run on: ``requested``, else ``$BARLIGHT_DEVICE``, else the best available.

    ``"auto"`` means the best available. Asking for a device that is not there is an
    :class:`InputError` (one line), not a silent fallback.
    """
    import torch

    choice = (requested or os.environ.get(DEVICE_ENV) or "auto").strip().lower()
    where = "--device" if requested else DEVICE_ENV
    if choice == "auto":
        if torch.cuda.is_available():
            return "cuda"
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return "mps"
        return "cpu"
    kind = choice.split(":")[0]
    if kind not in DEVICE_KINDS:
        raise InputError(where, f"unknown device {choice!r} (expected auto, cuda, cuda:N, mps or cpu)")
    if kind == "cuda" and not torch.cuda.is_available():
        raise InputError(where, "CUDA was asked for but torch sees no CUDA GPU")
    if kind == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise InputError(where, "MPS was asked for but this machine has no Apple-silicon GPU")
    return choice


def dtype_for(device: str, half: bool | None = None):
    """float16 on CUDA (and MPS) unless ``half`` is False; float32 on CPU."""
    import torch

    use_half = device.split(":")[0] in ("cuda", "mps") if half is None else half
    return torch.float16 if use_half and not device.startswith("cpu") else torch.float32


def check_threads(threads: int | None, where: str = "--threads") -> int | None:
    """``threads`` if it is a usable torch thread count (or None); InputError naming ``where`` if not."""
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int) or threads < 1):
        raise InputError(where, f"must be >= 1, got {threads!r}")
    return threads


def apply_cpu_policy(threads: int | None, default: int | None = None, where: str = "--threads") -> None:
    """Run torch on ``threads`` CPU threads, else on ``default``; with neither, leave torch's own count.

    The count is process-wide: call it after loading the backend (whose own default it overrides).
    It also keeps freed frames' memory for the next frame (:func:`reuse_freed_memory`).
    """
    reuse_freed_memory()
    count = check_threads(threads, where) or default
    if count is not None:
        import torch

        torch.set_num_threads(count)


#: glibc ``mallopt`` parameters and the values :func:`reuse_freed_memory` sets: blocks up to 32 MiB (a
#: 1920 x 1080 float frame is 24 MiB; 32 is glibc's largest) come from the heap, and up to 256 MiB of
#: freed heap stays with the process.
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
MALLOC_SETTINGS = {M_MMAP_THRESHOLD: 32 << 20, M_TRIM_THRESHOLD: 256 << 20}


@functools.cache
def reuse_freed_memory() -> bool:
    """Keep freed frame-sized blocks for the next frame (glibc's malloc; elsewhere nothing to do): True if set.

    By default glibc hands a freed block of more than a few MiB back to the kernel, and the next one
    arrives as fresh pages that the kernel zeroes on first touch. A frame at 1280 x 720 makes a dozen
    such blocks: 600,000 page faults in 40 frames, and a quarter of the render time on a 2-core box
    (141 against 106-112 ms a frame, docs/benchmarks.md). Process-wide, like the thread count.
    """
    import platform

    if not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc":
        return False
    import ctypes

    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return all(mallopt(param, value) == 1 for param, value in MALLOC_SETTINGS.items())


def worker_environment() -> dict[str, str]:
    """The OpenMP environment for worker processes another tool starts (Ray's): passive waiting, and this
    process's thread count. Ray would set ``OMP_NUM_THREADS=1``, and torch started that way rounds a few
    pixels 1-4 levels differently from a local export of the same frames."""
    return {**PASSIVE_WAIT, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS") or str(os.cpu_count() or 1)}


def wait_passively() -> None:
    """Let idle OpenMP threads sleep instead of spin (``OMP_WAIT_POLICY=PASSIVE`` unless already set):
    spinning threads cost ~10x per step on a busy 2-core machine. It only takes effect before torch
    is first imported, so a command calls it first thing."""
    for name, value in PASSIVE_WAIT.items():
        os.environ.setdefault(name, value)
