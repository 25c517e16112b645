"""``BarlightPipeline``: audio context + prompt in, frames out: phases and colours, then pixels.

Components (diffusers style, registered and saved as a directory):

* ``audio_encoder`` — :class:`renderer.embedded.models.AudioEncoder`: the audio context ->
  cross-attention tokens + a pooled vector;
* ``prompt_encoder`` — :class:`renderer.embedded.models.PromptEncoder`: the prompt's meaning row
  (:func:`renderer.embedded.vocabulary.prompt_meaning`) -> one more token + a pooled vector;
* ``mixer`` — :class:`renderer.embedded.models.PhaseMixer`: audio scalars + meaning -> each look's
  phase coefficients over the layout bank (:mod:`renderer.embedded.looks.layout`);
* ``colour_table`` — :class:`renderer.embedded.models.ColourTable`: audio scalars + meaning -> the
  frame's colour table;
* ``unet`` — a small ``UNet2DConditionModel`` denoising the **shading fields** (base and line tone
  and level on the layout grid, folded 4 x 4 into channels), with the layout bank as a fixed extra
  input, predicting the clean sample (``prediction_type="sample"``);
* ``scheduler`` — ``DDIMScheduler`` (zero terminal SNR, "trailing" timesteps): one step from pure
  noise is the intended use, 2-4 refine;
* ``decoder`` — :class:`renderer.embedded.decoder.PhaseDecoder`: phases + shading + table -> pixels
  at the requested size, through each look's tile and line profile.

The noise ``(B, 6, h, w)`` on the layout grid (:func:`renderer.embedded.looks.grid_shape`) is the
composition noise (the layout bank is made from it) and, in its first four channels, the diffusion
noise: the caller's noise (a slerp walk between per-bar seeds) sets where things are and moves
them smoothly.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from diffusers import DDIMScheduler, DiffusionPipeline, UNet2DConditionModel
from diffusers.utils import logging as diffusers_logging

from bridge.errors import InputError
from bridge.files import replaced_folder
from renderer.embedded.correspondence import phase_by_groove
from renderer.embedded.decoder import PhaseDecoder
from renderer.embedded.looks import SHADING_CHANNELS
from renderer.embedded.looks.layout import NOISE_CHANNELS, grid_shape, layout_bank, mix
from renderer.embedded.models import AudioEncoder, ColourTable, PhaseMixer, PromptEncoder

MODEL_INDEX = "model_index.json"
FORMAT_VERSION = 2
FOLD = 4  # the UNet sees the layout grid folded 4 x 4 into channels
COMPONENTS: dict[str, tuple[str, str]] = {  # name -> (library, class), as model_index.json lists them
    "unet": ("diffusers", "UNet2DConditionModel"),
    "audio_encoder": ("renderer.embedded.models", "AudioEncoder"),
    "prompt_encoder": ("renderer.embedded.models", "PromptEncoder"),
    "mixer": ("renderer.embedded.models", "PhaseMixer"),
    "colour_table": ("renderer.embedded.models", "ColourTable"),
    "decoder": ("renderer.embedded.decoder", "PhaseDecoder"),
}
_CLASSES = {"UNet2DConditionModel": UNet2DConditionModel, "AudioEncoder": AudioEncoder,
            "PromptEncoder": PromptEncoder, "PhaseMixer": PhaseMixer, "ColourTable": ColourTable,
            "PhaseDecoder": PhaseDecoder}


@dataclass(frozen=True)
class BarlightPipelineOutput:
    """``images``: (B, H, W, 3) float32 in [0, 1] (``"np"``), uint8 (``"uint8"``) or a (B, 3, H, W) tensor (``"pt"``)."""

    images: Any


@dataclass(frozen=True)
class Fields:
    """What the model predicts for a batch, before pixels: every look's ``phases`` (B, L, 3, h, w) in
    cycles, the ``shading`` (B, 4, h, w), the colour ``table`` (B, T, 3) and the ``look_weights`` (B, L)."""

    phases: torch.Tensor
    shading: torch.Tensor
    table: torch.Tensor
    look_weights: torch.Tensor

    def warped(self, warp: Callable[[torch.Tensor], torch.Tensor]) -> Fields:
        """The fields with ``warp`` (e.g. :meth:`renderer.motion.Warp.apply`) applied to their grids:
        motion moves the pattern before it is drawn, so edges stay as sharp as in a still frame."""
        b, n_looks, _, h, w = self.phases.shape
        phases = warp(self.phases.reshape(b, n_looks * 3, h, w)).reshape(self.phases.shape)
        return Fields(phases, warp(self.shading), self.table, self.look_weights)


class BarlightPipeline(DiffusionPipeline):
    """The embedded default model; see :mod:`renderer.embedded` for usage."""

    def __init__(self, unet: UNet2DConditionModel, audio_encoder: AudioEncoder, prompt_encoder: PromptEncoder,
                 mixer: PhaseMixer, colour_table: ColourTable, decoder: PhaseDecoder,
                 scheduler: DDIMScheduler) -> None:
        super().__init__()
        self.register_modules(unet=unet, audio_encoder=audio_encoder, prompt_encoder=prompt_encoder, mixer=mixer,
                              colour_table=colour_table, decoder=decoder, scheduler=scheduler)
        self._traced_unet = None

    def enable_cpu_speedups(self, enabled: bool = True) -> None:
        """Run the UNet through frozen traces (:mod:`renderer.embedded.speed`): the same frames,
        faster on a CPU; for inference only (call again after changing the weights).
        ``enabled=False`` goes back to the plain UNet (e.g. after moving to a GPU)."""
        from renderer.embedded.speed import TracedUNet

        self._traced_unet = TracedUNet(self.unet) if enabled else None

    # ----------------------------------------------------------------- geometry
    @property
    def look_names(self) -> tuple[str, ...]:
        return self.decoder.look_names

    @property
    def looks(self) -> tuple:
        """The :class:`renderer.embedded.looks.Look` this model draws, in its order (built-in ones, then
        looks made from a user's images)."""
        return self.decoder.looks()

    @property
    def vocabulary(self):
        """The words this model understands: the shipped vocabulary plus the words of its own looks."""
        from renderer.embedded.vocabulary import default_vocabulary

        return default_vocabulary(self.decoder.own_look_names)

    def prompt_row(self, blend) -> np.ndarray:
        """``[(prompt, weight), ...]`` (what the Renderer hands a backend) -> this model's prompt row."""
        from renderer.embedded.vocabulary import encode_prompts, meaning

        vocabulary = self.vocabulary
        return meaning(encode_prompts(blend, vocabulary), vocabulary, self.looks)

    @property
    def context_dim(self) -> int:
        return self.audio_encoder.context_dim

    @property
    def meaning_dim(self) -> int:
        return int(self.prompt_encoder.config.meaning_dim)

    def noise_shape(self, batch_size: int = 1, height: int = 256, width: int = 256) -> tuple[int, int, int, int]:
        """Shape of the ``noise`` argument for frames of ``height`` x ``width``: ``(B, 6, h, w)`` on the layout grid."""
        return (batch_size, NOISE_CHANNELS, *grid_shape(height, width))

    def default_meaning(self, batch: int = 1) -> torch.Tensor:
        """The prompt row of an empty prompt (the default look, its palette, medium scale, normal motion)."""
        return torch.from_numpy(self.prompt_row([("", 1.0)])).expand(batch, -1).clone()

    # ----------------------------------------------------------------- checks
    def check_inputs(self, context: torch.Tensor, meaning: torch.Tensor, num_inference_steps: int,
                     noise: torch.Tensor | None, height: int, width: int, output_type: str) -> None:
        if context.ndim != 2 or context.shape[1] != self.context_dim:
            raise ValueError(f"audio_context must have shape (batch, {self.context_dim}) or ({self.context_dim},), "
                             f"got {tuple(context.shape)}")
        if not torch.isfinite(context).all():
            raise ValueError("audio_context must be finite")
        if meaning.ndim != 2 or meaning.shape != (context.shape[0], self.meaning_dim):
            raise ValueError(f"prompt must have shape ({self.meaning_dim},) or (batch, {self.meaning_dim}), "
                             f"got {tuple(meaning.shape)}")
        if not 1 <= num_inference_steps <= 50:
            raise ValueError(f"num_inference_steps must be 1..50, got {num_inference_steps}")
        if height < 1 or width < 1:
            raise ValueError(f"height and width must be >= 1, got {height}x{width}")
        if noise is not None and tuple(noise.shape) != self.noise_shape(context.shape[0], height, width):
            raise ValueError(f"noise must have shape {self.noise_shape(context.shape[0], height, width)}, "
                             f"got {tuple(noise.shape)}")
        if output_type not in ("np", "uint8", "pt"):
            raise ValueError(f"output_type must be 'np', 'uint8' or 'pt', got {output_type!r}")

    # ----------------------------------------------------------------- the model
    def unet_input(self, sample: torch.Tensor, bank: torch.Tensor) -> torch.Tensor:
        """The UNet's input: the noisy shading sample and the layout bank, folded 4 x 4 into channels."""
        return F.pixel_unshuffle(torch.cat([sample, bank], 1), FOLD)

    def conditioning(self, context: torch.Tensor, meaning: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(tokens (B, n + 1, D), pooled (B, D))`` from the audio context and the prompt row."""
        tokens, pooled = self.audio_encoder(context)
        prompt_token, prompt_pooled = self.prompt_encoder(meaning)
        return torch.cat([tokens, prompt_token], 1), pooled + prompt_pooled

    def denoise(self, model_in: torch.Tensor, t: torch.Tensor, tokens: torch.Tensor,
                pooled: torch.Tensor) -> torch.Tensor:
        """The UNet's clean-sample prediction, unfolded back to the layout grid."""
        if self._traced_unet is not None and not torch.is_grad_enabled():
            pred = self._traced_unet(model_in, t, tokens, pooled)
        else:
            pred = self.unet(model_in, t, encoder_hidden_states=tokens, class_labels=pooled).sample
        return F.pixel_shuffle(pred, FOLD)

    def fields(self, context: torch.Tensor, meaning: torch.Tensor, noise: torch.Tensor,
               num_inference_steps: int = 1) -> Fields:
        """Phases, shading and colour table for a batch (differentiable: training calls it too).

        The beat's phase reaches the model in proportion to the groove
        (:func:`renderer.embedded.correspondence.phase_by_groove`): a still passage stays still."""
        context = phase_by_groove(context, meaning[:, -1])
        bank = layout_bank(noise)
        scalars = context[:, -self.mixer.config.n_scalars:]
        phases = mix(self.mixer(scalars, meaning), bank)
        table = self.colour_table(scalars, meaning)
        tokens, pooled = self.conditioning(context, meaning)
        self.scheduler.set_timesteps(num_inference_steps, device=noise.device)
        sample = noise[:, :SHADING_CHANNELS] * self.scheduler.init_noise_sigma
        for t in self.scheduler.timesteps:
            model_in = self.unet_input(self.scheduler.scale_model_input(sample, t), bank)
            pred = self.denoise(model_in, t, tokens, pooled)
            sample = self.scheduler.step(pred, t, sample).prev_sample
        return Fields(phases, sample, table, meaning[:, :len(self.look_names)])

    # ----------------------------------------------------------------- call
    @torch.no_grad()
    def __call__(self, audio_context: np.ndarray | torch.Tensor, prompt: np.ndarray | torch.Tensor | None = None,
                 num_inference_steps: int = 1, noise: torch.Tensor | None = None,
                 generator: torch.Generator | None = None, height: int = 256, width: int = 256,
                 output_type: str = "np", return_dict: bool = True,
                 warp: Callable[[torch.Tensor], torch.Tensor] | None = None) -> BarlightPipelineOutput | tuple:
        """Render one frame per row of ``audio_context``.

        ``audio_context``: (D,) or (B, D) from :func:`renderer.embedded.audio_context`.
        ``prompt``: (M,) or (B, M) meaning rows from :meth:`prompt_row`
        (None: the empty prompt). ``noise``: optional :meth:`noise_shape` Gaussian noise (e.g. a slerp
        between per-bar seed noises); it sets the composition. Otherwise drawn from ``generator``.
        ``warp``: motion applied to the predicted fields before drawing (see :meth:`Fields.warped`).
        """
        context = torch.as_tensor(np.asarray(audio_context, dtype=np.float32)
                                  if not isinstance(audio_context, torch.Tensor) else audio_context).float()
        if context.ndim == 1:
            context = context[None]
        batch = context.shape[0]
        if prompt is None:
            meaning = self.default_meaning(batch)
        else:
            meaning = torch.as_tensor(np.asarray(prompt, dtype=np.float32)
                                      if not isinstance(prompt, torch.Tensor) else prompt).float()
            if meaning.ndim == 1:
                meaning = meaning[None].expand(batch, -1)
        self.check_inputs(context, meaning, num_inference_steps, noise, height, width, output_type)
        # The UNet's first parameter, not ``self.device``: that walks every submodule on each read.
        weight = next(self.unet.parameters())
        device, dtype = weight.device, weight.dtype
        context, meaning = context.to(device, dtype), meaning.to(device, dtype)
        if noise is None:
            noise = torch.randn(self.noise_shape(batch, height, width), generator=generator, dtype=torch.float32,
                                device=generator.device if generator is not None else "cpu")
        fields = self.fields(context, meaning, noise.to(device, dtype), num_inference_steps)
        if warp is not None:
            fields = fields.warped(warp)
        frame = self.decoder(fields.phases, fields.look_weights, fields.shading, fields.table, height, width)
        if output_type == "pt":
            images: Any = frame
        else:
            arr = frame.permute(0, 2, 3, 1).float().cpu().numpy()
            images = (arr * 255.0 + 0.5).astype(np.uint8) if output_type == "uint8" else arr
        return BarlightPipelineOutput(images=images) if return_dict else (images,)

    # ----------------------------------------------------------------- save / load
    def save_pretrained(self, save_directory: str | os.PathLike, weights_dtype: str = "float16",
                        **_: Any) -> None:
        """Write ``model_index.json`` + ``unet/``, ``audio_encoder/``, ``scheduler/`` (safetensors, JSON configs).

        Written into a temporary sibling directory, then renamed over ``save_directory``.
        """
        with replaced_folder(save_directory) as tmp:
            dtype = {"float16": torch.float16, "float32": torch.float32}[weights_dtype]
            verbosity = diffusers_logging.get_verbosity()
            diffusers_logging.set_verbosity_error()  # the fp16 cast warning does not apply to a saved copy
            try:
                for name in COMPONENTS:
                    module = copy.deepcopy(getattr(self, name)).to("cpu", dtype)
                    module.save_pretrained(tmp / name, safe_serialization=True)
            finally:
                diffusers_logging.set_verbosity(verbosity)
            self.scheduler.save_pretrained(tmp / "scheduler")
            index = {
                "_class_name": type(self).__name__,
                "_barlight_format": FORMAT_VERSION,
                **{name: list(source) for name, source in COMPONENTS.items()},
                "scheduler": ["diffusers", "DDIMScheduler"],
            }
            (tmp / MODEL_INDEX).write_text(json.dumps(index, indent=2) + "\n")
            for path in [tmp, *tmp.rglob("*")]:
                path.chmod(0o755 if path.is_dir() else 0o644)

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path: str | os.PathLike, **_: Any) -> "BarlightPipeline":
        """Load a directory written by :meth:`save_pretrained` (weights come back as float32, on CPU)."""
        root = Path(pretrained_model_name_or_path)
        index_path = root / MODEL_INDEX
        if not index_path.is_file():
            raise FileNotFoundError(f"{index_path}: no model_index.json (not a Barlight model directory)")
        index = json.loads(index_path.read_text())
        if index.get("_class_name") != cls.__name__:
            raise ValueError(f"{index_path}: _class_name is {index.get('_class_name')!r}, expected {cls.__name__!r}")
        if index.get("_barlight_format") != FORMAT_VERSION:  # an InputError: the CLI says it in one line
            raise InputError(index_path, f"model format {index.get('_barlight_format')!r}, this Barlight reads "
                                         f"format {FORMAT_VERSION} (retrain with `barlight train`)")
        parts = {name: _CLASSES[cls_name].from_pretrained(root / name, torch_dtype=torch.float32,
                                                          low_cpu_mem_usage=False).eval()
                 for name, (_, cls_name) in COMPONENTS.items()}
        return cls(**parts, scheduler=DDIMScheduler.from_pretrained(root / "scheduler"))
