"""Architectures of the embedded model as JSON-able configs, and building a pipeline from one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from renderer.embedded.context import MEL_POINTS, N_MELS, N_SCALARS

#: Where the shipped weights live (a save_pretrained directory).
WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"

SCHEDULER_CONFIG: dict[str, Any] = {
    "num_train_timesteps": 1000,
    "beta_schedule": "squaredcos_cap_v2",
    "prediction_type": "sample",
    "rescale_betas_zero_snr": True,
    "timestep_spacing": "trailing",
    "clip_sample": True,
    "clip_sample_range": 1.0,
    "set_alpha_to_one": True,
}

#: The shipped model: 64x64 RGB folded 4x4 -> 16x16x48 UNet sample.
DEFAULT_CONFIG: dict[str, Any] = {
    "unet": {
        "sample_size": 16,
        "in_channels": 48,
        "out_channels": 48,
        "block_out_channels": [64, 96, 128],
        "layers_per_block": 1,
        "down_block_types": ["DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"],
        "up_block_types": ["CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"],
        "norm_num_groups": 8,
        "cross_attention_dim": 64,
        "attention_head_dim": 8,
        "class_embed_type": "projection",
        "projection_class_embeddings_input_dim": 64,
        "resnet_time_scale_shift": "scale_shift",
    },
    "audio_encoder": {
        "mel_points": MEL_POINTS,
        "n_mels": N_MELS,
        "n_scalars": N_SCALARS,
        "n_tokens": 8,
        "token_dim": 64,
        "hidden_dim": 128,
        "mel_channels": 96,
        "pooled_dim": 64,
    },
    "scheduler": SCHEDULER_CONFIG,
}

#: A tiny randomly-initialised variant for tests (same interfaces, 32x32 frames, milliseconds per call).
TINY_CONFIG: dict[str, Any] = {
    "unet": {
        "sample_size": 8,
        "in_channels": 48,
        "out_channels": 48,
        "block_out_channels": [16, 32],
        "layers_per_block": 1,
        "down_block_types": ["DownBlock2D", "CrossAttnDownBlock2D"],
        "up_block_types": ["CrossAttnUpBlock2D", "UpBlock2D"],
        "norm_num_groups": 8,
        "cross_attention_dim": 16,
        "attention_head_dim": 8,
        "class_embed_type": "projection",
        "projection_class_embeddings_input_dim": 16,
    },
    "audio_encoder": {
        "mel_points": MEL_POINTS,
        "n_mels": N_MELS,
        "n_scalars": N_SCALARS,
        "n_tokens": 2,
        "token_dim": 16,
        "hidden_dim": 16,
        "mel_channels": 8,
        "pooled_dim": 16,
    },
    "scheduler": SCHEDULER_CONFIG,
}


def build_pipeline(config: dict[str, Any] | None = None, seed: int = 0):  # -> BarlightPipeline
    """A randomly initialised (seeded) pipeline from ``config`` (default :data:`DEFAULT_CONFIG`)."""
    import torch
    from diffusers import DDIMScheduler, UNet2DConditionModel

    from renderer.embedded.models import AudioEncoder
    from renderer.embedded.pipeline import BarlightPipeline

    config = DEFAULT_CONFIG if config is None else config
    torch.manual_seed(seed)
    unet = UNet2DConditionModel(**config["unet"])
    encoder = AudioEncoder(**config["audio_encoder"])
    scheduler = DDIMScheduler(**config["scheduler"])
    return BarlightPipeline(unet=unet, audio_encoder=encoder, scheduler=scheduler)


def tiny_pipeline(seed: int = 0):  # -> BarlightPipeline
    """:data:`TINY_CONFIG`, randomly initialised — for tests of code that calls the pipeline."""
    return build_pipeline(TINY_CONFIG, seed=seed)


def load_default_pipeline(path: str | Path | None = None):  # -> BarlightPipeline
    """The shipped weights (or a ``save_pretrained`` directory at ``path``)."""
    from bridge.errors import InputError
    from renderer.embedded.pipeline import MODEL_INDEX, BarlightPipeline

    root = Path(path) if path is not None else WEIGHTS_DIR
    if not (root / MODEL_INDEX).is_file():
        raise InputError(str(root), "no trained embedded model here (run `barlight train --export-to-package`)")
    return BarlightPipeline.from_pretrained(root)
