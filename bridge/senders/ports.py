"""Finding the port or device a user named: one rule for MIDI inputs and sound-card inputs."""

from __future__ import annotations

from collections.abc import Sequence

from bridge.errors import InputError


def match_name(text: str, names: Sequence[str], where: str, what: str, listed: str) -> int:
    """Index of the name ``text``: exactly, else ignoring case, else the only name containing it (ignoring case).

    Otherwise an :class:`InputError` for option ``where`` that says no ``what`` matched, or
    several did, and lists the choices (``listed``).
    """
    if text in names:
        return list(names).index(text)
    lower = text.lower()
    matches = [i for i, name in enumerate(names) if lower in name.lower()]
    exact = [i for i in matches if names[i].lower() == lower]
    if len(exact) == 1 or len(matches) == 1:
        return (exact or matches)[0]
    problem = f"matches several {what}s" if matches else f"no such {what}"
    raise InputError(where, f"{text!r}: {problem}; inputs: {listed}")
