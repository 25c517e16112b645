"""``BarlightPipeline``: audio context in, frames out, in 1-4 denoising steps.

Components (diffusers style, registered and saved as a directory):

* ``audio_encoder`` — :class:`renderer.embedded.models.AudioEncoder`;
* ``unet`` — a small ``UNet2DConditionModel`` working on a pixel-unshuffled image
  (a ``model_size`` x ``model_size`` RGB image folded ``fold`` x ``fold`` into channels,
  e.g. 64x64x3 -> 16x16x48), predicting the clean sample (``prediction_type="sample"``);
* ``scheduler`` — ``DDIMScheduler`` (zero terminal SNR, "trailing" timesteps), so one
  step from pure noise is meaningful and 2-4 steps refine it.

Frames are upsampled bilinearly to the requested ``height`` x ``width``.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from diffusers import DDIMScheduler, DiffusionPipeline, UNet2DConditionModel
from diffusers.utils import logging as diffusers_logging

from renderer.embedded.models import AudioEncoder

MODEL_INDEX = "model_index.json"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class BarlightPipelineOutput:
    """``images``: (B, H, W, 3) float32 in [0, 1] (``"np"``), uint8 (``"uint8"``) or a (B, 3, H, W) tensor (``"pt"``)."""

    images: Any


class BarlightPipeline(DiffusionPipeline):
    """The embedded default model; see :mod:`renderer.embedded` for usage."""

    def __init__(self, unet: UNet2DConditionModel, audio_encoder: AudioEncoder, scheduler: DDIMScheduler) -> None:
        super().__init__()
        self.register_modules(unet=unet, audio_encoder=audio_encoder, scheduler=scheduler)
        self._traced_unet = None

    def enable_cpu_speedups(self, enabled: bool = True) -> None:
        """Run the UNet through frozen traces (:mod:`renderer.embedded.speed`): the same frames,
        faster on a CPU; for inference only (call again after changing the weights).
        ``enabled=False`` goes back to the plain UNet (e.g. after moving to a GPU)."""
        from renderer.embedded.speed import TracedUNet

        self._traced_unet = TracedUNet(self.unet) if enabled else None

    # ----------------------------------------------------------------- geometry
    @property
    def fold(self) -> int:
        """Pixel-unshuffle factor between the RGB model image and the UNet sample."""
        return int(round((self.unet.config.in_channels / 3) ** 0.5))

    @property
    def model_size(self) -> int:
        """Side in pixels of the square RGB image the model generates before upsampling."""
        return int(self.unet.config.sample_size) * self.fold

    @property
    def context_dim(self) -> int:
        return self.audio_encoder.context_dim

    def noise_shape(self, batch_size: int = 1) -> tuple[int, int, int, int]:
        """Shape of the ``noise`` argument: RGB-space Gaussian noise ``(B, 3, model_size, model_size)``."""
        return (batch_size, 3, self.model_size, self.model_size)

    def fold_image(self, image: torch.Tensor) -> torch.Tensor:
        return F.pixel_unshuffle(image, self.fold)

    def unfold_image(self, sample: torch.Tensor) -> torch.Tensor:
        return F.pixel_shuffle(sample, self.fold)

    # ----------------------------------------------------------------- checks
    def check_inputs(self, context: torch.Tensor, num_inference_steps: int, image: Any, strength: float,
                     noise: torch.Tensor | None, height: int, width: int, output_type: str) -> None:
        if context.ndim != 2 or context.shape[1] != self.context_dim:
            raise ValueError(f"audio_context must have shape (batch, {self.context_dim}) or ({self.context_dim},), "
                             f"got {tuple(context.shape)}")
        if not torch.isfinite(context).all():
            raise ValueError("audio_context must be finite")
        if not 1 <= num_inference_steps <= 50:
            raise ValueError(f"num_inference_steps must be 1..50, got {num_inference_steps}")
        if image is not None and not 0.0 < strength <= 1.0:
            raise ValueError(f"strength must be in (0, 1], got {strength}")
        if image is not None and num_inference_steps * strength < 1.0:
            raise ValueError(f"num_inference_steps * strength must be >= 1, got {num_inference_steps} * {strength}")
        if noise is not None and tuple(noise.shape) != self.noise_shape(context.shape[0]):
            raise ValueError(f"noise must have shape {self.noise_shape(context.shape[0])}, got {tuple(noise.shape)}")
        if height < 1 or width < 1:
            raise ValueError(f"height and width must be >= 1, got {height}x{width}")
        if output_type not in ("np", "uint8", "pt"):
            raise ValueError(f"output_type must be 'np', 'uint8' or 'pt', got {output_type!r}")

    def _image_tensor(self, image: Any, batch: int) -> torch.Tensor:
        """Previous frame(s) -> (B, 3, model_size, model_size) in [-1, 1], float32 on the input's device."""
        if isinstance(image, np.ndarray):
            arr = image.astype(np.float32) / 255.0 if image.dtype == np.uint8 else image.astype(np.float32)
            if arr.ndim == 3:
                arr = arr[None]
            if arr.ndim != 4 or arr.shape[-1] != 3:
                raise ValueError(f"image must be (H, W, 3) or (B, H, W, 3), got {image.shape}")
            tensor = torch.from_numpy(arr).permute(0, 3, 1, 2)
        elif isinstance(image, torch.Tensor):
            tensor = image.float()
            if tensor.ndim == 3:
                tensor = tensor[None]
            if tensor.ndim != 4 or tensor.shape[1] != 3:
                raise ValueError(f"image tensor must be (B, 3, H, W), got {tuple(image.shape)}")
        else:
            raise ValueError(f"image must be a numpy array or a torch tensor, got {type(image).__name__}")
        if tensor.shape[0] == 1 and batch > 1:
            tensor = tensor.expand(batch, -1, -1, -1)
        if tensor.shape[0] != batch:
            raise ValueError(f"image batch {tensor.shape[0]} does not match audio_context batch {batch}")
        size = self.model_size
        if tensor.shape[-2:] != (size, size):
            tensor = F.interpolate(tensor, size=(size, size), mode="area")
        return tensor.clamp(0, 1) * 2 - 1

    # ----------------------------------------------------------------- call
    @torch.no_grad()
    def __call__(self, audio_context: np.ndarray | torch.Tensor, num_inference_steps: int = 2, image: Any = None,
                 strength: float = 0.5, noise: torch.Tensor | None = None,
                 generator: torch.Generator | None = None, height: int = 256, width: int = 256,
                 output_type: str = "np", return_dict: bool = True) -> BarlightPipelineOutput | tuple:
        """Render one frame per row of ``audio_context``.

        ``audio_context``: (D,) or (B, D) from :func:`renderer.embedded.audio_context`.
        ``noise``: optional (B, 3, model_size, model_size) Gaussian noise (e.g. a slerp between
        per-bar seed noises); it sets the composition. Otherwise drawn from ``generator``.
        ``image`` + ``strength``: img2img from the previous frame(s) ((H, W, 3) / (B, H, W, 3)
        float in [0, 1] or uint8, or a (B, 3, H, W) tensor in [0, 1]); ``strength`` 1.0 ignores it.
        """
        context = torch.as_tensor(np.asarray(audio_context, dtype=np.float32)
                                  if not isinstance(audio_context, torch.Tensor) else audio_context).float()
        if context.ndim == 1:
            context = context[None]
        self.check_inputs(context, num_inference_steps, image, strength, noise, height, width, output_type)
        batch = context.shape[0]
        # The UNet's first parameter, not ``self.device`` / ``unet.dtype``: those walk every
        # submodule (hook lookups) on each read, about 1 ms per frame; the whole pipeline moves
        # together (``pipe.to``), so this is the same device and dtype.
        weight = next(self.unet.parameters())
        device, dtype = weight.device, weight.dtype
        context = context.to(device, dtype)

        if noise is None:
            noise = torch.randn(self.noise_shape(batch), generator=generator, dtype=torch.float32,
                                device=generator.device if generator is not None else "cpu")
        noise = self.fold_image(noise.to(device, dtype))

        self.scheduler.set_timesteps(num_inference_steps, device=device)
        timesteps = self.scheduler.timesteps
        if image is not None and strength < 1.0:
            keep = min(int(num_inference_steps * strength), num_inference_steps)
            timesteps = timesteps[num_inference_steps - keep:]
            init = self.fold_image(self._image_tensor(image, batch).to(device, dtype))
            sample = self.scheduler.add_noise(init, noise, timesteps[:1].repeat(batch))
        else:
            sample = noise * self.scheduler.init_noise_sigma

        tokens, pooled = self.audio_encoder(context)
        for t in timesteps:
            model_in = self.scheduler.scale_model_input(sample, t)
            if self._traced_unet is not None and not torch.is_grad_enabled():
                pred = self._traced_unet(model_in, t, tokens, pooled)
            else:
                pred = self.unet(model_in, t, encoder_hidden_states=tokens, class_labels=pooled).sample
            sample = self.scheduler.step(pred, t, sample).prev_sample

        frame = (self.unfold_image(sample).float().clamp(-1, 1) + 1) / 2
        if frame.shape[-2:] != (height, width):
            frame = F.interpolate(frame, size=(height, width), mode="bilinear", align_corners=False).clamp(0, 1)
        if output_type == "pt":
            images: Any = frame
        else:
            arr = frame.permute(0, 2, 3, 1).cpu().numpy()
            images = (arr * 255.0 + 0.5).astype(np.uint8) if output_type == "uint8" else arr
        return BarlightPipelineOutput(images=images) if return_dict else (images,)

    # ----------------------------------------------------------------- save / load
    def save_pretrained(self, save_directory: str | os.PathLike, weights_dtype: str = "float16",
                        **_: Any) -> None:
        """Write ``model_index.json`` + ``unet/``, ``audio_encoder/``, ``scheduler/`` (safetensors, JSON configs).

        Written into a temporary sibling directory, then renamed over ``save_directory``.
        """
        target = Path(save_directory)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
        try:
            dtype = {"float16": torch.float16, "float32": torch.float32}[weights_dtype]
            verbosity = diffusers_logging.get_verbosity()
            diffusers_logging.set_verbosity_error()  # the fp16 cast warning does not apply to a saved copy
            try:
                for name in ("unet", "audio_encoder"):
                    module = copy.deepcopy(getattr(self, name)).to("cpu", dtype)
                    module.save_pretrained(tmp / name, safe_serialization=True)
            finally:
                diffusers_logging.set_verbosity(verbosity)
            self.scheduler.save_pretrained(tmp / "scheduler")
            index = {
                "_class_name": type(self).__name__,
                "_barlight_format": FORMAT_VERSION,
                "unet": ["diffusers", "UNet2DConditionModel"],
                "audio_encoder": ["renderer.embedded.models", "AudioEncoder"],
                "scheduler": ["diffusers", "DDIMScheduler"],
            }
            (tmp / MODEL_INDEX).write_text(json.dumps(index, indent=2) + "\n")
            for path in [tmp, *tmp.rglob("*")]:
                path.chmod(0o755 if path.is_dir() else 0o644)
            if target.exists():
                old = target.with_name(f".{target.name}.old")
                if old.exists():
                    shutil.rmtree(old)
                target.rename(old)
                tmp.rename(target)
                shutil.rmtree(old)
            else:
                tmp.rename(target)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp)

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
        unet = UNet2DConditionModel.from_pretrained(root / "unet", torch_dtype=torch.float32, low_cpu_mem_usage=False)
        encoder = AudioEncoder.from_pretrained(root / "audio_encoder", torch_dtype=torch.float32,
                                               low_cpu_mem_usage=False)
        scheduler = DDIMScheduler.from_pretrained(root / "scheduler")
        pipe = cls(unet=unet.eval(), audio_encoder=encoder.eval(), scheduler=scheduler)
        return pipe
