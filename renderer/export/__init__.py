"""Export: per-bar keyframes and a video aligned to the arrangement (see docs/export.md).

- :mod:`renderer.export.timing` — exact frame rates (``Fraction``), frame ``k`` at ``k/fps`` s.
- :mod:`renderer.export.audio` — the bounce, read once and cut to the exported range.
- :mod:`renderer.sinks.video_file` — :class:`VideoWriter` (a frame sink): H.264 + AAC ``.mp4`` or ProRes + PCM ``.mov``.
- :mod:`renderer.export.keyframes` — the keyframes as values (one per bar), and reading ``keyframes.json`` back.
- :mod:`renderer.export.keyframe_formats` — a registry of writers: the images, JSON, CSV and Parseq files.
- :mod:`renderer.export.checkpoint` — :class:`FrameStore`: finished chunks' segments and keyframe images, for resume.
- :mod:`renderer.export.request` — :class:`ExportRequest`, fresh or re-rendered from a ``keyframes.json``.
- :mod:`renderer.export.job` — :func:`prepare_export`, :func:`render_frames`, :func:`write_outputs` and
  :func:`run_export`, which ties them together with checkpoints.
- :mod:`renderer.export.beats` — no timeline given: a constant tempo from librosa's beat tracker.
- :mod:`renderer.export.demo` — the synthesised demo piece of ``barlight demo``.

Nothing heavy is imported here; each module imports what it needs.
"""
