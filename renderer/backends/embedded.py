"""The ``embedded`` backend (default): the small audio-conditioned model shipped in the package.

The model (``renderer.embedded.BarlightPipeline``) takes the audio context vector directly
(``renderer.embedded.audio_context``: a past log-mel window plus loudness, brightness,
noisiness, onset density, chroma and beat/bar phase). The preset's mapping steers it too:
the context's loudness and brightness scalars are replaced by the ``intensity`` and
``brightness`` targets, so reactivity tables and macros reach the model. No download, ever.

Config (:class:`EmbeddedConfig`, a preset's ``[backend]`` table with ``name = "embedded"``):
``model`` (a ``save_pretrained`` folder; none = the shipped weights), ``steps``, ``threads``
(CPU threads for torch; default one on the CPU, see the CPU policy in ``renderer.devices``),
and for tests and benchmarks only ``random_init`` (``"tiny"`` or ``"default"``: the model
engineer's architectures with seeded random weights, ``seed``).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from bridge.errors import InputError
from bridge.features.reduced import filled as _filled
from renderer.backends.base import Backend, BackendConfig, BackendRequest

#: img2img needs ``steps * strength >= 1``: strength is floored so steps stay at most this.
MAX_IMG2IMG_STEPS = 4
_RANDOM_INITS = ("tiny", "default")


@dataclass(frozen=True, kw_only=True)
class EmbeddedConfig(BackendConfig):
    """The embedded backend's settings (see the module docstring)."""

    model: str | None = None
    steps: int = 2
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
    supports_img2img: ClassVar[bool] = True
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

    def to(self, device: str) -> EmbeddedBackend:
        self.pipe.to(device)
        self.pipe.enable_cpu_speedups(device.startswith("cpu"))  # traces are made for the CPU path only
        self.config = dataclasses.replace(self.config, device=device)
        return self

    def latent_shape(self, width: int, height: int) -> tuple[int, ...]:
        return tuple(self.pipe.noise_shape(1)[1:])

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

    def __call__(self, request: BackendRequest) -> np.ndarray:
        import torch

        ctx = self.context(request)
        noise = request.latents[None]
        kwargs: dict[str, Any] = {}
        steps = self.steps
        if request.init_image is not None:
            strength = min(max(request.strength, 1.0 / MAX_IMG2IMG_STEPS), 1.0)
            steps = max(steps, min(math.ceil(1.0 / strength - 1e-9), MAX_IMG2IMG_STEPS))
            kwargs = {"image": np.clip(request.init_image, 0.0, 1.0), "strength": strength}
        with torch.inference_mode():
            frame = self.pipe(ctx, num_inference_steps=steps, noise=noise, height=request.height,
                              width=request.width, output_type="pt", **kwargs).images
            if request.warp is not None:
                frame = request.warp.apply(frame)  # the preset's [motion]: zoom, twist, fold on the beat or bar
        return frame[0].permute(1, 2, 0).float().cpu().numpy()
