"""The ``diffusers`` backend: any SD 1.x / 2.x / SDXL-family model in diffusers format.

Loads with ``AutoPipelineForText2Image.from_pretrained`` from a local folder, a Hub id or a short
name from the catalog (``sd-turbo``, ``sdxl-turbo``, ``sd15-lcm``: ``barlight models get NAME``
downloads them), optionally swaps the VAE for an ``AutoencoderTiny`` (``vae = "taesd"``). With
``random_weights`` the model is an architecture shipped in ``renderer/backends/architectures``
built with random weights (benchmarks and tests: same compute, no download).

Local files are tried first (``local_files_only=True``); the Hub is asked only when that fails
and ``HF_HUB_OFFLINE`` is not set. A model that is in neither place is one line:
``InputError(model, "not found locally and ...")``; so is running out of GPU memory.

Conditioning: the section's prompts are encoded once each (``cache_prompts``) and blended by the
conditioning weights (prompt embeddings, not text). Each frame then runs one of two paths:

- the **stream path** (``stream = true``, the default; ``renderer.backends.stream``): few-step
  denoising as tensor maths on the device, img2img feedback kept in latent space, optionally
  compiled, captured as CUDA graphs and stream-batched; the frame stays on the device for the
  Renderer's post-processing;
- the **pipeline path** (``stream = false``): one plain ``AutoPipelineForText2Image`` /
  ``AutoPipelineForImage2Image`` call per frame (weights shared via ``from_pipe``), the
  reference the stream path is measured against.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from bridge.errors import InputError
from renderer.backends.base import Backend, BackendConfig, BackendRequest
from renderer.hub import hub_reachable, offline
from renderer.transfer import to_device

#: img2img needs ``steps * strength >= 1``; strength is floored so steps stay at most this (pipeline path).
MAX_IMG2IMG_STEPS = 8
DTYPES = ("auto", "float16", "bfloat16", "float32")
INSTALL_HINT = "the diffusers backend needs transformers (the text encoders): pip install 'barlight[hub]'"


def _one_line(err: BaseException) -> str:
    text = " ".join(str(err).split())
    return text[:200] + ("..." if len(text) > 200 else "")


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


@contextlib.contextmanager
def quiet_diffusers() -> Iterator[None]:
    """diffusers' notices, warnings and progress bars (e.g. SDXL's VAE upcast, dtype casts) are not for users."""
    import warnings

    from diffusers.utils import logging as diffusers_logging

    verbosity = diffusers_logging.get_verbosity()
    diffusers_logging.set_verbosity_error()
    diffusers_logging.disable_progress_bar()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        diffusers_logging.enable_progress_bar()
        diffusers_logging.set_verbosity(verbosity)


def load_pretrained(loader: Any, model: str, what: str, **kwargs: Any) -> Any:
    """``loader.from_pretrained(model)``: local files first, then the Hub unless offline; one-line errors."""
    with quiet_diffusers():
        return _load(loader, model, what, **kwargs)


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
    if offline():
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
        pipe.load_lora_weights(os.path.expanduser(lora) if local else lora, local_files_only=local or offline())
    except Exception as err:  # missing files and network errors come in many classes
        raise InputError(lora, f"LoRA could not be loaded ({_one_line(err)})") from None
    pipe.fuse_lora()


@dataclass(frozen=True, kw_only=True)
class DiffusersConfig(BackendConfig):
    """The diffusers backend's settings, a preset's ``[backend]`` table with ``name = "diffusers"``.

    Model: ``model`` (short name such as "sd-turbo", folder or Hub id; required), ``vae`` (an
    AutoencoderTiny: "taesd", "taesdxl", a folder or Hub id), ``steps``, ``guidance_scale``,
    ``negative_prompt``, ``dtype`` ("auto": fp16 on CUDA/MPS, float32 on CPU; "float16",
    "bfloat16", "float32"), ``scheduler`` (a diffusers scheduler class name such as
    "LCMScheduler", built ``from_config`` of the model's), ``lora`` (folder or Hub id of a LoRA
    fused into the model; needs peft).

    Speed (each can be switched off to measure it): ``stream`` (the stream path, else plain pipeline
    calls), ``cache_prompts`` (encode each prompt once), ``channels_last``, ``compile``
    (torch.compile, static shapes; minutes of warm-up), ``cuda_graphs`` (CUDA only), ``stream_batch``
    (multi-step models: one batched UNet call per frame, pictures ``steps - 1`` frames late).

    ``random_weights``: ``model`` names a shipped architecture (sd-turbo, sdxl-turbo, sd15-lcm)
    built with random weights, ``reduced`` at a fraction of its width (benchmarks and tests).
    """

    model: str
    vae: str | None = None
    steps: int = 1
    guidance_scale: float = 0.0
    negative_prompt: str = ""
    dtype: str = "auto"
    scheduler: str | None = None
    lora: str | None = None
    stream: bool = True
    cache_prompts: bool = True
    channels_last: bool = True
    compile: bool = False
    cuda_graphs: bool = True
    stream_batch: bool = False
    random_weights: bool = False
    reduced: bool = False

    def check(self) -> None:
        if not self.model:
            raise InputError("model", "must be a short name (barlight models), a folder path or a Hub id")
        if not 1 <= self.steps <= 50:
            raise InputError("steps", f"must be 1..50, got {self.steps!r}")
        if not 0.0 <= self.guidance_scale <= 30.0:
            raise InputError("guidance_scale", f"must be 0..30, got {self.guidance_scale!r}")
        if self.dtype not in DTYPES:
            raise InputError("dtype", f"must be {', '.join(DTYPES)}, got {self.dtype!r}")
        if self.scheduler is not None and not self.scheduler.endswith("Scheduler"):
            raise InputError("scheduler", f"must be a diffusers scheduler class name like \"LCMScheduler\", "
                                          f"got {self.scheduler!r}")
        if self.reduced and not self.random_weights:
            raise InputError("reduced", "only applies with random_weights = true")


def torch_dtype(name: str, device: str) -> Any:
    """The torch dtype for ``dtype`` on ``device``: half precision only off the CPU (float32 there)."""
    import torch

    from renderer.devices import dtype_for

    if name == "bfloat16":
        return torch.bfloat16 if not device.startswith("cpu") else torch.float32
    return dtype_for(device, {"auto": None, "float16": True, "float32": False}[name])


@contextlib.contextmanager
def gpu_memory_errors(model: str, device: str) -> Iterator[None]:
    """Turn running out of GPU memory into one line saying what to do."""
    import torch

    try:
        yield
    except torch.OutOfMemoryError:
        from renderer.catalog import catalog_entry

        entry = catalog_entry(model)
        need = f"about {entry.vram_gb:g} GB; " if entry else ""
        if device.startswith("cuda"):
            torch.cuda.empty_cache()
        raise InputError(model, f"out of memory on {device} ({need}close other GPU programs), or use a smaller "
                                f"--size, vae = \"taesd\", a smaller model (sd-turbo) or --device cpu") from None


class DiffusersBackend(Backend):
    """Any SD 1.x/2.x/SDXL-family diffusers model; settings in :class:`DiffusersConfig`."""

    name: ClassVar[str] = "diffusers"
    config_class: ClassVar[type[BackendConfig]] = DiffusersConfig
    supports_img2img: ClassVar[bool] = True
    showcase_preset: ClassVar[str | None] = "turbo"
    config: DiffusersConfig

    def __init__(self, **settings: Any) -> None:
        super().__init__(**settings)
        import torch

        try:
            import transformers  # noqa: F401
        except ImportError:
            raise InputError("--backend diffusers", INSTALL_HINT) from None
        _quiet_transformers()
        config = self.config
        self.steps = config.steps
        self.guidance_scale = config.guidance_scale
        self.negative_prompt = config.negative_prompt
        self.dtype = torch_dtype(config.dtype, config.device)
        self._torch = torch
        with gpu_memory_errors(config.model, config.device):
            pipe = self._load()
            if getattr(pipe, "safety_checker", None) is not None:
                pipe.safety_checker = None  # an all-black frame is not a visual
            if getattr(pipe, "tokenizer", None) is None or getattr(pipe, "text_encoder", None) is None:
                raise InputError(config.model, "this pipeline has no text encoder/tokenizer; "
                                               "Barlight blends prompt embeddings")
            pipe.set_progress_bar_config(disable=True)
            self.t2i = pipe.to(config.device)
        self._i2i: Any = None
        self._embeds: dict[str, tuple[Any, Any]] = {}
        with quiet_diffusers():
            self.stream = self._stream() if config.stream else None
        self._last: tuple[Any, Any] | None = None  # (image returned, its latents): the feedback's shortcut

    def _load(self) -> Any:
        """The pipeline: an architecture with random weights, or a model from disk or the Hub."""
        from diffusers import AutoencoderTiny, AutoPipelineForText2Image

        from renderer.hub import resolve_model

        config = self.config
        if config.random_weights:
            from renderer.backends.architectures import architecture, build_pipeline, build_taesd

            architecture(config.model, "model")
            with quiet_diffusers():
                pipe = build_pipeline(config.model, config.device, self.dtype, config.reduced)
                if config.vae:
                    pipe.vae = build_taesd(config.model, config.device, self.dtype, config.reduced)
            return pipe
        model = resolve_model(config.model)
        pipe = load_pretrained(AutoPipelineForText2Image, model.source, "model", torch_dtype=self.dtype,
                               variant=model.variant)
        if config.vae:
            vae = resolve_model(config.vae)
            pipe.vae = load_pretrained(AutoencoderTiny, vae.source, "tiny VAE", torch_dtype=self.dtype)
        if config.scheduler:
            pipe.scheduler = scheduler_from_name(config.scheduler, pipe.scheduler.config)
        if config.lora:
            fuse_lora(pipe, config.lora)
        return pipe

    def _stream(self) -> Any:
        """The stream path over this pipeline's components, with the techniques the config switches on."""
        from renderer.backends.stream import StreamDenoiser, StreamOptions

        torch = self._torch
        config = self.config
        pipe = self.t2i
        sdxl = hasattr(pipe, "text_encoder_2")
        if sdxl and self.dtype == torch.float16 and getattr(pipe.vae.config, "force_upcast", False):
            pipe.vae.to(torch.float32)  # SDXL's full VAE overflows in fp16, as diffusers' SDXL pipelines know (not TAESDXL)
        if config.channels_last:
            pipe.unet.to(memory_format=torch.channels_last)
            pipe.vae.to(memory_format=torch.channels_last)
        options = StreamOptions(steps=config.steps, guidance_scale=config.guidance_scale,
                                stream_batch=config.stream_batch, cuda_graphs=config.cuda_graphs,
                                compile=config.compile)
        return StreamDenoiser(pipe, options, config.device, self.dtype)

    # -- Backend interface ---------------------------------------------------------------

    def to(self, device: str) -> DiffusersBackend:
        self.t2i.to(device)
        self.config = dataclasses.replace(self.config, device=device)
        self._embeds.clear()
        self._last = None
        self.stream = self._stream() if self.config.stream else None
        return self

    @property
    def img2img(self) -> Any:
        """The img2img pipeline sharing the text-to-image weights (built on first use)."""
        if self._i2i is None:
            from diffusers import AutoPipelineForImage2Image

            with quiet_diffusers():
                self._i2i = AutoPipelineForImage2Image.from_pipe(self.t2i)
            self._i2i.set_progress_bar_config(disable=True)
        return self._i2i

    @property
    def frames_late(self) -> int:
        """How many calls later a request's picture comes out (stream batch: ``steps - 1``; else 0)."""
        return self.stream.frames_late if self.stream is not None else 0

    def latent_shape(self, width: int, height: int) -> tuple[int, ...]:
        scale = int(getattr(self.t2i, "vae_scale_factor", 8))
        if width % scale or height % scale:
            raise InputError("size", f"width and height must be multiples of {scale} for this model")
        return (int(self.t2i.unet.config.in_channels), height // scale, width // scale)

    def encode(self, prompt: str) -> tuple[Any, Any]:
        """(prompt_embeds, pooled_embeds or None) for ``prompt``; cached unless ``cache_prompts`` is off."""
        if prompt in self._embeds:
            return self._embeds[prompt]
        pipe = self.t2i
        with self._torch.inference_mode():
            if hasattr(pipe, "text_encoder_2"):  # SDXL family
                embeds, _, pooled, _ = pipe.encode_prompt(prompt, device=self.device, num_images_per_prompt=1,
                                                          do_classifier_free_guidance=False)
            else:
                embeds, _ = pipe.encode_prompt(prompt, self.device, 1, False)
                pooled = None
        if self.config.cache_prompts:
            self._embeds[prompt] = (embeds, pooled)
            while len(self._embeds) > 64:
                self._embeds.pop(next(iter(self._embeds)))
        return embeds, pooled

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

    def __call__(self, request: BackendRequest) -> Any:
        """The frame: a device tensor on the stream path, a numpy array on the pipeline path."""
        with gpu_memory_errors(self.config.model, self.device), quiet_diffusers(), self._torch.inference_mode():
            kwargs = self.blend(request.conditioning.prompts)
            if self.stream is not None:
                return self._run_stream(request, kwargs)
            return self._run_pipeline(request, kwargs)

    def _run_stream(self, request: BackendRequest, kwargs: dict[str, Any]) -> Any:
        torch = self._torch
        cond = {"embeds": kwargs["prompt_embeds"], "pooled": kwargs.get("pooled_prompt_embeds")}
        if "negative_prompt_embeds" in kwargs:
            cond["embeds"] = torch.cat([kwargs["negative_prompt_embeds"], cond["embeds"]])
            if cond["pooled"] is not None:
                cond["pooled"] = torch.cat([kwargs["negative_pooled_prompt_embeds"], cond["pooled"]])
        noise = to_device(request.latents[None].float(), self.device)
        init = None  # no feedback: text-to-image (frames in flight under stream batch still finish)
        if request.init_image is None:
            pass
        elif self._last is not None and request.init_image is self._last[0]:
            init = self._last[1]  # our own last frame: its latents, no VAE encode
        else:
            init = self.stream.encode(request.init_image)
        image, x0 = self.stream(noise, init, min(max(request.strength, 0.0), 1.0), cond)
        self._last = (image, x0)
        return image

    def _run_pipeline(self, request: BackendRequest, kwargs: dict[str, Any]) -> np.ndarray:
        torch = self._torch
        common = dict(guidance_scale=self.guidance_scale, output_type="np", return_dict=True, **kwargs)
        if request.init_image is not None:
            strength = min(max(request.strength, 1.0 / MAX_IMG2IMG_STEPS), 1.0)
            steps = min(max(self.steps, math.ceil(1.0 / strength - 1e-9)), MAX_IMG2IMG_STEPS)
            generator = torch.Generator("cpu").manual_seed(int(request.seed))
            image = np.clip(np.asarray(request.init_image), 0.0, 1.0)[None].astype(np.float32)
            out = self.img2img(image=image, strength=strength, num_inference_steps=steps,
                               generator=generator, **common)
        else:
            latents = request.latents[None].to(self.device, self.dtype)
            out = self.t2i(latents=latents, num_inference_steps=self.steps, height=request.height,
                           width=request.width, **common)
        return np.asarray(out.images[0], np.float32)

    def describe(self) -> dict[str, Any]:
        techniques = self.stream.techniques if self.stream is not None else {}
        return {**super().describe(), "pipeline": type(self.t2i).__name__, "in_force": techniques}
