"""Architectures of the embedded model as JSON-able configs, and building a pipeline from one."""

from __future__ import annotations

import copy
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
    "clip_sample": False,
    "set_alpha_to_one": True,
}

_FOLDED_IN = 16 * (4 + 12)  # shading sample + layout bank, folded 4 x 4
_FOLDED_OUT = 16 * 4

#: The shipped model: shading fields on a 64-cell grid, folded 4x4 -> 16x16x64 UNet sample.
DEFAULT_CONFIG: dict[str, Any] = {
    "unet": {
        "sample_size": 16,
        "in_channels": _FOLDED_IN,
        "out_channels": _FOLDED_OUT,
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
    "prompt_encoder": {"meaning_dim": 36, "token_dim": 64, "pooled_dim": 64, "hidden_dim": 128},
    "mixer": {"n_scalars": N_SCALARS, "meaning_dim": 36, "n_looks": 10, "n_bank": 12, "hidden_dim": 256},
    "colour_table": {"n_scalars": N_SCALARS, "meaning_dim": 36, "size": 128, "hidden_dim": 256},
    "decoder": {"tile_size": 128, "line_size": 256},
    "scheduler": SCHEDULER_CONFIG,
}

def derived_config(base: dict[str, Any], **changes: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``base`` whose named components (``unet=...``, ``mixer=...``) have these entries changed."""
    unknown = set(changes) - set(base)
    if unknown:
        raise ValueError(f"derived_config: no components {sorted(unknown)} in the base config")
    return {name: {**copy.deepcopy(part), **changes.get(name, {})} for name, part in base.items()}


#: A tiny randomly-initialised variant for tests (same interfaces, milliseconds per call): the shipped
#: architecture, two UNet levels instead of three, narrow everywhere.
TINY_CONFIG: dict[str, Any] = derived_config(
    DEFAULT_CONFIG,
    unet={"block_out_channels": [16, 32], "down_block_types": ["DownBlock2D", "CrossAttnDownBlock2D"],
          "up_block_types": ["CrossAttnUpBlock2D", "UpBlock2D"], "cross_attention_dim": 16,
          "projection_class_embeddings_input_dim": 16, "resnet_time_scale_shift": "default"},
    audio_encoder={"n_tokens": 2, "token_dim": 16, "hidden_dim": 16, "mel_channels": 8, "pooled_dim": 16},
    prompt_encoder={"token_dim": 16, "pooled_dim": 16, "hidden_dim": 16},
    mixer={"hidden_dim": 16},
    colour_table={"hidden_dim": 16},
    decoder={"tile_size": 32, "line_size": 64},
)


def build_pipeline(config: dict[str, Any] | None = None, seed: int = 0):  # -> BarlightPipeline
    """A randomly initialised (seeded) pipeline from ``config`` (default :data:`DEFAULT_CONFIG`)."""
    import torch
    from diffusers import DDIMScheduler, UNet2DConditionModel

    from renderer.embedded.decoder import PhaseDecoder
    from renderer.embedded.looks import LOOKS
    from renderer.embedded.models import AudioEncoder, ColourTable, PhaseMixer, PromptEncoder
    from renderer.embedded.pipeline import BarlightPipeline

    config = DEFAULT_CONFIG if config is None else config
    torch.manual_seed(seed)
    return BarlightPipeline(unet=UNet2DConditionModel(**config["unet"]),
                            audio_encoder=AudioEncoder(**config["audio_encoder"]),
                            prompt_encoder=PromptEncoder(**config["prompt_encoder"]),
                            mixer=PhaseMixer(**config["mixer"]),
                            colour_table=ColourTable(**config["colour_table"]),
                            decoder=PhaseDecoder.from_looks(LOOKS, **config["decoder"]),
                            scheduler=DDIMScheduler(**config["scheduler"]))


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
