"""``keyframes.csv``: the keyframes flattened to one row per bar, for spreadsheets and editors.

The timing columns come first, then every scalar of ``features`` as ``feature_<name>`` and of
``conditioning`` as ``cond_<name>`` (nested names joined with dots); per-band lists stay in the JSON.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bridge.files import write_atomic
from renderer.export.keyframes import KeyframeSheet

CSV_NAME = "keyframes.csv"

CSV_COLUMNS = ("bar", "beat", "seconds", "video_seconds", "frame", "bpm", "numerator", "denominator",
               "section", "seed", "image_frame", "image")


def keyframes_csv(sheet: KeyframeSheet) -> str:
    """One row per bar: the timing columns, then ``feature_<name>`` and ``cond_<name>`` for every scalar
    (nested names joined with dots, e.g. ``feature_mean.rms_db``; per-band lists stay in the JSON only)."""
    feature_keys = sorted({k for kf in sheet.bars for k in _flat(kf.features)})
    cond_keys = sorted({k for kf in sheet.bars for k in _flat(kf.conditioning)})
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*CSV_COLUMNS, *(f"feature_{k}" for k in feature_keys), *(f"cond_{k}" for k in cond_keys)])
    for kf in sheet.bars:
        row = kf.to_dict()
        flat = _flat(kf.conditioning)
        features = _flat(kf.features)
        writer.writerow([
            *("" if row[c] is None else row[c] for c in CSV_COLUMNS),
            *(features.get(k, "") for k in feature_keys),
            *(flat.get(k, "") for k in cond_keys),
        ])
    return out.getvalue()


def _is_scalar(value: Any) -> bool:
    return isinstance(value, (int, float, str, bool)) or value is None


def _flat(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested dicts flattened to ``a.b`` keys; lists are left out of the CSV (they stay in the JSON)."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flat(value, f"{name}."))
        elif _is_scalar(value):
            out[name] = value
    return out


#: What :func:`write` writes (relative to the export folder).
WRITES = (CSV_NAME,)


def write(sheet: KeyframeSheet, out_dir: Path, frame_image: Callable[[int], Path]) -> tuple[Path, ...]:
    return (write_atomic(out_dir / CSV_NAME, keyframes_csv(sheet)),)
