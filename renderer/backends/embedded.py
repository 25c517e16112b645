"""The ``embedded`` backend (default): the small audio-conditioned model shipped in the package.

The model (``renderer.embedded.BarlightPipeline``) takes the audio context vector directly
(``renderer.embedded.audio_context``: a past log-mel window plus loudness, brightness,
noisiness, onset density, chroma and beat/bar phase). The preset's mapping steers it too:
the context's loudness and brightness scalars are replaced by the ``intensity`` and
``brightness`` targets, so reactivity tables and macros reach the model. No download, ever.

The preset's prompts reach it through the model's vocabulary (:mod:`renderer.embedded.vocabulary`):
look, palette, texture and motion words; a section's calm/intense blend is a blend of their
meanings, so a locator changes the look. Words it does not know are reported once per prompt (an
:class:`bridge.errors.InputWarning`, one line from the CLI, naming the vocabulary) and otherwise
ignored; the diffusers backend reads the same prompts as text.

Config (:class:`EmbeddedConfig`, a preset's ``[backend]`` table with ``name = "embedded"``):
``model`` (a ``save_pretrained`` folder; none = the shipped weights), ``steps``, ``threads``
(CPU threads for torch; default one on the CPU, see the CPU policy in ``renderer.devices``),
and for tests and benchmarks only ``random_init`` (``"tiny"`` or ``"default"``: the model
engineer's architectures with seeded random weights, ``seed``).
"""

from __future__ import annotations

import dataclasses
import functools
import math
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from bridge.errors import InputError, InputWarning
from bridge.features.reduced import filled as _filled
from renderer.backends.base import Backend, BackendConfig, BackendRequest

_RANDOM_INITS = ("tiny", "default")


@dataclass(frozen=True, kw_only=True)
class EmbeddedConfig(BackendConfig):
    """The embedded backend's settings (see the module docstring)."""

    model: str | None = None
    steps: int = 1
    random_init: str | None = None
    seed: int = 0
    threads: int | None = None

    def check(self) -> None:
        if not 1 <= self.steps <= 8:
            raise InputError("steps", f"the embedded model runs 1..8 steps, got {self.steps!r}")
        if self.random_init is not None and self.random_init not in _RANDOM_INITS:
            raise InputError("random_init", f"must be one of {', '.join(_RANDOM_INITS)}, got {self.random_init!r}")
        if self.threads is not None and self.threads < 1:
            raise InputError("threads", f"must be >= 1, got {self.threads!r}")


class EmbeddedBackend(Backend):
    """The shipped model behind the Backend interface (see module docstring for the config)."""

    name: ClassVar[str] = "embedded"
    config_class: ClassVar[type[BackendConfig]] = EmbeddedConfig
    config: EmbeddedConfig

    def __init__(self, **settings: Any) -> None:
        super().__init__(**settings)
        from renderer.devices import SMALL_MODEL_THREADS, apply_cpu_policy
        from renderer.embedded import build_pipeline, load_default_pipeline
        from renderer.embedded.config import DEFAULT_CONFIG, TINY_CONFIG

        config = self.config
        if config.random_init is not None:
            pipe = build_pipeline(TINY_CONFIG if config.random_init == "tiny" else DEFAULT_CONFIG, seed=config.seed)
        else:
            pipe = load_default_pipeline(config.model)
        pipe.set_progress_bar_config(disable=True)
        cpu = config.device.startswith("cpu")
        apply_cpu_policy(config.threads, SMALL_MODEL_THREADS if cpu else None, "threads")
        self.pipe = pipe.to(config.device)
        if cpu:
            self.pipe.enable_cpu_speedups()
        self.steps = config.steps
        self._prompt_rows: dict[tuple[tuple[str, float], ...], np.ndarray] = {}
        self._noticed: set[str] = set()

    def to(self, device: str) -> EmbeddedBackend:
        self.pipe.to(device)
        self.pipe.enable_cpu_speedups(device.startswith("cpu"))  # traces are made for the CPU path only
        self.config = dataclasses.replace(self.config, device=device)
        return self

    def latent_shape(self, width: int, height: int) -> tuple[int, ...]:
        return tuple(self.pipe.noise_shape(1, height, width)[1:])

    def prompt_row(self, blend: Iterable[tuple[str, float]]) -> np.ndarray:
        """The model's prompt row for a weighted prompt blend (cached; unknown words noticed once per prompt)."""
        from renderer.embedded.vocabulary import unknown_words

        key = tuple((text, round(float(weight), 4)) for text, weight in blend)
        row = self._prompt_rows.get(key)
        if row is None:
            vocabulary = self.pipe.vocabulary
            for text, _ in key:
                unknown = unknown_words([text], vocabulary) if text not in self._noticed else []
                self._noticed.add(text)
                if unknown:
                    warnings.warn(InputWarning(f"prompt {text!r}", "the embedded model's vocabulary has no "
                                               f"{', '.join(repr(w) for w in unknown)} (ignored; its words: "
                                               "barlight looks)"), stacklevel=2)
            row = self.pipe.prompt_row(list(key))
            if len(self._prompt_rows) > 256:
                self._prompt_rows.clear()
            self._prompt_rows[key] = row
        return row

    def context(self, request: BackendRequest) -> np.ndarray:
        """The model's audio context for the request, with loudness/brightness from the mapping."""
        from renderer.embedded.context import CONTEXT_DIM, SCALAR, audio_context

        moment = request.moment
        if moment.has_audio:
            ctx = audio_context(_filled(moment.features), moment.seconds, moment.beat_phase, moment.bar_phase)
        else:
            ctx = np.zeros(CONTEXT_DIM, np.float32)
            for name, turns in (("beat", moment.beat_phase), ("bar", moment.bar_phase)):
                ctx[SCALAR[f"{name}_sin"]] = math.sin(2 * math.pi * turns)
                ctx[SCALAR[f"{name}_cos"]] = math.cos(2 * math.pi * turns)
        ctx = np.array(ctx, np.float32)
        targets = request.conditioning.targets
        ctx[SCALAR["loudness"]] = targets["intensity"]
        ctx[SCALAR["brightness"]] = targets["brightness"]
        return ctx

    def __call__(self, request: BackendRequest) -> Any:
        """The frame as an HxWx3 float tensor on the model's device: a view of the decoder's planar
        (3, H, W) output, which the Renderer's colour transform reads as it is."""
        import torch

        # the preset's [motion] (zoom, twist, fold on the beat or bar) moves the model's fields, not its pixels
        motion = None if request.warp is None else functools.partial(request.warp.apply,
                                                                      aspect=request.width / request.height)
        with torch.inference_mode():
            frame = self.pipe(self.context(request), self.prompt_row(request.conditioning.prompts),
                              num_inference_steps=self.steps, noise=request.latents[None], height=request.height,
                              width=request.width, output_type="pt", warp=motion).images
        return frame[0].permute(1, 2, 0)
