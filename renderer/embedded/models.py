"""The audio encoder: a conditioning vector -> cross-attention tokens + a pooled embedding.

The vector is :func:`renderer.embedded.context.audio_context`'s output: a past window of
log-mel frames (read by a small 1-D conv stack over time) plus the scalar block
(loudness, brightness, noisiness, onset density, chroma, beat/bar phase). The tokens
feed the UNet's cross-attention; the pooled vector is added to its timestep embedding
(``class_embed_type="projection"``), so every ResNet block sees the global qualities.
"""

from __future__ import annotations

import torch
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.modeling_utils import ModelMixin
from torch import nn


class AudioEncoder(ModelMixin, ConfigMixin):
    """``forward(context (B, mel_points*n_mels + n_scalars)) -> (tokens (B, n_tokens, token_dim), pooled (B, pooled_dim))``."""

    config_name = "config.json"

    @register_to_config
    def __init__(self, mel_points: int = 16, n_mels: int = 64, n_scalars: int = 20, n_tokens: int = 8,
                 token_dim: int = 64, hidden_dim: int = 128, mel_channels: int = 96, pooled_dim: int = 64) -> None:
        super().__init__()
        self.mel_conv = nn.Sequential(
            nn.Conv1d(n_mels, mel_channels, kernel_size=3, padding=1),
            nn.GELU(),
            nn.Conv1d(mel_channels, mel_channels, kernel_size=3, stride=2, padding=1),
            nn.GELU(),
        )
        mel_out = mel_channels * ((mel_points + 1) // 2)
        self.mel_proj = nn.Linear(mel_out, hidden_dim)
        self.scalar_proj = nn.Linear(n_scalars, hidden_dim)
        self.trunk = nn.Sequential(nn.GELU(), nn.Linear(hidden_dim, hidden_dim), nn.GELU(),
                                   nn.Linear(hidden_dim, hidden_dim), nn.GELU())
        self.to_tokens = nn.Linear(hidden_dim, n_tokens * token_dim)
        self.token_pos = nn.Parameter(torch.randn(n_tokens, token_dim) * 0.02)
        self.to_pooled = nn.Linear(hidden_dim + n_scalars, pooled_dim)

    @property
    def context_dim(self) -> int:
        return self.config.mel_points * self.config.n_mels + self.config.n_scalars

    def forward(self, context: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        cfg = self.config
        if context.ndim != 2 or context.shape[1] != self.context_dim:
            raise ValueError(f"context must have shape (batch, {self.context_dim}), got {tuple(context.shape)}")
        mel_dim = cfg.mel_points * cfg.n_mels
        mel = context[:, :mel_dim].reshape(-1, cfg.mel_points, cfg.n_mels).transpose(1, 2)
        scalars = context[:, mel_dim:]
        h = self.mel_proj(self.mel_conv(mel).flatten(1)) + self.scalar_proj(scalars)
        h = self.trunk(h)
        tokens = self.to_tokens(h).reshape(-1, cfg.n_tokens, cfg.token_dim) + self.token_pos
        pooled = self.to_pooled(torch.cat([h, scalars], dim=1))
        return tokens, pooled
