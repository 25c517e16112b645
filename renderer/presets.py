"""Presets: TOML files (read with ``tomllib``, nothing in them executes) that configure a Renderer.

A preset names its backend and that backend's settings (a ``[backend]`` table checked by the
backend class, see ``renderer.backends``), resolution, prompts per section (by marker name,
with a ``default``), a palette, and its reactivity: one ``[reactivity.<target>]`` table per
conditioning target giving ``bias`` and per-source weights (see ``renderer.conditioning``).
Validation raises :class:`bridge.errors.InputError` naming file, key and reason; unknown
keys are errors. The shipped presets live in the ``presets`` package; see docs/rendering.md.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from collections.abc import Mapping as MappingABC
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bridge.errors import InputError
from bridge.inputs import parse_toml, read_text_limited
from renderer.backends.registry import BACKENDS, DEFAULT_BACKEND, backend_class
from renderer.conditioning import Mapping, SectionPrompts
from renderer.motion import Motion, parse_motion

if TYPE_CHECKING:
    from renderer.backends.base import BackendConfig

_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")

#: Before the ``[backend]`` table, presets gave ``backend = "name"`` and the diffusers settings at the top.
_FLAT_BACKEND_KEYS = ("model", "vae", "scheduler", "lora", "steps", "guidance_scale", "negative_prompt")
_TOP_KEYS = {
    "name", "description", "backend", "resolution", "seed", "style", "palette", "smoothing_beats",
    "pulse_beats", "window_beats", "prompts", "reactivity", "mapping", "motion", *_FLAT_BACKEND_KEYS,
}
_PROMPT_KEYS = {"calm", "intense", "dark", "bright"}


@dataclass(frozen=True)
class Preset:
    """A validated preset. ``resolution`` is ``(width, height)`` in pixels; ``backend`` names a
    registered backend and ``backend_config`` holds its settings from the ``[backend]`` table."""

    name: str
    description: str
    backend: str
    backend_config: BackendConfig
    resolution: tuple[int, int]
    seed: int
    style: str
    palette: tuple[tuple[float, float, float], ...]
    smoothing_beats: float
    pulse_beats: float
    window_beats: float
    prompts: MappingABC[str, SectionPrompts]
    mapping: Mapping
    source: str = "<memory>"
    motion: Motion = Motion()

    def section_key(self, section: str | None) -> str:
        """The prompts key used for ``section``: the exact key, else the last key equal to it ignoring
        case (and spaces around the marker name), else ``"default"``."""
        if section is None:
            return "default"
        if section in self.prompts:
            return section
        wanted = section.strip().lower()
        matches = [key for key in self.prompts if key.lower() == wanted]
        return matches[-1] if matches else "default"


def _hex_to_rgb(value: str) -> tuple[float, float, float]:
    return tuple(int(value[i:i + 2], 16) / 255.0 for i in (1, 3, 5))  # type: ignore[return-value]


def _number(where: str, key: str, value: Any, lo: float, hi: float, integer: bool = False) -> float:
    ok = isinstance(value, int) if integer else isinstance(value, (int, float))
    if isinstance(value, bool) or not ok or not math.isfinite(value) or not lo <= value <= hi:
        kind = "an integer" if integer else "a number"
        raise InputError(where, f"{key} must be {kind} in {lo:g}..{hi:g}, got {value!r}")
    return value


def parse_preset(data: MappingABC[str, Any], where: str = "<preset>", base_dir: Path | None = None) -> Preset:
    """Validate a parsed TOML table; ``where`` names the file in errors."""
    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        allowed = ", ".join(sorted(_TOP_KEYS.difference(_FLAT_BACKEND_KEYS)))
        raise InputError(where, f"unknown key {unknown[0]!r} (allowed: {allowed})")
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise InputError(where, "name must be a non-empty string")
    backend, backend_config = _backend(data, where)
    resolution = data.get("resolution", [256, 256])
    if (not isinstance(resolution, list) or len(resolution) != 2
            or any(isinstance(v, bool) or not isinstance(v, int) for v in resolution)
            or any(v < 16 or v > 2048 or v % 8 for v in resolution)):
        raise InputError(where, f"resolution must be [width, height], multiples of 8 in 16..2048, got {resolution!r}")
    seed = int(_number(where, "seed", data.get("seed", 0), 0, 2**63 - 1, integer=True))
    strings = {}
    for key in ("description", "style"):
        value = data.get(key, "")
        if not isinstance(value, str):
            raise InputError(where, f"{key} must be a string")
        strings[key] = value
    palette_raw = data.get("palette", ["#000000", "#ffffff"])
    if not isinstance(palette_raw, list) or not 2 <= len(palette_raw) <= 16:
        raise InputError(where, "palette must be a list of 2..16 colours like \"#ff8800\"")
    for colour in palette_raw:
        if not isinstance(colour, str) or not _HEX.match(colour):
            raise InputError(where, f"palette colour must look like \"#ff8800\", got {colour!r}")
    smoothing = float(_number(where, "smoothing_beats", data.get("smoothing_beats", 0.5), 0.01, 64.0))
    pulse = float(_number(where, "pulse_beats", data.get("pulse_beats", 0.5), 0.01, 16.0))
    window = float(_number(where, "window_beats", data.get("window_beats", 4.0), 0.25, 64.0))
    prompts = _prompts(data.get("prompts"), where)

    reactivity = data.get("reactivity", {})
    if not isinstance(reactivity, MappingABC):
        raise InputError(where, "reactivity must be a table of [reactivity.<target>] tables")
    mapping_file = data.get("mapping")
    if mapping_file is not None:
        if not isinstance(mapping_file, str):
            raise InputError(where, "mapping must be a path to a fitted mapping .json")
        path = Path(mapping_file)
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        if reactivity:
            raise InputError(where, "give either mapping (a fitted file) or [reactivity] tables, not both")
        try:
            mapping = Mapping.load(path)  # a regular JSON file of at most 1 MB (bridge.inputs)
        except InputError as err:
            raise InputError(where, f"mapping {err.where}: {err.problem}") from None
    else:
        try:
            mapping = Mapping.from_tables(reactivity, "reactivity")
        except InputError as err:
            raise InputError(where, f"{err.where}: {err.problem}") from None

    return Preset(
        name=name.strip(), description=strings["description"], backend=backend, backend_config=backend_config,
        resolution=(resolution[0], resolution[1]), seed=seed, style=strings["style"],
        palette=tuple(_hex_to_rgb(c) for c in palette_raw), smoothing_beats=smoothing, pulse_beats=pulse,
        window_beats=window, prompts=prompts, mapping=mapping, source=where,
        motion=parse_motion(data.get("motion"), where),
    )


def _prompts(prompts_raw: Any, where: str) -> dict[str, SectionPrompts]:
    """The ``[prompts.<section>]`` tables (a string is both calm and intense)."""
    if not isinstance(prompts_raw, MappingABC) or "default" not in prompts_raw:
        raise InputError(where, "needs a [prompts.default] table (calm = \"...\", intense = \"...\")")
    prompts: dict[str, SectionPrompts] = {}
    for section, table in prompts_raw.items():
        key = f"prompts.{section}"
        if isinstance(table, str):
            table = {"calm": table, "intense": table}
        if not isinstance(table, MappingABC):
            raise InputError(where, f"{key} must be a table or a string")
        bad = sorted(set(table) - _PROMPT_KEYS)
        if bad:
            raise InputError(where, f"{key}: unknown key {bad[0]!r} (allowed: calm, intense, dark, bright)")
        if not isinstance(table.get("calm"), str):
            raise InputError(where, f"{key}.calm must be a string")
        values = {k: table[k] for k in _PROMPT_KEYS if k in table}
        for k, v in values.items():
            if not isinstance(v, str):
                raise InputError(where, f"{key}.{k} must be a string")
        if ("dark" in values) != ("bright" in values):
            raise InputError(where, f"{key}: give both dark and bright, or neither")
        values.setdefault("intense", values["calm"])
        prompts[str(section)] = SectionPrompts(**values)
    return prompts


def _backend(data: MappingABC[str, Any], where: str) -> tuple[str, BackendConfig]:
    """The backend's name and its config, checked by the backend class, from the ``[backend]`` table.

    The old flat form (``backend = "name"`` plus top-level ``model``, ``steps``, ... which only the
    diffusers backend read) still loads: this is the one place that reads it.
    """
    table = data.get("backend", {})
    flat = {key: data[key] for key in _FLAT_BACKEND_KEYS if key in data}
    if isinstance(table, str):
        table = {"name": table, **(flat if table == "diffusers" else {})}
    elif flat:
        raise InputError(where, f"{next(iter(flat))} belongs in the [backend] table")
    if not isinstance(table, MappingABC):
        raise InputError(where, "backend must be a [backend] table with name = \"...\" and the backend's settings")
    name = table.get("name", DEFAULT_BACKEND)
    if not isinstance(name, str) or name not in BACKENDS:
        raise InputError(where, f"backend.name must be one of {', '.join(BACKENDS)}, got {name!r}")
    settings = {key: value for key, value in table.items() if key != "name"}
    return name, backend_class(name).parse_config(settings, where)


#: The shipped preset used when none is given (export, demo, preview, bench).
DEFAULT_PRESET = "neon"


def builtin_presets() -> dict[str, Path]:
    """Name (file stem) -> path of every preset shipped in the ``presets`` package."""
    import presets

    found: dict[str, Path] = {}
    for folder in reversed([Path(p) for p in presets.__path__ if Path(p).is_dir()]):
        for entry in folder.glob("*.toml"):
            found[entry.stem] = entry
    return dict(sorted(found.items()))


def preset_path(name_or_path: str | os.PathLike[str]) -> Path:
    """A shipped preset by name (``"neon"``) or any ``.toml`` path."""
    text = os.fspath(name_or_path)
    path = Path(text)
    if path.suffix == ".toml" or os.sep in text or path.is_file():  # a folder named "neon" is not a preset
        if not path.is_file():
            raise InputError(text, "no such preset file")
        return path
    shipped = builtin_presets()
    if text not in shipped:
        raise InputError(text, f"no such preset (shipped: {', '.join(shipped)}; or give a .toml path)")
    return shipped[text]


def load_preset(name_or_path: str | os.PathLike[str]) -> Preset:
    """Read and validate a preset; every problem is an :class:`InputError` naming the file."""
    path = preset_path(name_or_path)
    try:
        data = parse_toml(read_text_limited(path, "preset"))
    except tomllib.TOMLDecodeError as err:
        raise InputError(path, f"not valid TOML: {err}") from None
    return parse_preset(data, str(path), path.parent)
