"""Tiny, randomly initialised models for tests and benchmarks: real components, built from configs.

``save_tiny_diffusers_model(folder)`` writes a complete Stable Diffusion pipeline in diffusers
format (UNet2DConditionModel, AutoencoderKL, CLIPTextModel from a CLIPTextConfig, a CLIPTokenizer
from a vocab.json + merges.txt written here, an Euler scheduler with trailing timesteps like
SD-Turbo) with ``save_pretrained``; load it through the real backend:

    folder = save_tiny_diffusers_model(tmp_path / "tiny-sd")
    renderer = Renderer.from_preset("neon", backend="diffusers", model=str(folder), size=(64, 64))

``save_tiny_taesd(folder)`` writes a matching ``AutoencoderTiny``. Nothing is downloaded.
Frames from random weights are noise-like but deterministic and responsive to the inputs,
which is what the tests measure.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

#: Latent downscale of the tiny VAE (two blocks -> 2x); sizes must be multiples of 8 anyway.
TINY_CROSS_ATTENTION_DIM = 16


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


def write_tiny_clip_tokenizer(folder: str | os.PathLike[str]) -> Path:
    """A character-level CLIP BPE vocabulary (vocab.json + merges.txt, no merges) in ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    chars = sorted(set(_bytes_to_unicode().values()))
    tokens = chars + [c + "</w>" for c in chars] + ["<|startoftext|>", "<|endoftext|>"]
    (folder / "vocab.json").write_text(json.dumps({t: i for i, t in enumerate(tokens)}))
    (folder / "merges.txt").write_text("#version: 0.2\n")
    return folder


def _tiny_vae():  # -> AutoencoderKL
    """The tiny models' VAE: two blocks, 2x latents, 4 latent channels (draws from torch's global RNG)."""
    from diffusers import AutoencoderKL

    return AutoencoderKL(
        block_out_channels=(8, 16), in_channels=3, out_channels=3, latent_channels=4, norm_num_groups=4,
        down_block_types=("DownEncoderBlock2D", "DownEncoderBlock2D"),
        up_block_types=("UpDecoderBlock2D", "UpDecoderBlock2D"), sample_size=64,
    )


@contextlib.contextmanager
def _tiny_tokenizer(folder: Path) -> Iterator[Any]:
    """A ``CLIPTokenizer`` read from a vocabulary written under ``folder``; the vocabulary files are
    removed again on leaving the block (save the pipeline inside it)."""
    from transformers import CLIPTokenizer

    vocab_dir = write_tiny_clip_tokenizer(folder / "_tokenizer_source")
    try:
        yield CLIPTokenizer(str(vocab_dir / "vocab.json"), str(vocab_dir / "merges.txt"), model_max_length=77)
    finally:
        for name in ("vocab.json", "merges.txt"):
            (vocab_dir / name).unlink()
        vocab_dir.rmdir()


def save_tiny_diffusers_model(folder: str | os.PathLike[str], seed: int = 0) -> Path:
    """Build a tiny SD pipeline from configs with random weights (``seed``) and save it to ``folder``."""
    import torch
    from diffusers import EulerDiscreteScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    folder = Path(folder)
    torch.manual_seed(seed)
    unet = UNet2DConditionModel(
        block_out_channels=(8, 16), layers_per_block=1, sample_size=32, in_channels=4, out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=TINY_CROSS_ATTENTION_DIM, attention_head_dim=2, norm_num_groups=4,
    )
    vae = _tiny_vae()
    with _tiny_tokenizer(folder) as tokenizer:
        text_encoder = CLIPTextModel(CLIPTextConfig(
            hidden_size=TINY_CROSS_ATTENTION_DIM, intermediate_size=32, num_attention_heads=2, num_hidden_layers=2,
            vocab_size=len(tokenizer), max_position_embeddings=77, bos_token_id=tokenizer.bos_token_id,
            eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
        ))
        scheduler = EulerDiscreteScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
                                           timestep_spacing="trailing", steps_offset=1)
        pipe = StableDiffusionPipeline(vae=vae, text_encoder=text_encoder, tokenizer=tokenizer, unet=unet,
                                       scheduler=scheduler, safety_checker=None, feature_extractor=None,
                                       requires_safety_checker=False)
        pipe.save_pretrained(folder)
    return folder


def save_tiny_taesd(folder: str | os.PathLike[str], seed: int = 0) -> Path:
    """A tiny ``AutoencoderTiny`` (TAESD-shaped, random weights) matching the tiny model's 2x latents."""
    import torch
    from diffusers import AutoencoderTiny

    torch.manual_seed(seed)
    vae = AutoencoderTiny(encoder_block_out_channels=(8, 8), decoder_block_out_channels=(8, 8),
                          num_encoder_blocks=(1, 1), num_decoder_blocks=(1, 1), latent_channels=4)
    vae.save_pretrained(folder)
    return Path(folder)


def save_tiny_sdxl_model(folder: str | os.PathLike[str], seed: int = 0) -> Path:
    """A tiny SDXL-family pipeline (two CLIP text encoders, pooled embeddings, time ids) saved to ``folder``."""
    import torch
    from diffusers import EulerDiscreteScheduler, StableDiffusionXLPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    folder = Path(folder)
    torch.manual_seed(seed)
    hidden = 16
    time_dim = 8
    unet = UNet2DConditionModel(
        block_out_channels=(8, 16), layers_per_block=1, sample_size=32, in_channels=4, out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"), up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        attention_head_dim=2, norm_num_groups=4, use_linear_projection=True, addition_embed_type="text_time",
        addition_time_embed_dim=time_dim, projection_class_embeddings_input_dim=hidden + 6 * time_dim,
        cross_attention_dim=2 * hidden,
    )
    vae = _tiny_vae()
    with _tiny_tokenizer(folder) as tokenizer:
        config = dict(hidden_size=hidden, intermediate_size=32, num_attention_heads=2, num_hidden_layers=2,
                      vocab_size=len(tokenizer), max_position_embeddings=77, bos_token_id=tokenizer.bos_token_id,
                      eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id, projection_dim=hidden)
        text_encoder = CLIPTextModel(CLIPTextConfig(**config))
        text_encoder_2 = CLIPTextModelWithProjection(CLIPTextConfig(**config))
        scheduler = EulerDiscreteScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
                                           timestep_spacing="trailing", steps_offset=1)
        pipe = StableDiffusionXLPipeline(vae=vae, text_encoder=text_encoder, text_encoder_2=text_encoder_2,
                                         tokenizer=tokenizer, tokenizer_2=tokenizer, unet=unet, scheduler=scheduler)
        pipe.save_pretrained(folder)
    return folder
