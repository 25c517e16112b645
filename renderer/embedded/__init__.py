"""The embedded default model: audio features + a prompt -> frames, small enough for a CPU.

Usage (the renderer's embedded backend does exactly this)::

    from renderer.embedded import audio_context, load_default_pipeline
    from renderer.embedded.vocabulary import prompt_meaning

    pipe = load_default_pipeline()            # shipped weights (renderer/embedded/weights/)
    ctx = audio_context(track, seconds, beat_phase, bar_phase)   # (CONTEXT_DIM,) float32
    prompt = prompt_meaning([("ink, fine", 0.7), ("cells", 0.3)])  # a section's prompt blend
    frame = pipe(ctx, prompt, height=512, width=512).images[0]   # (512, 512, 3) in [0, 1]

    # coherence: caller-supplied composition noise (e.g. slerp between per-bar seeds)
    noise = torch.randn(pipe.noise_shape(1, 512, 512), generator=torch.Generator().manual_seed(bar_seed))
    frame = pipe(ctx, prompt, noise=noise, height=512, width=512).images[0]

* ``audio_context(track, seconds, beat_phase, bar_phase)`` takes a
  :class:`bridge.features.FeatureTrack`; scalars give ``(CONTEXT_DIM,)``, 1-D arrays of
  moments give ``(n, CONTEXT_DIM)``. Training uses the same function.
* ``BarlightPipeline.__call__(audio_context (D,) or (B, D), prompt=None (M,) or (B, M),
  num_inference_steps=1, noise=None (pipe.noise_shape(B, height, width)), generator=None,
  height=256, width=256, output_type="np"|"uint8"|"pt")`` -> ``BarlightPipelineOutput(images)``:
  (B, H, W, 3) float32 in [0, 1] for "np". The model predicts phase and colour fields on a
  64-cell grid; its decoder draws the looks' fine structure at the output's own resolution
  (:mod:`renderer.embedded.decoder`).
* ``save_pretrained(dir)`` / ``BarlightPipeline.from_pretrained(dir)``: a directory with
  ``model_index.json`` and one folder per component (safetensors + JSON).
* ``tiny_pipeline(seed)``: a randomly initialised tiny model with the same interface, for tests.
* ``pipe.to("cuda")`` moves it; CPU/float32 by default.
* Training: ``barlight train`` (:mod:`renderer.embedded.training`, data in
  :mod:`renderer.embedded.data`, targets in :mod:`renderer.embedded.looks`, held-out metrics in
  :mod:`renderer.embedded.evaluation`); the words in :mod:`renderer.embedded.vocabulary`; see
  docs/model-card.md and docs/looks.md.

Importing this package is light: torch and diffusers load on first use of the pipeline names.
"""

from __future__ import annotations

from typing import Any

from renderer.embedded.context import CONTEXT_DIM, SCALAR_NAMES, audio_context

__all__ = [
    "CONTEXT_DIM",
    "SCALAR_NAMES",
    "audio_context",
    "AudioEncoder",
    "BarlightPipeline",
    "BarlightPipelineOutput",
    "build_pipeline",
    "tiny_pipeline",
    "load_default_pipeline",
    "WEIGHTS_DIR",
    "DEFAULT_CONFIG",
    "TINY_CONFIG",
]

_LAZY = {
    "AudioEncoder": "renderer.embedded.models",
    "BarlightPipeline": "renderer.embedded.pipeline",
    "BarlightPipelineOutput": "renderer.embedded.pipeline",
    "build_pipeline": "renderer.embedded.config",
    "tiny_pipeline": "renderer.embedded.config",
    "load_default_pipeline": "renderer.embedded.config",
    "WEIGHTS_DIR": "renderer.embedded.config",
    "DEFAULT_CONFIG": "renderer.embedded.config",
    "TINY_CONFIG": "renderer.embedded.config",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'renderer.embedded' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
