"""Frame sinks: where rendered frames go, each with the musical position it shows (docs/architecture.md).

- :mod:`renderer.sinks.base` — :class:`FramePosition`, the :class:`FrameSink` interface (``send``,
  ``close``, ``abort``, ``latency_seconds``) and :class:`Outputs`, which feeds several sinks as one.
- :mod:`renderer.sinks.window` — the preview window's picture (imports Qt).
- :mod:`renderer.sinks.video_file` — :class:`VideoWriter`: an .mp4 or .mov with the song's audio.

Adding a sink is one file here plus one row in :data:`SINKS`; :func:`open_sink` builds a sink
by name. Nothing is imported before a sink is asked for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bridge.registry import load_entry

if TYPE_CHECKING:
    from renderer.sinks.base import FrameSink

#: Sink name -> "module:Class", imported on first use.
SINKS: dict[str, str] = {
    "window": "renderer.sinks.window:WindowSink",
    "video": "renderer.sinks.video_file:VideoWriter",
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
