"""Device selection: ``cuda`` -> ``mps`` -> ``cpu``, overridable by ``--device`` or ``BARLIGHT_DEVICE``."""

from __future__ import annotations

import os

from bridge.errors import InputError

DEVICE_ENV = "BARLIGHT_DEVICE"
DEVICE_KINDS = ("cuda", "mps", "cpu")


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
