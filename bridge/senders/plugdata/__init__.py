"""The plugdata sender patch (``barlight-sender.pd``): the host playhead as protocol v1, no compiler needed."""

from __future__ import annotations

from pathlib import Path

#: The patch to open in plugdata (AU/VST3/CLAP in Logic, Bitwig, Reaper, Cubase, FL Studio…).
PATCH = Path(__file__).with_name("barlight-sender.pd")
