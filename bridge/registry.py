"""Extension tables: one ``name -> "module:attribute"`` row per implementation, imported on first use.

Like mido's backends: an extension point (frame sinks, keyframe formats, ...) keeps its table
beside its interface, so adding an implementation is its own file plus one row, and nothing
is imported until it is asked for by name (an optional library is needed only when used).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from bridge.errors import InputError


def load_entry(table: Mapping[str, str], name: str, kind: str, where: str) -> Any:
    """What ``table`` registers as ``name`` (its module imported now); an :class:`InputError` at ``where``
    naming the choices when there is no such ``kind``."""
    if name not in table:
        raise InputError(where, f"unknown {kind} {name!r} (available: {', '.join(table)})")
    module_name, _, attribute = table[name].partition(":")
    return getattr(importlib.import_module(module_name), attribute)
