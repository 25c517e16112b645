"""Presets shipped with Barlight: one TOML file each (see docs/rendering.md for the keys).

Load them with ``renderer.presets.load_preset(name)``; this package only carries the files.
"""
