"""Frame sinks: where rendered frames go, each with the musical position it shows (docs/architecture.md).

- :mod:`renderer.sinks.base` — :class:`FramePosition`, the :class:`FrameSink` interface (``send``,
  ``close``, ``abort``, ``latency_seconds``) and :class:`Outputs`, which feeds several sinks as one.
- :mod:`renderer.sinks.window` — the preview window's picture (imports Qt).
- :mod:`renderer.sinks.video_file` — :class:`VideoWriter`: an .mp4 or .mov with the song's audio.
- :mod:`renderer.sinks.ndi`, :mod:`renderer.sinks.syphon`, :mod:`renderer.sinks.spout` — video
  outputs to VJ software (``--video-out``), each over its optional library.

Adding a sink is one file here plus one row in :data:`SINKS`; :func:`open_sink` builds a sink
by name, :func:`open_video_out` one of the video outputs from a ``--video-out`` value. Nothing
is imported before a sink is asked for.
"""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING, Any

from bridge.errors import InputError
from bridge.registry import load_entry

if TYPE_CHECKING:
    from renderer.sinks.base import FrameSink

#: Sink name -> "module:Class", imported on first use.
SINKS: dict[str, str] = {
    "window": "renderer.sinks.window:WindowSink",
    "video": "renderer.sinks.video_file:VideoWriter",
    "ndi": "renderer.sinks.ndi:NdiSink",
    "syphon": "renderer.sinks.syphon:SyphonSink",
    "spout": "renderer.sinks.spout:SpoutSink",
}


def sink_class(name: str, where: str = "sink") -> type[FrameSink]:
    """The sink class registered as ``name`` (its module imported now); InputError at ``where`` naming the choices."""
    return load_entry(SINKS, name, "sink", where)


def open_sink(spec: str, where: str = "sink", **settings: Any) -> FrameSink:
    """A sink built from ``spec``, ``"name"`` or ``"name:target"`` (what follows the colon, such as the
    name a network sink announces, is passed as ``target=``), and its keyword ``settings``."""
    name, colon, target = spec.partition(":")
    if colon:
        settings["target"] = target
    return sink_class(name, where)(**settings)


def video_outs() -> tuple[str, ...]:
    """The registered sinks a ``--video-out`` can open (imports every sink module: for error messages)."""
    from renderer.sinks.base import VideoOut

    names = []
    for name in SINKS:
        try:
            if issubclass(sink_class(name), VideoOut):
                names.append(name)
        except ImportError:  # a sink whose own library is missing here (Qt for the window) is no video output
            continue
    return tuple(names)


def open_video_out(spec: str, fps: float | Fraction, where: str = "--video-out") -> FrameSink:
    """The :class:`~renderer.sinks.base.VideoOut` ``spec`` names (``ndi``, ``ndi:Stage left``, ...), sending at
    ``fps`` frames per second."""
    from renderer.sinks.base import VideoOut

    name = spec.partition(":")[0]
    if not issubclass(sink_class(name, where), VideoOut):
        raise InputError(where, f"{name!r} is not a video output (available: {', '.join(video_outs())})")
    return open_sink(spec, where, fps=fps)
