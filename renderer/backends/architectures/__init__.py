"""Full-size Stable Diffusion architectures from their published configs, built with random weights.

Each folder here is laid out like a diffusers model folder without its weights: ``model_index.json``
(the pipeline class and its components) and one ``config.json`` per component (``unet``, ``vae``,
``text_encoder``, ``text_encoder_2``, ``scheduler``), plus ``taesd`` (the matching AutoencoderTiny).
:func:`build_pipeline` makes a real diffusers pipeline of it with random weights, so the speed of a
full-size model can be measured with no download: compute does not depend on the weights.

- ``sd-turbo``: the SD 2.1 UNet (865.9 M parameters), OpenCLIP ViT-H text encoder, 1 step.
- ``sdxl-turbo``: the SDXL UNet (2.57 B), CLIP ViT-L + OpenCLIP ViT-bigG, 1 step.
- ``sd15-lcm``: the SD 1.5 UNet with LCM's guidance embedding (LCM-Dreamshaper v7), 4 steps.

The tokenizer is a character-level CLIP vocabulary written on the fly (no download); the text
encoders still run on 77 tokens, so prompt embeddings have the real shapes and cost.
``reduced=True`` shrinks every width (same block types, same conditioning paths) for CPU tests.
"""

from __future__ import annotations

import copy
import importlib
import inspect
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bridge.errors import InputError

_FOLDER = Path(__file__).parent


@dataclass(frozen=True)
class Architecture:
    """One shipped architecture: its folder, native size, steps and the published UNet size."""

    name: str
    folder: str
    resolution: tuple[int, int]
    steps: int
    unet_parameters: int  #: the published UNet parameter count (a test checks the config against it)
    description: str

    @property
    def path(self) -> Path:
        return _FOLDER / self.folder

    def model_index(self) -> dict[str, Any]:
        return json.loads((self.path / "model_index.json").read_text())

    def config(self, component: str, reduced: bool = False) -> dict[str, Any]:
        """The component's config (``scheduler`` reads ``scheduler_config.json``), shrunk if ``reduced``."""
        name = "scheduler_config.json" if component == "scheduler" else "config.json"
        config = json.loads((self.path / component / name).read_text())
        return reduce_config(component, config, self.text_encoders) if reduced else config

    @property
    def text_encoders(self) -> int:
        return 2 if "text_encoder_2" in self.model_index() else 1


ARCHITECTURES: dict[str, Architecture] = {
    "sd-turbo": Architecture("sd-turbo", "sd_turbo", (512, 512), 1, 865_910_724,
                             "SD-Turbo: the SD 2.1 UNet, one step"),
    "sdxl-turbo": Architecture("sdxl-turbo", "sdxl_turbo", (512, 512), 1, 2_567_463_684,
                               "SDXL-Turbo: the SDXL UNet with two text encoders, one step"),
    "sd15-lcm": Architecture("sd15-lcm", "sd15_lcm", (512, 512), 4, 859_602_884,
                             "SD 1.5 + LCM (LCM-Dreamshaper v7), four steps"),
}

#: Reduced widths: text encoders of this hidden size, UNet and VAE channels divided by about 40.
REDUCED_TEXT_HIDDEN = 16


def architecture(name: str, where: str = "--architecture") -> Architecture:
    """The architecture called ``name``; InputError naming ``where`` otherwise."""
    if name not in ARCHITECTURES:
        raise InputError(where, f"unknown architecture {name!r} (shipped: {', '.join(ARCHITECTURES)})")
    return ARCHITECTURES[name]


def reduce_config(component: str, config: dict[str, Any], text_encoders: int = 1) -> dict[str, Any]:
    """``config`` with every width shrunk (block types and conditioning paths kept), for CPU runs."""
    out = copy.deepcopy(config)
    hidden = REDUCED_TEXT_HIDDEN
    if component == "unet":
        out.update(block_out_channels=[max(8, c // 40) for c in out["block_out_channels"]], layers_per_block=1,
                   norm_num_groups=4, attention_head_dim=2, cross_attention_dim=hidden * text_encoders)
        if "transformer_layers_per_block" in out:
            out["transformer_layers_per_block"] = 1
        if out.get("addition_embed_type") == "text_time":
            out.update(addition_time_embed_dim=8, addition_embed_type_num_heads=2,
                       projection_class_embeddings_input_dim=hidden + 6 * 8)
        if out.get("time_cond_proj_dim"):
            out["time_cond_proj_dim"] = 8
    elif component == "vae":
        out.update(block_out_channels=[8, 16, 16, 16], layers_per_block=1, norm_num_groups=4)
    elif component == "taesd":
        out.update(encoder_block_out_channels=[8] * 4, decoder_block_out_channels=[8] * 4,
                   num_encoder_blocks=[1] * 4, num_decoder_blocks=[1] * 4)
    elif component.startswith("text_encoder"):
        out.update(hidden_size=hidden, intermediate_size=2 * hidden, num_attention_heads=2, num_hidden_layers=2,
                   projection_dim=hidden)
    return out


def _bytes_to_unicode() -> dict[int, str]:
    """GPT-2/CLIP byte -> printable unicode table (the standard construction)."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(
        range(ord("®"), ord("ÿ") + 1))
    codes = printable[:]
    extra = 0
    for b in range(256):
        if b not in printable:
            printable.append(b)
            codes.append(256 + extra)
            extra += 1
    return dict(zip(printable, (chr(c) for c in codes)))


def write_char_tokenizer(folder: str | Path) -> Path:
    """A character-level CLIP BPE vocabulary (vocab.json + merges.txt, no merges) in ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    chars = sorted(set(_bytes_to_unicode().values()))
    tokens = chars + [c + "</w>" for c in chars] + ["<|startoftext|>", "<|endoftext|>"]
    (folder / "vocab.json").write_text(json.dumps({t: i for i, t in enumerate(tokens)}))
    (folder / "merges.txt").write_text("#version: 0.2\n")
    return folder


def char_tokenizer() -> Any:
    """A ``CLIPTokenizer`` (77 tokens) over :func:`write_char_tokenizer`'s vocabulary; no download."""
    from transformers import CLIPTokenizer

    with tempfile.TemporaryDirectory() as folder:
        vocab = write_char_tokenizer(folder)
        return CLIPTokenizer(str(vocab / "vocab.json"), str(vocab / "merges.txt"), model_max_length=77)


def _class(library: str, name: str) -> Any:
    if library not in ("diffusers", "transformers"):
        raise ValueError(f"unexpected library {library!r} in model_index.json")
    return getattr(importlib.import_module(library), name)


def build_component(arch: Architecture, component: str, reduced: bool = False, tokenizer: Any = None) -> Any:
    """One model component with random weights, on torch's current default device (use ``with torch.device``)."""
    library, class_name = arch.model_index()[component] if component != "taesd" else ("diffusers", "AutoencoderTiny")
    cls = _class(library, class_name)
    config = arch.config(component, reduced)
    if library == "transformers":
        if tokenizer is not None:  # pooling finds the end-of-text token by id
            config.update(bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                          pad_token_id=tokenizer.pad_token_id)
        return cls._from_config(cls.config_class(**config))
    return cls.from_config(config)


def count_parameters(name: str, component: str = "unet") -> int:
    """Parameters of a full-size component, built on the meta device (no memory, no weights)."""
    import torch

    with torch.device("meta"):
        model = build_component(architecture(name), component)
    return sum(p.numel() for p in model.parameters())


def build_pipeline(name: str, device: str = "cpu", dtype: Any = None, reduced: bool = False,
                   seed: int = 0) -> Any:
    """The architecture's diffusers pipeline with random weights (seeded), built on ``device`` in ``dtype``.

    Weights are created on the device itself (fast on a GPU, no host copy of a 2.6 B model)."""
    import torch

    arch = architecture(name)
    dtype = dtype or torch.float32
    index = arch.model_index()
    tokenizer = char_tokenizer()
    torch.manual_seed(seed)
    parts: dict[str, Any] = {}
    for component, entry in index.items():
        if component.startswith("_"):
            continue
        library, class_name = entry
        if library is None:
            parts[component] = None
        elif class_name == "CLIPTokenizer":
            parts[component] = tokenizer
        elif component == "scheduler":
            parts[component] = _class(library, class_name).from_config(arch.config("scheduler"))
        else:
            with torch.device(device):
                parts[component] = build_component(arch, component, reduced, tokenizer).to(dtype=dtype).eval()
    pipeline_cls = _class("diffusers", index["_class_name"])
    if "requires_safety_checker" in inspect.signature(pipeline_cls).parameters:
        parts["requires_safety_checker"] = False
    return pipeline_cls(**parts)


def build_taesd(name: str, device: str = "cpu", dtype: Any = None, reduced: bool = False, seed: int = 0) -> Any:
    """The architecture's AutoencoderTiny (TAESD / TAESDXL) with random weights."""
    import torch

    torch.manual_seed(seed)
    with torch.device(device):
        return build_component(architecture(name), "taesd", reduced).to(dtype=dtype or torch.float32).eval()
