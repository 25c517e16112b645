"""A real NDI receiver for tests (``ndi-python``): finds a source on this machine, connects, and keeps what arrives.

Discovery goes to 127.0.0.1 directly and lists local sources (``extra_ips``, ``show_local_sources``), so it
works on a box without mDNS. Each video frame is kept as (arrival seconds, RGB pixels, metadata XML as a
dict, timecode, frame rate N/D).
"""

from __future__ import annotations

import threading
import time
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Received:
    arrival_seconds: float
    image: np.ndarray
    metadata: dict[str, str]
    timecode: int
    rate: tuple[int, int]


class NdiReceiver:
    """Receives the NDI source called ``name`` (as ``HOST (name)``) on a thread until :meth:`close`."""

    def __init__(self, name: str, find_seconds: float = 30.0) -> None:
        import NDIlib as ndi

        assert ndi.initialize()
        self._ndi = ndi
        settings = ndi.FindCreate()
        settings.show_local_sources = True
        settings.extra_ips = "127.0.0.1"
        finder = ndi.find_create_v2(settings)
        try:
            source = self._find(finder, name, find_seconds)
            receive = ndi.RecvCreateV3()
            receive.color_format = ndi.RECV_COLOR_FORMAT_RGBX_RGBA
            self._receiver = ndi.recv_create_v3(receive)
            ndi.recv_connect(self._receiver, source)
        finally:
            ndi.find_destroy(finder)
        self.source_name = source.ndi_name
        self.frames: list[Received] = []
        self._running = True
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _find(self, finder, name: str, seconds: float):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self._ndi.find_wait_for_sources(finder, 500)
            for source in self._ndi.find_get_current_sources(finder):
                if source.ndi_name.endswith(f"({name})"):
                    return source
        raise AssertionError(f"no NDI source ({name}) found within {seconds:g} s")

    def _run(self) -> None:
        ndi = self._ndi
        while self._running:
            kind, video, _, metadata = ndi.recv_capture_v2(self._receiver, 100)
            if kind == ndi.FRAME_TYPE_VIDEO:
                xml = ElementTree.fromstring(video.metadata).attrib if video.metadata else {}
                self.frames.append(Received(time.monotonic(), np.array(video.data[..., :3]), xml, video.timecode,
                                            (video.frame_rate_N, video.frame_rate_D)))
                ndi.recv_free_video_v2(self._receiver, video)
            elif kind == ndi.FRAME_TYPE_METADATA:
                ndi.recv_free_metadata(self._receiver, metadata)

    def wait_for(self, count: int, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while len(self.frames) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return len(self.frames) >= count

    def close(self) -> None:
        self._running = False
        self._thread.join(2.0)
        self._ndi.recv_destroy(self._receiver)
