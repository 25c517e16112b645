"""The live preview (``barlight preview``): frames rendered ahead of the DAW's transport, shown on time.

- :mod:`renderer.preview.schedule` — pure: ``plan_target`` (which tick, which beat),
  ``LatencyMeter``, ``FrameBuffer`` (newest due frame; late and stale ones dropped), ``DisplayClock``.
- :mod:`renderer.preview.live` — ``LiveFeatures`` (``/daw/audio``, ``/daw/macros`` per session) and
  ``live_moment`` (a Moment from a transport snapshot's position).
- :mod:`renderer.preview.status` — the sender states a user sees: waiting, playing, stopped, lost.
- :mod:`renderer.preview.hud` — the heads-up display as a value.
- :mod:`renderer.preview.worker` — the render thread.
- :mod:`renderer.preview.session` — receiver + recording + worker + buffer, ticked by the window; no Qt.
- :mod:`renderer.preview.window` — the PySide6 window (imports Qt; import it only to show one).

See docs/preview.md.
"""
