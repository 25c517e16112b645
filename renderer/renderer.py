"""The Renderer: a pipeline made of its components (backend + preset + size + seed) and one call.

``Renderer.render(moment, state)`` is the only way a frame is made; preview and export both
use it. It is pure: the same Moment, preset, seed and state give the same frame.

Temporal coherence comes from three things, all in this file or the conditioning:

- fixed noise per bar: bar ``n`` has seed :meth:`Renderer.seed_for_bar` and the walked
  noise slerps from bar ``n``'s noise to bar ``n+1``'s through the bar; the starting noise
  is that walk reached from the section's anchor noise (:meth:`Renderer.anchor_for_section`)
  by the ``drift`` target, so a steady passage holds still and a busy one moves every bar
  (a bar start is an exact keyframe of its anchor, bar seed and drift), nudged toward a
  per-beat noise by the ``kick`` target on onsets;
- img2img feedback from the previous frame (carried in :class:`RenderState`) at the
  ``strength`` target; backends without img2img blend their output with it instead;
  the feedback is dropped on a section change or a jump in time;
- smoothing of audio sources in beats (``smoothing_beats`` of the preset).

A backend may leave its frame on the GPU (a torch tensor): the post-processing then runs there and
only the uint8 frame is copied to the host, into pinned memory on a side stream
(:class:`renderer.transfer.HostFrame`). :meth:`Renderer.submit` queues a frame and returns at once,
so the CPU prepares the next frame's conditioning while the GPU still works on this one;
:meth:`Renderer.render` is ``submit(...).result()``.
"""

from __future__ import annotations

import math
import os
from collections import OrderedDict
from collections.abc import Mapping as MappingABC
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from bridge.errors import InputError
from renderer import post
from renderer.conditioning import (Conditioning, SeedWalk, conditioning_change, derive_seed, summarize,
                                  walk_position)
from renderer.moment import Moment
from renderer.presets import Preset, load_preset
from renderer.transfer import HostFrame

if TYPE_CHECKING:
    import torch

    from renderer.backends.base import Backend

#: Feedback is dropped when the next frame is this many beats away (a seek, a loop jump).
MAX_FEEDBACK_GAP_BEATS = 1.0


@dataclass(frozen=True, eq=False)
class RenderState:
    """What the next frame needs from this one: the model's output before post-processing
    (HxWx3 float32 0..1), and where it was (``seconds``, ``section``)."""

    model_frame: Any = None  #: numpy, or a tensor on the backend's device
    seconds: float | None = None
    section: str | None = None
    conditioning: Conditioning | None = None  #: what steered ``model_frame`` (for skipping near-identical frames)


@dataclass(frozen=True, eq=False)
class RenderResult:
    """A frame (HxWx3 uint8 RGB), the state to pass to the next call, and the conditioning used."""

    frame: np.ndarray
    state: RenderState
    conditioning: Conditioning = field(repr=False)


@dataclass(frozen=True, eq=False)
class PendingRender:
    """A frame queued on the device: its ``state`` (enough for the next :meth:`Renderer.submit`) and
    conditioning now, the host frame when :meth:`result` is called."""

    host: HostFrame
    state: RenderState
    conditioning: Conditioning = field(repr=False)

    @property
    def ready(self) -> bool:
        """Whether the frame is in host memory already (never waits)."""
        return self.host.ready

    def result(self) -> RenderResult:
        """The finished frame (waits for the copy to the host if needed)."""
        return RenderResult(self.host.array(), self.state, self.conditioning)


def _is_tensor(value: Any) -> bool:
    """A torch tensor (a frame the backend left on its device), not a numpy array."""
    import torch

    return isinstance(value, torch.Tensor)


def slerp(a: torch.Tensor, b: torch.Tensor, t: float) -> torch.Tensor:
    """Spherical interpolation between two noise tensors (keeps Gaussian-noise norms)."""
    import torch

    a_flat, b_flat = a.flatten().double(), b.flatten().double()
    cos = torch.dot(a_flat, b_flat) / (a_flat.norm() * b_flat.norm())
    omega = math.acos(float(cos.clamp(-1.0, 1.0)))
    if omega < 1e-6:
        return (a * (1.0 - t) + b * t)
    s = math.sin(omega)
    return (a * (math.sin((1.0 - t) * omega) / s) + b * (math.sin(t * omega) / s)).to(a.dtype)


class Renderer:
    """Components plus one call.

    - ``backend``: a :class:`renderer.backends.base.Backend` (owns the weights).
    - ``preset``: a :class:`renderer.presets.Preset` (prompts, palette, reactivity mapping).
    - ``size``: ``(width, height)`` in pixels (default: the preset's resolution).
    - ``seed``: the base seed (default: the preset's); bar seeds derive from it.
    - ``bar_seeds``: optional ``{bar: seed}`` overrides (e.g. seeds edited in a keyframes file).
    - ``async_copy``: copy GPU frames to the host on a side stream without waiting (CUDA only).
    - ``skip_similar``: reuse the previous model frame when the conditioning moved less than this
      (:func:`renderer.conditioning.conditioning_change`; 0 = never, the default). The post-processing
      (flash, hue, palette, exposure) still follows every frame.
    """

    def __init__(self, backend: Backend, preset: Preset, size: tuple[int, int] | None = None,
                 seed: int | None = None, bar_seeds: MappingABC[int, int] | None = None,
                 async_copy: bool = True, skip_similar: float = 0.0) -> None:
        self.backend = backend
        self.preset = preset
        self.size = tuple(size) if size is not None else preset.resolution
        if len(self.size) != 2 or any(v < 16 or v % 8 for v in self.size):
            raise InputError("size", f"must be (width, height), multiples of 8 >= 16, got {size!r}")
        self.seed = preset.seed if seed is None else int(seed)
        self.bar_seeds = {int(bar): int(value) for bar, value in (bar_seeds or {}).items()}
        self.async_copy = async_copy
        self.skip_similar = float(skip_similar)
        self.skipped = 0  #: model frames reused by skip_similar
        self._noise_cache: OrderedDict[int, torch.Tensor] = OrderedDict()

    # -- construction --------------------------------------------------------------------

    @classmethod
    def from_preset(cls, name_or_path: str | os.PathLike[str] | Preset, backend: str | Backend | None = None,
                    size: tuple[int, int] | None = None, device: str | None = None, seed: int | None = None,
                    model: str | None = None) -> Renderer:
        """A Renderer for a shipped preset name, a ``.toml`` path or a :class:`Preset`.

        ``backend`` overrides the preset's backend (a name, or an already loaded Backend to
        share its weights); ``model`` overrides its model; ``device`` as for
        :func:`renderer.devices.pick_device`.
        """
        preset = name_or_path if isinstance(name_or_path, Preset) else load_preset(name_or_path)
        if backend is None or isinstance(backend, str):
            backend = build_backend(preset, backend, device=device, model=model)
        return cls(backend, preset, size=size, seed=seed)

    def with_preset(self, preset: str | os.PathLike[str] | Preset) -> Renderer:
        """Another Renderer sharing this one's backend (weights load once) and size, like diffusers'
        ``from_pipe``; seeds come from the new preset."""
        preset = preset if isinstance(preset, Preset) else load_preset(preset)
        return Renderer(self.backend, preset, size=self.size, async_copy=self.async_copy,
                        skip_similar=self.skip_similar)

    def to(self, device: str) -> Renderer:
        """Move the backend's model to ``device`` (returns self)."""
        self.backend.to(device)
        return self

    def with_bar_seeds(self, bar_seeds: MappingABC[int, int]) -> Renderer:
        """The same components with per-bar seed overrides (the backend is shared)."""
        return Renderer(self.backend, self.preset, self.size, self.seed, {**self.bar_seeds, **bar_seeds},
                        self.async_copy, self.skip_similar)

    # -- conditioning --------------------------------------------------------------------

    def seed_for_bar(self, bar: int) -> int:
        """The noise seed of bar ``bar`` (its keyframe); stable across runs and machines."""
        bar = int(bar)
        if bar in self.bar_seeds:
            return self.bar_seeds[bar]
        return derive_seed(self.seed, "bar", bar)

    def anchor_for_section(self, section: str | None) -> int:
        """The noise seed a steady passage of ``section`` (a locator's name) holds: the same for
        every return of that section, so a repeated chorus starts from the same picture."""
        return derive_seed(self.seed, "section", section or "")

    def condition(self, moment: Moment) -> Conditioning:
        """What steers the frame at ``moment``: sources -> mapping -> targets, prompts, walk."""
        preset = self.preset
        sources = summarize(moment, preset.smoothing_beats, preset.pulse_beats)
        targets = preset.mapping(sources)
        section = preset.section_key(moment.section)
        blend = preset.prompts[section].blend(targets["intensity"], targets["brightness"])
        if preset.style:
            blend = tuple((f"{p}, {preset.style}", w) for p, w in blend)
        beat_index = math.floor(moment.beat_in_bar + 1e-9)
        walk = SeedWalk(
            seed_from=self.seed_for_bar(moment.bar),
            seed_to=self.seed_for_bar(moment.bar + 1),
            position=walk_position(moment.bar_phase, targets["walk"]),
            kick_seed=derive_seed(self.seed, "beat", moment.bar, beat_index),
            kick=targets["kick"],
            anchor_seed=self.anchor_for_section(moment.section),
            drift=targets["drift"],
        )
        return Conditioning(section=section, prompts=blend, targets=targets, sources=sources, walk=walk)

    def describe(self, moment: Moment) -> dict[str, Any]:
        """JSON-able description of the frame at ``moment``: conditioning, seed, backend, preset."""
        return {
            "moment": moment.to_dict(),
            "preset": self.preset.name,
            "size": list(self.size),
            "base_seed": self.seed,
            "seed": self.seed_for_bar(moment.bar),
            "conditioning": self.condition(moment).to_dict(),
            "backend": self.backend.describe(),
        }

    # -- noise ---------------------------------------------------------------------------

    def noise(self, seed: int) -> torch.Tensor:
        """Unit Gaussian noise of the backend's latent shape for ``seed`` (CPU, float32)."""
        import torch

        cached = self._noise_cache.get(seed)
        if cached is None:
            width, height = self.size
            generator = torch.Generator("cpu").manual_seed(seed)
            cached = torch.randn(self.backend.latent_shape(width, height), generator=generator,
                                 dtype=torch.float32)
            self._noise_cache[seed] = cached
            while len(self._noise_cache) > 16:
                self._noise_cache.popitem(last=False)
        return cached

    def latents(self, walk: SeedWalk) -> torch.Tensor:
        """The starting noise: slerp between bar seeds, reached from the anchor by ``drift``, then
        toward the beat seed by ``kick``."""
        latents = slerp(self.noise(walk.seed_from), self.noise(walk.seed_to), walk.position)
        if walk.drift < 1.0:
            latents = slerp(self.noise(walk.anchor_seed), latents, walk.drift)
        if walk.kick > 0.0:
            latents = slerp(latents, self.noise(walk.kick_seed), 0.5 * walk.kick)
        return latents

    # -- the call ------------------------------------------------------------------------

    @staticmethod
    def _carries_over(moment: Moment, seconds: float | None, section: str | None) -> bool:
        """Whether feedback from a frame at song time ``seconds`` in ``section`` reaches ``moment``: not
        across a section change, a step back or a gap of more than :data:`MAX_FEEDBACK_GAP_BEATS`."""
        if seconds is None:
            return False
        gap_beats = (moment.seconds - seconds) / moment.beat_seconds
        return 0.0 <= gap_beats <= MAX_FEEDBACK_GAP_BEATS and section == moment.section

    def _feedback(self, moment: Moment, state: RenderState | None) -> np.ndarray | None:
        if state is None or state.model_frame is None or not self._carries_over(moment, state.seconds, state.section):
            return None
        if state.model_frame.shape[:2] != (self.size[1], self.size[0]):
            return None
        return state.model_frame

    def reads_previous(self, moment: Moment, previous: Moment) -> bool:
        """Whether the frame at ``moment`` depends on the one rendered just before it, at ``previous``:
        feedback carries over, and the ``strength`` target is below 1 (img2img from it, or a blend with
        it) or ``skip_similar`` reuses it.

        When False, :meth:`render` makes the same frame and state whatever state it is given, so a chain
        of frames can start afresh there (a chunked export relies on it: keep this in step with
        :meth:`submit`). Pure; computes the conditioning of ``moment`` (and of ``previous`` with
        ``skip_similar``).
        """
        if not self._carries_over(moment, previous.seconds, previous.section):
            return False
        cond = self.condition(moment)
        if float(cond.targets["strength"]) < 1.0:
            return True
        return self.skip_similar > 0.0 and conditioning_change(self.condition(previous), cond) < self.skip_similar

    def render(self, moment: Moment, state: RenderState | None = None) -> RenderResult:
        """The frame at ``moment``; pass the returned ``state`` to the next call for coherence."""
        return self.submit(moment, state).result()

    def submit(self, moment: Moment, state: RenderState | None = None) -> PendingRender:
        """Queue the frame at ``moment`` and return without waiting for a GPU; same frame as :meth:`render`."""
        from renderer.backends.base import BackendRequest

        cond = self.condition(moment)
        targets = cond.targets
        previous = self._feedback(moment, state)
        strength = float(targets["strength"])
        width, height = self.size
        if self._skippable(cond, previous, state):
            raw = state.model_frame
            self.skipped += 1
        else:
            use_img2img = previous is not None and self.backend.supports_img2img and strength < 1.0
            request = BackendRequest(
                conditioning=cond, moment=moment, latents=self.latents(cond.walk),
                init_image=previous if use_img2img else None, strength=strength,
                seed=cond.walk.kick_seed, width=width, height=height,
                warp=self.preset.motion.warp_at(moment.beat_phase, moment.bar_phase, targets["motion"]),
            )
            raw = self.backend(request)
            if not _is_tensor(raw):
                raw = np.asarray(raw, np.float32)
            if tuple(raw.shape) != (height, width, 3):
                raise RuntimeError(f"{type(self.backend).__name__} returned shape {tuple(raw.shape)}, "
                                   f"expected {(height, width, 3)}")
            if previous is not None and not use_img2img:
                raw = post.blend(previous, raw, strength)
        image = post.palette_map(raw, self.preset.palette, targets["palette"])
        frame = post.to_uint8(image, targets["hue"], targets["exposure"], targets["flash"])
        host = HostFrame(frame, self.async_copy)
        return PendingRender(host, RenderState(raw, moment.seconds, moment.section, cond), cond)

    def _skippable(self, cond: Conditioning, previous: Any, state: RenderState | None) -> bool:
        """Whether the last model frame can stand for this one (``skip_similar``)."""
        if self.skip_similar <= 0.0 or previous is None or state is None or state.conditioning is None:
            return False
        return conditioning_change(state.conditioning, cond) < self.skip_similar

    __call__ = render


def build_backend(preset: Preset, name: str | None = None, device: str | None = None,
                  model: str | None = None) -> Backend:
    """Load the backend ``preset`` asks for, configured by its ``[backend]`` table.

    ``name`` (``--backend``, else ``$BARLIGHT_BACKEND``) picks another registered backend instead,
    which then runs on its own defaults; ``model`` (``--model``) replaces the model; ``device`` as
    for :func:`renderer.devices.pick_device`.
    """
    import dataclasses

    from renderer.backends.registry import BACKEND_ENV, backend_class
    from renderer.devices import pick_device

    where = "--backend" if name else BACKEND_ENV
    name = name or os.environ.get(BACKEND_ENV) or preset.backend
    cls = backend_class(name, where)
    overrides = {"model": model} if model else {}
    if overrides and "model" not in {field.name for field in dataclasses.fields(cls.config_class)}:
        raise InputError("--model", f"backend {name!r} takes no model")
    if name == preset.backend:
        config = preset.backend_config
    else:  # not the preset's backend: its own defaults
        config = cls.parse_config(overrides, where)
    return cls.from_config(config, **overrides, device=pick_device(device))


__all__ = ["PendingRender", "Renderer", "RenderResult", "RenderState", "build_backend", "slerp"]
