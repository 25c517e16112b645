"""The phase decoder: phase and shading fields on the layout grid + a colour table -> pixels at any size.

It holds every look's tile and line profile (:class:`renderer.embedded.looks.Look`) as small
tables. At each output pixel it reads the upsampled phases (bicubic, so level lines stay smooth
curves), looks up ``tile(frac u1, frac u2) + line(frac u3)`` for every look in the blend, weighs
them by the look weights, and lights the frame's colour table at the upsampled tones::

    I = sum_l w_l * clamp(tile_l + line_l, 0, 1)
    frame = table(base_tone) * base_level + table(line_tone) * line_level * I

brought into 0..1 by moving over-bright colours towards the grey of equal luma
(:func:`renderer.embedded.looks.colour.fit_gamut`), so clipping never makes a louder frame darker.

Fine structure is therefore drawn at the output's own resolution: a line is a fixed share of a
period wide at 256 and at 4096 pixels. This is the only per-pixel work of the embedded model.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.modeling_utils import ModelMixin
from torch import nn

from renderer.embedded.looks.colour import fit_gamut


class PhaseDecoder(ModelMixin, ConfigMixin):
    """``forward(phases (B, L, 3, h, w), look_weights (B, L), shading (B, 4, h, w), table (B, T, 3), height, width)
    -> (B, 3, H, W)``."""

    config_name = "config.json"

    @register_to_config
    def __init__(self, look_names: Sequence[str] = (), tile_size: int = 128, line_size: int = 256,
                 own_looks: dict[str, dict] | None = None) -> None:
        """``own_looks``: the looks made from a user's images (:class:`renderer.embedded.looks.own.OwnLook`
        configs by name); every other name is a built-in look."""
        super().__init__()
        n = len(look_names)
        self.tiles = nn.Parameter(torch.zeros(n, tile_size, tile_size))
        self.lines = nn.Parameter(torch.zeros(n, line_size))

    @classmethod
    def from_looks(cls, looks, tile_size: int = 128, line_size: int = 256) -> "PhaseDecoder":
        """A decoder holding ``looks``' tiles and profiles, sampled at cell centres."""
        decoder = cls(look_names=[look.name for look in looks], tile_size=tile_size, line_size=line_size)
        u = (torch.arange(tile_size, dtype=torch.float32) + 0.5) / tile_size
        u1, u2 = torch.meshgrid(u, u, indexing="ij")
        v = (torch.arange(line_size, dtype=torch.float32) + 0.5) / line_size
        with torch.no_grad():
            for i, look in enumerate(looks):
                decoder.tiles[i] = look.tile(u1, u2).clamp(0.0, 1.0)
                decoder.lines[i] = look.line(v).clamp(0.0, 1.0)
        return decoder

    @property
    def look_names(self) -> tuple[str, ...]:
        return tuple(self.config.look_names)

    @property
    def own_look_names(self) -> tuple[str, ...]:
        """The names of the looks made from a user's images, in the model's order."""
        own = self.config.own_looks or {}
        return tuple(name for name in self.look_names if name in own)

    def looks(self) -> tuple:
        """The :class:`renderer.embedded.looks.Look` of each of this decoder's looks, in its order."""
        from renderer.embedded.looks import LOOKS
        from renderer.embedded.looks.own import OwnLook

        own = self.config.own_looks or {}
        built_in = {look.name: look for look in LOOKS}
        return tuple(OwnLook.from_config(name, own[name]).look(self.tiles[i].detach(), LOOKS) if name in own
                     else built_in[name] for i, name in enumerate(self.look_names))

    def intensity(self, phases: torch.Tensor, look: int) -> torch.Tensor:
        """``(B, 1, H, W)`` intensity of look ``look`` from its pixel phases ``(B, 3, H, W)``.

        The table cells are found in float and read with one int32 ``index_select`` per table: the same
        values as int64 indexing, about a third faster at 1280 x 720."""
        t, p = self.tiles.shape[-1], self.lines.shape[-1]
        in_place = not torch.is_grad_enabled()  # rendering; fine-tuning differentiates through the tables
        line = self.lines[look]
        has_line = bool(line.any())  # looks without a third phase skip its lookup
        used = phases if has_line else phases[:, 0:2]
        with torch.no_grad():  # which cells: no gradient flows through an index
            sizes = torch.tensor([t, t, p][:used.shape[1]], dtype=used.dtype, device=used.device).view(1, -1, 1, 1)
            cells = (used - torch.floor(used)).mul_(sizes).floor_().nan_to_num_(0.0)  # a non-finite phase: cell 0
            cells = torch.minimum(cells, sizes - 1, out=cells)
            index = cells[:, 0:1].mul(t).add_(cells[:, 1:2]).to(torch.int32)
        tile = self.tiles[look].flatten().index_select(0, index.view(-1)).view(index.shape)
        if has_line:
            lit = line.index_select(0, cells[:, 2:3].to(torch.int32).view(-1)).view(index.shape)
            tile = tile.add_(lit) if in_place else tile + lit
        return tile.clamp_(0.0, 1.0) if in_place else tile.clamp(0.0, 1.0)

    def forward(self, phases: torch.Tensor, look_weights: torch.Tensor, shading: torch.Tensor, table: torch.Tensor,
                height: int, width: int) -> torch.Tensor:
        b, n_looks = look_weights.shape
        if phases.shape[:3] != (b, n_looks, 3) or n_looks != self.tiles.shape[0]:
            raise ValueError(f"phases must be (B, {self.tiles.shape[0]}, 3, h, w), got {tuple(phases.shape)}")
        # Rendering works on the full-size tensors it just made, in place: a fresh 1280x720 tensor per step
        # cost a fifth of the decoder's time (the same values). Fine-tuning differentiates through it: not there.
        in_place = not torch.is_grad_enabled()

        def times(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
            return a.mul_(b) if in_place else a * b

        def plus(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
            return a.add_(b) if in_place else a + b

        light = None
        for look in torch.nonzero(look_weights.amax(0) > 1e-3).flatten().tolist():
            px = smooth_upsample(phases[:, look], height, width)
            term = times(self.intensity(px, look), look_weights[:, look].view(-1, 1, 1, 1))
            light = term if light is None else plus(light, term)
        shading = F.interpolate(shading, size=(height, width), mode="bilinear", align_corners=False)
        base = times(lookup(table, shading[:, 0:1]), shading[:, 2:3])
        if light is not None:
            base = plus(base, times(lookup(table, shading[:, 1:2]), times(shading[:, 3:4], light)))
        return fit_gamut(base.clamp_(min=0.0) if in_place else base.clamp(min=0.0), inplace=in_place)


def smooth_upsample(grid: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Fields ``(B, C, h, w)`` at ``height`` x ``width``: bicubic to at most twice the grid, then bilinear.

    Bicubic keeps level lines smooth curves; the bilinear second stage (cells of a few pixels over a
    bicubic field) costs less than half a full-size bicubic and leaves no visible kink."""
    h, w = grid.shape[-2:]
    mid = (min(height, 2 * h), min(width, 2 * w))
    grid = F.interpolate(grid, size=mid, mode="bicubic", align_corners=False)
    if mid == (height, width):
        return grid
    return F.interpolate(grid, size=(height, width), mode="bilinear", align_corners=False)


def lookup(table: torch.Tensor, tone: torch.Tensor) -> torch.Tensor:
    """Colours ``(B, 3, H, W)`` of per-sample tables ``(B, T, 3)`` at tones ``(B, 1, H, W)`` (nearest entry)."""
    b, t, _ = table.shape
    h, w = tone.shape[-2:]
    index = (tone.clamp(0.0, 1.0) * (t - 1) + 0.5).long().view(b, 1, h * w).expand(b, 3, h * w)
    return torch.gather(table.transpose(1, 2), 2, index).view(b, 3, h, w)
