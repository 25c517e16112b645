"""Example timelines shipped with Barlight.

- ``example.mid`` — 100 BPM intro in 4/4, a stepped ramp to 128 BPM, 7/4, 6/8, back to 4/4 at
  120 BPM, with markers and a drum track; rebuilt by ``python -m bridge.timeline.examples.make_example``.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

EXAMPLE_MIDI = "example.mid"


def example_path(name: str = EXAMPLE_MIDI) -> Path:
    """Filesystem path of a shipped example."""
    return Path(str(resources.files(__name__).joinpath(name)))
