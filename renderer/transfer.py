"""Frames on their way from the GPU to host memory, and small inputs on their way to it, without
making the CPU wait for the GPU.

A copy from ordinary (pageable) host memory to a CUDA device first waits for everything queued on
the stream, which would stall the CPU behind the previous frame's UNet; :func:`to_device` copies
through pinned memory without that wait.

:class:`HostFrame` starts the copy of a uint8 frame into pinned memory on a side stream (the
DMA engine runs it while the compute stream goes on with the next frame's UNet) and records an
event; :meth:`HostFrame.array` waits for that event only. A numpy frame is already there; a frame
on another device (MPS, CPU tensors) or with ``async_copy=False`` is copied at once.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np


def to_device(tensor: Any, device: Any) -> Any:
    """``tensor`` (on the CPU) on ``device``; on CUDA through pinned memory, not waiting for the GPU."""
    if str(device).startswith("cuda"):
        return tensor.pin_memory().to(device, non_blocking=True)
    return tensor.to(device)


@lru_cache(maxsize=8)
def _copy_stream(device: str) -> Any:
    import torch

    return torch.cuda.Stream(device=device)


class HostFrame:
    """An HxWx3 uint8 frame that is, or will be, in host memory. Thread-safety: one reader."""

    def __init__(self, frame: Any, async_copy: bool = True) -> None:
        self._event = None
        if isinstance(frame, np.ndarray):
            self._array = frame
            return
        import torch

        if not (async_copy and frame.device.type == "cuda"):
            self._array = frame.cpu().numpy()
            return
        pinned = torch.empty(frame.shape, dtype=frame.dtype, pin_memory=True)
        stream = _copy_stream(str(frame.device))
        stream.wait_stream(torch.cuda.current_stream(frame.device))
        with torch.cuda.stream(stream):
            pinned.copy_(frame, non_blocking=True)
            self._event = torch.cuda.Event()
            self._event.record(stream)
        frame.record_stream(stream)  # the allocator keeps the frame's memory until the copy is done
        self._array = pinned.numpy()

    @property
    def ready(self) -> bool:
        """Whether the copy has finished (never waits)."""
        return self._event is None or self._event.query()

    def array(self) -> np.ndarray:
        """The frame in host memory, waiting for the copy if it is still running."""
        if self._event is not None:
            self._event.synchronize()
            self._event = None
        return self._array
