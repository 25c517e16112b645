"""The ``diffusers`` backend: any SD 1.x / 2.x / SDXL-family model in diffusers format.

Loads with ``AutoPipelineForText2Image.from_pretrained`` from a local folder or a Hub id
(SD-Turbo, SDXL-Turbo, LCM, Hyper-SD, ...), shares the weights with an img2img pipeline via
``AutoPipelineForImage2Image.from_pipe`` for the feedback path, optionally swaps the VAE for
an ``AutoencoderTiny`` (TAESD). fp16 on CUDA/MPS, float32 on CPU.

Local files are tried first (``local_files_only=True``); the Hub is asked only when that fails
and ``HF_HUB_OFFLINE`` is not set. A model that is in neither place is one line:
``InputError(model, "not found locally and ...")``.

Conditioning: the section's prompts are encoded once each and blended by the conditioning
weights (prompt embeddings, not text); the walked noise is the text-to-image latents; the
img2img feedback uses the bar's seed, so it is deterministic.
"""

from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from bridge.errors import InputError
from renderer.backends.base import Backend, BackendConfig, BackendRequest

#: img2img needs ``steps * strength >= 1``; strength is floored so steps stay at most this.
MAX_IMG2IMG_STEPS = 8
_DTYPES = {"auto": None, "float16": True, "float32": False}


def _one_line(err: BaseException) -> str:
    text = " ".join(str(err).split())
    return text[:200] + ("..." if len(text) > 200 else "")


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def _quiet_transformers() -> None:
    """Keep transformers' import-time notices (e.g. about torchvision) off the user's terminal."""
    try:
        from transformers.utils import logging as transformers_logging
    except ImportError:
        return
    transformers_logging.set_verbosity_error()
    transformers_logging.disable_progress_bar()


def looks_like_path(model: str) -> bool:
    """A folder, not a Hub id (``org/name``): starts with / . ~ or a drive, or exists."""
    return model.startswith(("/", ".", "~", "\\")) or (len(model) > 1 and model[1] == ":") or os.path.exists(model)


def hub_reachable(timeout_seconds: float = 3.0) -> bool:
    """Whether huggingface.co answers on port 443 (checked once, fast, before any download)."""
    import socket

    host = os.environ.get("HF_ENDPOINT", "https://huggingface.co").split("://")[-1].split("/")[0]
    try:
        with socket.create_connection((host, 443), timeout=timeout_seconds):
            return True
    except OSError:
        return False


def load_pretrained(loader: Any, model: str, what: str, **kwargs: Any) -> Any:
    """``loader.from_pretrained(model)``: local files first, then the Hub unless offline; one-line errors."""
    import warnings

    from diffusers.utils import logging as diffusers_logging

    verbosity = diffusers_logging.get_verbosity()
    diffusers_logging.set_verbosity_error()
    diffusers_logging.disable_progress_bar()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return _load(loader, model, what, **kwargs)
    finally:
        diffusers_logging.enable_progress_bar()
        diffusers_logging.set_verbosity(verbosity)


def _load(loader: Any, model: str, what: str, **kwargs: Any) -> Any:
    if looks_like_path(model):
        path = os.path.expanduser(model)
        if not os.path.isdir(path):
            raise InputError(model, f"no such {what} folder")
        try:
            return loader.from_pretrained(path, local_files_only=True, **kwargs)
        except (OSError, ValueError) as err:
            raise InputError(model, f"not a diffusers {what} folder ({_one_line(err)})") from None
    try:
        return loader.from_pretrained(model, local_files_only=True, **kwargs)
    except (OSError, ValueError):
        pass  # not in the local cache
    if _offline():
        raise InputError(model, f"{what} not found locally and HF_HUB_OFFLINE is set; download it once "
                                f"(huggingface-cli download {model}) or give a local folder")
    if not hub_reachable():
        raise InputError(model, f"{what} not found locally and the Hugging Face Hub is unreachable; "
                                f"download it on a connected machine or give a local folder")
    try:
        return loader.from_pretrained(model, **kwargs)
    except Exception as err:  # network and repository errors come in many classes
        raise InputError(model, f"{what} could not be loaded from the Hub ({_one_line(err)})") from None


def scheduler_from_name(name: str, config: Any) -> Any:
    """``diffusers.<name>.from_config(config)`` for a scheduler class name (nothing else is looked up)."""
    import diffusers

    cls = getattr(diffusers, name, None) if name.endswith("Scheduler") and name.isidentifier() else None
    if cls is None or not hasattr(cls, "from_config"):
        raise InputError("scheduler", f"{name!r} is not a diffusers scheduler class (e.g. LCMScheduler)")
    return cls.from_config(config)


def fuse_lora(pipe: Any, lora: str) -> None:
    """Load a LoRA (folder or Hub id, local files first) into ``pipe`` and fuse it; one-line errors."""
    try:
        import peft  # noqa: F401
    except ImportError:
        raise InputError(lora, "loading a LoRA needs the peft package (pip install peft)") from None
    local = looks_like_path(lora)
    if local and not os.path.isdir(os.path.expanduser(lora)) and not os.path.isfile(os.path.expanduser(lora)):
        raise InputError(lora, "no such LoRA file or folder")
    try:
        pipe.load_lora_weights(os.path.expanduser(lora) if local else lora, local_files_only=local or _offline())
    except Exception as err:  # missing files and network errors come in many classes
        raise InputError(lora, f"LoRA could not be loaded ({_one_line(err)})") from None
    pipe.fuse_lora()


@dataclass(frozen=True, kw_only=True)
class DiffusersConfig(BackendConfig):
    """The diffusers backend's settings, a preset's ``[backend]`` table with ``name = "diffusers"``:
    ``model`` (folder or Hub id; required), ``vae`` (AutoencoderTiny folder/id), ``steps``,
    ``guidance_scale``, ``negative_prompt``, ``dtype`` ("auto", "float16", "float32"),
    ``scheduler`` (a diffusers scheduler class name such as "LCMScheduler" or "TCDScheduler", built
    ``from_config`` of the model's; none keeps it) and ``lora`` (folder or Hub id of a LoRA fused
    into the model, e.g. LCM-LoRA or Hyper-SD; needs peft)."""

    model: str
    vae: str | None = None
    steps: int = 1
    guidance_scale: float = 0.0
    negative_prompt: str = ""
    dtype: str = "auto"
    scheduler: str | None = None
    lora: str | None = None

    def check(self) -> None:
        if not self.model:
            raise InputError("model", "must be a folder path or a Hub id")
        if not 1 <= self.steps <= 50:
            raise InputError("steps", f"must be 1..50, got {self.steps!r}")
        if not 0.0 <= self.guidance_scale <= 30.0:
            raise InputError("guidance_scale", f"must be 0..30, got {self.guidance_scale!r}")
        if self.dtype not in _DTYPES:
            raise InputError("dtype", f"must be auto, float16 or float32, got {self.dtype!r}")
        if self.scheduler is not None and not self.scheduler.endswith("Scheduler"):
            raise InputError("scheduler", f"must be a diffusers scheduler class name like \"LCMScheduler\", "
                                          f"got {self.scheduler!r}")


class DiffusersBackend(Backend):
    """Any SD 1.x/2.x/SDXL-family diffusers model; settings in :class:`DiffusersConfig`."""

    name: ClassVar[str] = "diffusers"
    config_class: ClassVar[type[BackendConfig]] = DiffusersConfig
    supports_img2img: ClassVar[bool] = True
    config: DiffusersConfig

    def __init__(self, **settings: Any) -> None:
        super().__init__(**settings)
        import torch

        _quiet_transformers()
        from diffusers import AutoencoderTiny, AutoPipelineForText2Image

        from renderer.devices import dtype_for

        config = self.config
        self.steps = config.steps
        self.guidance_scale = config.guidance_scale
        self.negative_prompt = config.negative_prompt
        self.dtype = dtype_for(config.device, _DTYPES[config.dtype])
        pipe = load_pretrained(AutoPipelineForText2Image, config.model, "model", torch_dtype=self.dtype)
        if config.vae:
            pipe.vae = load_pretrained(AutoencoderTiny, config.vae, "tiny VAE", torch_dtype=self.dtype)
        if config.scheduler:
            pipe.scheduler = scheduler_from_name(config.scheduler, pipe.scheduler.config)
        if config.lora:
            fuse_lora(pipe, config.lora)
        if getattr(pipe, "safety_checker", None) is not None:
            pipe.safety_checker = None  # an all-black frame is not a visual
        if getattr(pipe, "tokenizer", None) is None or getattr(pipe, "text_encoder", None) is None:
            raise InputError(config.model, "this pipeline has no text encoder/tokenizer; Barlight blends prompt embeddings")
        pipe.set_progress_bar_config(disable=True)
        self.t2i = pipe.to(config.device)
        self._i2i: Any = None
        self._embeds: dict[str, tuple[Any, Any]] = {}
        self._torch = torch

    # -- Backend interface ---------------------------------------------------------------

    def to(self, device: str) -> DiffusersBackend:
        self.t2i.to(device)
        self.config = dataclasses.replace(self.config, device=device)
        self._embeds.clear()
        return self

    @property
    def img2img(self) -> Any:
        """The img2img pipeline sharing the text-to-image weights (built on first use)."""
        if self._i2i is None:
            from diffusers import AutoPipelineForImage2Image

            self._i2i = AutoPipelineForImage2Image.from_pipe(self.t2i)
            self._i2i.set_progress_bar_config(disable=True)
        return self._i2i

    def latent_shape(self, width: int, height: int) -> tuple[int, ...]:
        scale = int(getattr(self.t2i, "vae_scale_factor", 8))
        if width % scale or height % scale:
            raise InputError("size", f"width and height must be multiples of {scale} for this model")
        return (int(self.t2i.unet.config.in_channels), height // scale, width // scale)

    def encode(self, prompt: str) -> tuple[Any, Any]:
        """(prompt_embeds, pooled_embeds or None) for ``prompt``, cached."""
        if prompt not in self._embeds:
            pipe = self.t2i
            with self._torch.inference_mode():
                if hasattr(pipe, "text_encoder_2"):  # SDXL family
                    embeds, _, pooled, _ = pipe.encode_prompt(prompt, device=self.device, num_images_per_prompt=1,
                                                              do_classifier_free_guidance=False)
                else:
                    embeds, _ = pipe.encode_prompt(prompt, self.device, 1, False)
                    pooled = None
            self._embeds[prompt] = (embeds, pooled)
            while len(self._embeds) > 64:
                self._embeds.pop(next(iter(self._embeds)))
        return self._embeds[prompt]

    def blend(self, prompts: tuple[tuple[str, float], ...]) -> dict[str, Any]:
        """Pipeline keyword arguments with the weighted sum of the prompts' embeddings."""
        total = sum(w for _, w in prompts) or 1.0
        embeds = pooled = None
        for prompt, weight in prompts:
            e, p = self.encode(prompt)
            embeds = e * (weight / total) if embeds is None else embeds + e * (weight / total)
            if p is not None:
                pooled = p * (weight / total) if pooled is None else pooled + p * (weight / total)
        kwargs: dict[str, Any] = {"prompt_embeds": embeds}
        if pooled is not None:
            kwargs["pooled_prompt_embeds"] = pooled
        if self.guidance_scale > 1.0:
            neg, neg_pooled = self.encode(self.negative_prompt)
            kwargs["negative_prompt_embeds"] = neg
            if neg_pooled is not None:
                kwargs["negative_pooled_prompt_embeds"] = neg_pooled
        return kwargs

    def __call__(self, request: BackendRequest) -> np.ndarray:
        kwargs = self.blend(request.conditioning.prompts)
        common = dict(guidance_scale=self.guidance_scale, output_type="np", return_dict=True, **kwargs)
        from diffusers.utils import logging as diffusers_logging

        verbosity = diffusers_logging.get_verbosity()
        diffusers_logging.set_verbosity_error()  # per-call notices (e.g. SDXL's VAE upcast) are not for users
        try:
            return self._run(request, common)
        finally:
            diffusers_logging.set_verbosity(verbosity)

    def _run(self, request: BackendRequest, common: dict[str, Any]) -> np.ndarray:
        torch = self._torch
        with torch.inference_mode():
            if request.init_image is not None:
                strength = min(max(request.strength, 1.0 / MAX_IMG2IMG_STEPS), 1.0)
                steps = min(max(self.steps, math.ceil(1.0 / strength - 1e-9)), MAX_IMG2IMG_STEPS)
                generator = torch.Generator("cpu").manual_seed(int(request.seed))
                image = np.clip(request.init_image, 0.0, 1.0)[None].astype(np.float32)
                out = self.img2img(image=image, strength=strength, num_inference_steps=steps,
                                   generator=generator, **common)
            else:
                latents = request.latents[None].to(self.device, self.dtype)
                out = self.t2i(latents=latents, num_inference_steps=self.steps, height=request.height,
                               width=request.width, **common)
        return np.asarray(out.images[0], np.float32)

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "pipeline": type(self.t2i).__name__}
