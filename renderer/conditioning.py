"""How sound steers the model: audio *sources* -> a learnable linear *mapping* -> conditioning *targets*.

Three steps, each a pure function of values:

1. :func:`summarize` reduces a :class:`~renderer.moment.Moment` to named sources in 0..1
   (energy, brightness, onset pulse, beat pulse, macros, ...), smoothing the feature
   window with a time constant given in beats.
2. :class:`Mapping` turns sources into targets: ``target = clip(bias + sum(weight * source))``
   (``hue`` wraps instead of clipping). A preset's ``[reactivity.<target>]`` tables are
   its weights; :meth:`Mapping.fit` fits the same weights on a user's own examples
   (least squares), so a learned mapping plugs in the same way. Nothing is hard-coded.
3. :class:`Conditioning` gathers targets, the section's prompt blend and the seed walk
   for one frame; it is JSON-able (:meth:`Conditioning.to_dict`) for keyframe files.

No torch here; backends turn a Conditioning into tensors.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Mapping as MappingABC, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from bridge.errors import InputError
from bridge.features.reduced import estimated_onsets
from bridge.files import write_atomic
from bridge.inputs import parse_json, read_text_limited
from renderer.moment import MACRO_COUNT, Moment

#: Audio and transport sources, each 0..1, in the order of a mapping's weight columns.
SOURCES: tuple[str, ...] = (
    "energy",      # loudness: smoothed rms_db from -60 dB (0) to 0 dB (1)
    "brightness",  # spectral centroid, log scale 150 Hz (0) .. 6 kHz (1), smoothed
    "noisiness",   # spectral flatness, smoothed
    "harmonic",    # harmonic/percussive balance, smoothed
    "pitch",       # most recent pitch class / 12 (cyclic; 0 when unpitched)
    "onset",       # onset pulse: onset strength (full at 8 dB flux), decaying over ``pulse_beats``
    "density",     # onsets per beat in the window, older half faded (1 = one per beat or more)
    "beat",        # beat-locked pulse: 1 on each counted beat, decaying through it
    "downbeat",    # bar-locked pulse: 1 on each downbeat, decaying through the bar
    "macro1", "macro2", "macro3", "macro4",
)

#: What the sources drive. All are 0..1; ``hue`` wraps around.
TARGETS: tuple[str, ...] = (
    "intensity",   # prompt blend calm -> intense (embedded: energy axis of the embedding)
    "brightness",  # prompt blend dark -> bright (embedded: timbre axis)
    "strength",    # img2img feedback strength when a previous frame exists (low = coherent)
    "walk",        # seed walk speed through the bar (0 = even, 1 = rushes to the next seed)
    "drift",       # how far the noise follows the bar-to-bar walk away from the section's anchor (0 = held)
    "kick",        # noise displacement toward a per-beat seed (onset-locked motion)
    "flash",       # post-diffusion brightness pulse
    "hue",         # hue rotation of the frame, in turns
    "palette",     # how much the preset's palette recolours the frame
    "exposure",    # brightness gain: 0.5 = unchanged, 0 = one stop darker, 1 = one stop brighter
    "motion",      # size of the preset's beat- or bar-locked warp ([motion]: zoom and twist punches)
)

#: Bias of each target when a preset's reactivity table does not set one.
DEFAULT_BIAS: dict[str, float] = {
    "intensity": 0.0, "brightness": 0.5, "strength": 0.35, "walk": 0.0, "drift": 1.0,
    "kick": 0.0, "flash": 0.0, "hue": 0.0, "palette": 0.5, "exposure": 0.5, "motion": 0.0,
}

ENERGY_DB_RANGE = (-60.0, 0.0)
CENTROID_HZ_RANGE = (150.0, 6000.0)
#: Onset strength (spectral flux, dB) at which the onset pulse reaches full height.
ONSET_FULL_DB = 8.0


def _unit(value: float, lo: float, hi: float) -> float:
    return float(min(max((value - lo) / (hi - lo), 0.0), 1.0))


def _column(track: Any, name: str) -> np.ndarray | None:
    column = getattr(track, name, None)
    if column is None:
        return None
    column = np.asarray(column, dtype=np.float64)
    return column if column.ndim == 1 else None


def onset_density(ages_beats: np.ndarray, window_beats: float) -> float:
    """Onsets per beat over a window of ``window_beats``, 0..1, from the onsets' ages in beats.

    Onsets in the older half of the window count less and less (a linear fade to 0 at its far
    end), so the density falls smoothly as an onset ages out rather than dropping a step; a steady
    stream of ``r`` onsets per beat still reads ``r``.
    """
    window_beats = max(float(window_beats), 1e-6)
    weight = np.clip(2.0 * (1.0 - np.asarray(ages_beats, np.float64) / window_beats), 0.0, 1.0)
    return float(min(weight.sum() / (0.75 * window_beats), 1.0))


def summarize(moment: Moment, smoothing_beats: float = 0.5, pulse_beats: float = 0.5) -> dict[str, float]:
    """The named sources (see :data:`SOURCES`) of ``moment``, each 0..1.

    Continuous features are averaged over the window with weights ``exp(-age / smoothing)``
    (age and smoothing in beats at the moment's tempo), so a passage that holds steady gives
    steady sources. ``onset`` is ``exp(-age / pulse_beats)`` of the most recent onset, scaled
    by its strength (full at :data:`ONSET_FULL_DB` of spectral flux). A feed without onsets
    (a sender without PCM) gets them estimated from its band levels
(:func:`bridge.features.reduced.estimated_onsets`); other
    columns a feed lacks (pitch, harmonic ratio) give 0.
    """
    beat_seconds = moment.beat_seconds
    out = dict.fromkeys(SOURCES, 0.0)
    track = moment.features
    if moment.has_audio:
        ages = np.maximum((moment.seconds - np.asarray(track.seconds, np.float64)) / beat_seconds, 0.0)
        weights = np.exp(-ages / max(float(smoothing_beats), 1e-6))
        weights /= weights.sum()

        def smooth(name: str, transform: Any = None) -> float | None:
            column = _column(track, name)
            if column is None:
                return None
            ok = np.isfinite(column)
            if not ok.any():
                return None
            values = column if transform is None else transform(column)
            w = np.where(ok, weights, 0.0)
            return float(np.dot(w, np.where(ok, values, 0.0)) / w.sum())

        energy = smooth("rms_db")
        out["energy"] = _unit(energy, *ENERGY_DB_RANGE) if energy is not None else 0.0
        centroid = smooth("centroid_hz", lambda c: np.log(np.maximum(c, 1.0)))
        if centroid is not None:
            out["brightness"] = _unit(centroid, *(math.log(v) for v in CENTROID_HZ_RANGE))
        for source, name in (("noisiness", "flatness"), ("harmonic", "harmonic_ratio")):
            value = smooth(name)
            out[source] = _unit(value, 0.0, 1.0) if value is not None else 0.0
        pitch = getattr(track, "pitch_class", None)
        if pitch is not None and int(pitch[-1]) >= 0:
            out["pitch"] = int(pitch[-1]) / 12.0
        onset = getattr(track, "onset", None)
        strength = _column(track, "onset_strength")
        if onset is None and getattr(track, "bands", None) is not None:
            onset, strength = estimated_onsets(track.bands)
        if onset is not None and np.any(onset):
            index = np.flatnonzero(np.asarray(onset, bool))
            height = 1.0
            if strength is not None and math.isfinite(strength[index[-1]]):
                height = _unit(float(strength[index[-1]]), 0.0, ONSET_FULL_DB)
            out["onset"] = float(height * math.exp(-ages[index[-1]] / max(pulse_beats, 1e-6)))
            out["density"] = onset_density(ages[index], moment.window_seconds / beat_seconds)
    out["beat"] = math.exp(-4.0 * moment.beat_phase)
    out["downbeat"] = math.exp(-4.0 * moment.bar_phase)
    for i in range(MACRO_COUNT):
        out[f"macro{i + 1}"] = float(moment.macros[i])
    return out


@dataclass(frozen=True)
class Mapping:
    """A linear map from :data:`SOURCES` to :data:`TARGETS`: ``clip(bias + weights @ sources)``.

    ``weights`` has one row per target and one column per source. Build it from a preset's
    reactivity tables (:meth:`from_tables`), from JSON (:meth:`from_dict`), or fit it on
    examples (:meth:`fit`).
    """

    weights: tuple[tuple[float, ...], ...]
    bias: tuple[float, ...]

    def __post_init__(self) -> None:
        if len(self.bias) != len(TARGETS) or len(self.weights) != len(TARGETS):
            raise ValueError(f"a mapping needs {len(TARGETS)} targets")
        if any(len(row) != len(SOURCES) for row in self.weights):
            raise ValueError(f"each mapping row needs {len(SOURCES)} source weights")

    @classmethod
    def from_tables(cls, tables: MappingABC[str, MappingABC[str, float]], where: str = "reactivity") -> Mapping:
        """From ``{target: {"bias": b, source: weight, ...}}``; unknown names are :class:`InputError`."""
        weights = np.zeros((len(TARGETS), len(SOURCES)))
        bias = np.array([DEFAULT_BIAS[t] for t in TARGETS])
        for target, table in tables.items():
            if target not in TARGETS:
                raise InputError(where, f"unknown target {target!r} (expected one of {', '.join(TARGETS)})")
            if not isinstance(table, MappingABC):
                raise InputError(f"{where}.{target}", "must be a table of source = weight")
            row = TARGETS.index(target)
            for source, value in table.items():
                if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
                    raise InputError(f"{where}.{target}.{source}", f"must be a number, got {value!r}")
                if source == "bias":
                    bias[row] = float(value)
                elif source in SOURCES:
                    weights[row, SOURCES.index(source)] = float(value)
                else:
                    raise InputError(
                        f"{where}.{target}", f"unknown source {source!r} (expected bias or one of {', '.join(SOURCES)})"
                    )
        return cls.from_arrays(weights, bias)

    @classmethod
    def from_arrays(cls, weights: np.ndarray, bias: np.ndarray) -> Mapping:
        return cls(tuple(tuple(float(w) for w in row) for row in weights), tuple(float(b) for b in bias))

    @classmethod
    def fit(cls, sources: Sequence[MappingABC[str, float]], targets: Sequence[MappingABC[str, float]],
            ridge: float = 1e-3) -> Mapping:
        """Least-squares (ridge) fit on examples: ``sources[i]`` should give ``targets[i]``.

        Targets missing from an example keep their default bias and zero weights.
        """
        if len(sources) != len(targets) or not sources:
            raise ValueError("fit needs as many target examples as source examples, and at least one")
        x = np.array([[s.get(name, 0.0) for name in SOURCES] for s in sources], float)
        x1 = np.hstack([x, np.ones((len(x), 1))])
        weights = np.zeros((len(TARGETS), len(SOURCES)))
        bias = np.array([DEFAULT_BIAS[t] for t in TARGETS])
        for row, target in enumerate(TARGETS):
            known = [i for i, t in enumerate(targets) if target in t]
            if not known:
                continue
            y = np.array([targets[i][target] for i in known], float)
            a = x1[known]
            reg = ridge * np.eye(a.shape[1])
            reg[-1, -1] = 0.0
            solution = np.linalg.solve(a.T @ a + reg, a.T @ y)
            weights[row], bias[row] = solution[:-1], solution[-1]
        return cls.from_arrays(weights, bias)

    def __call__(self, sources: MappingABC[str, float]) -> dict[str, float]:
        x = np.array([sources.get(name, 0.0) for name in SOURCES], float)
        y = np.asarray(self.bias) + np.asarray(self.weights) @ x
        out = {}
        for target, value in zip(TARGETS, y):
            out[target] = float(value % 1.0) if target == "hue" else float(min(max(value, 0.0), 1.0))
        return out

    def to_dict(self) -> dict[str, Any]:
        """``{"sources": [...], "targets": [...], "weights": [[...]], "bias": [...]}``."""
        return {"sources": list(SOURCES), "targets": list(TARGETS),
                "weights": [list(r) for r in self.weights], "bias": list(self.bias)}

    @classmethod
    def from_dict(cls, data: MappingABC[str, Any], where: str = "mapping") -> Mapping:
        """Rebuild from :meth:`to_dict`; rows and columns are matched by name."""
        try:
            sources, targets = list(data["sources"]), list(data["targets"])
            weights, bias = np.asarray(data["weights"], float), np.asarray(data["bias"], float)
        except (KeyError, TypeError, ValueError) as err:
            raise InputError(where, f"not a mapping ({err})") from None
        if weights.shape != (len(targets), len(sources)) or bias.shape != (len(targets),):
            raise InputError(where, "weights must be targets x sources and bias one per target")
        tables = {t: {"bias": float(bias[i]), **{s: float(weights[i, j]) for j, s in enumerate(sources)}}
                  for i, t in enumerate(targets)}
        return cls.from_tables(tables, where)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write :meth:`to_dict` as JSON (temporary name, then rename)."""
        write_atomic(path, json.dumps(self.to_dict(), indent=2))

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Mapping:
        """Read a mapping written by :meth:`save`: a regular JSON file of at most 1 MB (a preset may name any
        path, and presets get shared: ``/dev/zero`` or a huge file is refused before it is read)."""
        text = read_text_limited(path, "mapping")
        try:
            data = parse_json(text)
        except ValueError as err:
            raise InputError(path, f"not a mapping: not JSON ({err})") from None
        return cls.from_dict(data, str(path))


@dataclass(frozen=True)
class SectionPrompts:
    """The prompts of one section: energy moves calm -> intense, brightness moves dark -> bright."""

    calm: str
    intense: str
    dark: str | None = None
    bright: str | None = None

    def blend(self, intensity: float, brightness: float) -> tuple[tuple[str, float], ...]:
        """Prompts with weights summing to 1 (equal prompts merged)."""
        parts = [(self.calm, 1.0 - intensity), (self.intense, intensity)]
        if self.dark is not None and self.bright is not None:
            parts = [(p, w * 0.5) for p, w in parts]
            parts += [(self.dark, 0.5 * (1.0 - brightness)), (self.bright, 0.5 * brightness)]
        merged: dict[str, float] = {}
        for prompt, weight in parts:
            merged[prompt] = merged.get(prompt, 0.0) + weight
        return tuple((p, w) for p, w in merged.items() if w > 0.0) or ((self.calm, 1.0),)


def derive_seed(*parts: int | str) -> int:
    """A 63-bit seed from ``parts``, stable across runs, machines and Python versions."""
    digest = hashlib.blake2b("/".join(str(p) for p in parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") >> 1


@dataclass(frozen=True)
class SeedWalk:
    """Where the fixed-noise walk is: slerp from ``seed_from`` to ``seed_to`` by ``position``, then
    from the section's ``anchor_seed`` toward that by ``drift`` (a steady passage holds its anchor),
    then toward ``kick_seed`` by ``kick`` (the onset-locked displacement)."""

    seed_from: int
    seed_to: int
    position: float
    kick_seed: int
    kick: float
    anchor_seed: int = 0
    drift: float = 1.0

    def to_dict(self) -> dict[str, Any]:
        return {"seed_from": self.seed_from, "seed_to": self.seed_to, "position": self.position,
                "anchor_seed": self.anchor_seed, "drift": self.drift,
                "kick_seed": self.kick_seed, "kick": self.kick}


@dataclass(frozen=True)
class Conditioning:
    """Everything that steers one frame, JSON-able: section, prompt blend, targets, sources, walk."""

    section: str
    prompts: tuple[tuple[str, float], ...]
    targets: MappingABC[str, float]
    sources: MappingABC[str, float]
    walk: SeedWalk

    @property
    def seed(self) -> int:
        """The frame's keyframe seed: the bar's, where the walk starts."""
        return self.walk.seed_from

    def to_dict(self) -> dict[str, Any]:
        return {
            "section": self.section,
            "prompts": [{"prompt": p, "weight": w} for p, w in self.prompts],
            "targets": dict(self.targets),
            "sources": dict(self.sources),
            "walk": self.walk.to_dict(),
            "seed": self.seed,
        }


def conditioning_change(a: Conditioning, b: Conditioning) -> float:
    """How far apart two frames' conditioning is, for skipping near-identical frames: infinite across
    sections, anchors or bar seeds, else the largest change of walk position, drift, kick, feedback
    strength and prompt weights (each 0..1)."""
    seeds_a = (a.walk.seed_from, a.walk.seed_to, a.walk.anchor_seed)
    if a.section != b.section or seeds_a != (b.walk.seed_from, b.walk.seed_to, b.walk.anchor_seed):
        return math.inf
    weights_a, weights_b = dict(a.prompts), dict(b.prompts)
    prompt_change = max((abs(weights_a.get(p, 0.0) - weights_b.get(p, 0.0)) for p in {*weights_a, *weights_b}),
                        default=0.0)
    kick_change = abs(a.walk.kick - b.walk.kick) if a.walk.kick_seed == b.walk.kick_seed else max(a.walk.kick, b.walk.kick)
    return max(abs(a.walk.position - b.walk.position), abs(a.walk.drift - b.walk.drift), kick_change,
               abs(a.targets.get("strength", 0.0) - b.targets.get("strength", 0.0)), prompt_change)


def walk_position(bar_phase: float, walk: float) -> float:
    """Position 0..1 of the seed walk through a bar: even at ``walk = 0``; higher ``walk``
    reaches the next bar's seed earlier (``bar_phase ** (1 / (1 + 3 walk))``), smoothed at the ends."""
    warped = bar_phase ** (1.0 / (1.0 + 3.0 * walk))
    return warped * warped * (3.0 - 2.0 * warped)
