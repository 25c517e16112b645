"""``keyframes.parseq.json``: a Parseq document (the Deforum parameter sequencer's format: ``options``
plus ``keyframes`` of ``{frame, seed, seed_i, info}``), so an export's seeds and bar labels load there."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from bridge.files import write_atomic
from renderer.export.keyframes import KeyframeSheet

PARSEQ_NAME = "keyframes.parseq.json"


def parseq_seed(seed: int) -> int:
    """Barlight's 63-bit bar seed folded to the 32 bits Parseq/Deforum seeds have (JavaScript numbers
    hold integers exactly only up to 2**53)."""
    return int(seed) % 2**32


def keyframes_parseq(sheet: KeyframeSheet, doc_name: str = "Barlight export") -> str:
    """A Parseq document: seed keyframes on each bar's frame (step interpolation), bar and section as ``info``.

    Parseq assumes one constant tempo, so ``options.bpm`` is the tempo at the first
    exported bar; the keyframes themselves sit on exact frame numbers, so tempo changes
    and meter changes still land right. Frames are video frames (the first exported bar is 0).
    Seeds are folded to 32 bits (:func:`parseq_seed`); ``keyframes.json`` keeps the full ones.
    """
    keyframes = []
    for kf in sheet.bars:
        label = f"bar {kf.bar}" + (f" {kf.section}" if kf.section else "") + f" {kf.numerator}/{kf.denominator}"
        keyframes.append({"frame": kf.frame, "seed": parseq_seed(kf.seed), "seed_i": "S", "info": label})
    last = max(sheet.frame_count - 1, 0)
    if not keyframes or keyframes[-1]["frame"] < last:
        keyframes.append({"frame": last})  # Parseq renders up to its last keyframe
    if keyframes and keyframes[0]["frame"] != 0:
        keyframes.insert(0, {"frame": 0, "seed": parseq_seed(sheet.bars[0].seed) if sheet.bars else 0, "seed_i": "S"})
    doc = {
        "meta": {"docName": doc_name, "generated_by": "barlight"},
        "prompts": {"positive": "", "negative": ""},
        "options": {
            "input_fps": "",
            "bpm": round(sheet.bars[0].bpm, 6) if sheet.bars else 120,
            "output_fps": float(sheet.fps) if sheet.fps.denominator != 1 else sheet.fps.numerator,
            "cc_window_width": 0,
            "cc_window_slide_rate": 1,
            "cc_use_input": False,
        },
        "managedFields": ["seed"],
        "displayedFields": ["seed"],
        "keyframeLock": "frames",
        "keyframes": keyframes,
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


#: What :func:`write` writes (relative to the export folder).
WRITES = (PARSEQ_NAME,)


def write(sheet: KeyframeSheet, out_dir: Path, frame_image: Callable[[int], Path]) -> tuple[Path, ...]:
    return (write_atomic(out_dir / PARSEQ_NAME, keyframes_parseq(sheet)),)
