"""Tiny, randomly initialised models for tests and benchmarks: real components, built from configs.

``save_tiny_diffusers_model(folder)`` writes a complete Stable Diffusion pipeline in diffusers
format (UNet2DConditionModel, AutoencoderKL, CLIPTextModel from a CLIPTextConfig, a character-level
CLIPTokenizer (``renderer.backends.architectures.char_tokenizer``), an Euler scheduler with trailing timesteps like
SD-Turbo) with ``save_pretrained``; load it through the real backend:

    folder = save_tiny_diffusers_model(tmp_path / "tiny-sd")
    renderer = Renderer.from_preset("neon", backend="diffusers", model=str(folder), size=(64, 64))

``save_tiny_taesd(folder)`` writes a matching ``AutoencoderTiny``. Nothing is downloaded.
Frames from random weights are noise-like but deterministic and responsive to the inputs,
which is what the tests measure.
"""

from __future__ import annotations

import os
from pathlib import Path

from renderer.backends.architectures import char_tokenizer

#: Latent downscale of the tiny VAE (two blocks -> 2x); sizes must be multiples of 8 anyway.
TINY_CROSS_ATTENTION_DIM = 16


def _tiny_vae():  # -> AutoencoderKL
    """The tiny models' VAE: two blocks, 2x latents, 4 latent channels (draws from torch's global RNG)."""
    from diffusers import AutoencoderKL

    return AutoencoderKL(
        block_out_channels=(8, 16), in_channels=3, out_channels=3, latent_channels=4, norm_num_groups=4,
        down_block_types=("DownEncoderBlock2D", "DownEncoderBlock2D"),
        up_block_types=("UpDecoderBlock2D", "UpDecoderBlock2D"), sample_size=64,
    )


def save_tiny_diffusers_model(folder: str | os.PathLike[str], seed: int = 0, variant: str | None = None) -> Path:
    """Build a tiny SD pipeline from configs with random weights (``seed``) and save it to ``folder``
    (weight files named for ``variant``, e.g. ``"fp16"``, as the Hub's fp16 variants are)."""
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
    tokenizer = char_tokenizer()
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
    pipe.save_pretrained(folder, variant=variant)
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


def save_tiny_sdxl_model(folder: str | os.PathLike[str], seed: int = 0, variant: str | None = None) -> Path:
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
    tokenizer = char_tokenizer()
    config = dict(hidden_size=hidden, intermediate_size=32, num_attention_heads=2, num_hidden_layers=2,
                  vocab_size=len(tokenizer), max_position_embeddings=77, bos_token_id=tokenizer.bos_token_id,
                  eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id, projection_dim=hidden)
    text_encoder = CLIPTextModel(CLIPTextConfig(**config))
    text_encoder_2 = CLIPTextModelWithProjection(CLIPTextConfig(**config))
    scheduler = EulerDiscreteScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
                                       timestep_spacing="trailing", steps_offset=1)
    pipe = StableDiffusionXLPipeline(vae=vae, text_encoder=text_encoder, text_encoder_2=text_encoder_2,
                                     tokenizer=tokenizer, tokenizer_2=tokenizer, unet=unet, scheduler=scheduler)
    pipe.save_pretrained(folder, variant=variant)
    return folder


def install_in_hub_cache(cache: str | os.PathLike[str], repo_id: str, folder: str | os.PathLike[str],
                         commit: str = "0123456789abcdef0123456789abcdef01234567") -> Path:
    """Lay ``folder``'s files out in a Hugging Face Hub cache at ``cache`` as ``repo_id`` (blobs, a snapshot
    of relative symlinks, ``refs/main``), the way huggingface_hub leaves a download; returns the snapshot."""
    import hashlib
    import shutil

    repo = Path(cache) / f"models--{repo_id.replace('/', '--')}"
    snapshot = repo / "snapshots" / commit
    for source in sorted(p for p in Path(folder).rglob("*") if p.is_file()):
        digest = hashlib.sha256(source.read_bytes()).hexdigest()
        blob = repo / "blobs" / digest
        blob.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, blob)
        link = snapshot / source.relative_to(folder)
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(os.path.relpath(blob, link.parent))
    (repo / "refs").mkdir(parents=True, exist_ok=True)
    (repo / "refs" / "main").write_text(commit)
    return snapshot
