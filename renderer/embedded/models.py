"""The audio encoder: a conditioning vector -> cross-attention tokens + a pooled embedding.

The vector is :func:`renderer.embedded.context.audio_context`'s output: a past window of
log-mel frames (read by a small 1-D conv stack over time) plus the scalar block
(loudness, brightness, noisiness, onset density, chroma, beat/bar phase). The tokens
feed the UNet's cross-attention; the pooled vector is added to its timestep embedding
(``class_embed_type="projection"``), so every ResNet block sees the global qualities.
"""

from __future__ import annotations

import math

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


class PromptEncoder(ModelMixin, ConfigMixin):
    """The embedded "text encoder": a prompt's meaning row -> one cross-attention token + a pooled vector.

    The row (:func:`renderer.embedded.vocabulary.meaning`) is look weights, palette stops, scale
    and motion, so this is a learned embedding of the vocabulary's words: each look word gets its
    own vector, palettes are embedded by their colours, and blends are blends of embeddings.
    """

    config_name = "config.json"

    @register_to_config
    def __init__(self, meaning_dim: int = 36, token_dim: int = 64, pooled_dim: int = 64, hidden_dim: int = 128) -> None:
        super().__init__()
        self.trunk = nn.Sequential(nn.Linear(meaning_dim, hidden_dim), nn.GELU(), nn.Linear(hidden_dim, hidden_dim),
                                   nn.GELU())
        self.to_token = nn.Linear(hidden_dim, token_dim)
        self.to_pooled = nn.Linear(hidden_dim, pooled_dim)

    def forward(self, meaning: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.trunk(meaning)
        return self.to_token(h).unsqueeze(1), self.to_pooled(h)


class PhaseMixer(ModelMixin, ConfigMixin):
    """Audio scalars + prompt meaning -> every look's phase coefficients ``(B, n_looks, 3, n_bank)``.

    The phases are linear in the layout bank (:mod:`renderer.embedded.looks.layout`), so the
    mixer only decides *how much* of each field, per frame: line density from the onsets, the
    beat's jolts from its phase, rotations, drift. The constant field (bank slot 0) is an offset
    that matters modulo one cycle; it is predicted as a unit vector (cos, sin), so an offset that
    travels a whole cycle per beat is a smooth function of the beat's phase.
    """

    config_name = "config.json"

    @register_to_config
    def __init__(self, n_scalars: int = 20, meaning_dim: int = 36, n_looks: int = 10, n_bank: int = 12,
                 hidden_dim: int = 256) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(n_scalars + meaning_dim, hidden_dim), nn.GELU(),
                                 nn.Linear(hidden_dim, hidden_dim), nn.GELU(),
                                 nn.Linear(hidden_dim, hidden_dim), nn.GELU(),
                                 nn.Linear(hidden_dim, n_looks * 3 * (n_bank + 1)))

    def heads(self, scalars: torch.Tensor, meaning: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(fields (B, L, 3, n_bank - 1), offset (B, L, 3, 2))``: the non-constant coefficients and the
        offset as (cos, sin) of its angle."""
        cfg = self.config
        out = self.net(torch.cat([scalars, meaning], 1)).view(-1, cfg.n_looks, 3, cfg.n_bank + 1)
        return out[..., 2:], out[..., :2]

    def forward(self, scalars: torch.Tensor, meaning: torch.Tensor) -> torch.Tensor:
        fields, offset = self.heads(scalars, meaning)
        one = torch.atan2(offset[..., 1:2], offset[..., 0:1]) / (2 * math.pi)
        return torch.cat([one, fields], -1)


class ColourTable(ModelMixin, ConfigMixin):
    """Audio scalars + prompt meaning -> the frame's colour table ``(B, size, 3)``: the palette as the
    documented correspondence colours it (light from loudness, temperature from brightness, the
    highlights' hue from the chord). The shading fields pick tones along it."""

    config_name = "config.json"

    @register_to_config
    def __init__(self, n_scalars: int = 20, meaning_dim: int = 36, size: int = 128, hidden_dim: int = 256) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(n_scalars + meaning_dim, hidden_dim), nn.GELU(),
                                 nn.Linear(hidden_dim, hidden_dim), nn.GELU(),
                                 nn.Linear(hidden_dim, size * 3))

    def forward(self, scalars: torch.Tensor, meaning: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([scalars, meaning], 1)).view(-1, self.config.size, 3)
