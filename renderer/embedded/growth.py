"""Growing a trained embedded model by one look, keeping everything it already draws.

A look enters the model in three places: its tile and line profile (the decoder), its slot in the
prompt's meaning row (the look weights come first: :func:`renderer.embedded.vocabulary.meaning`),
which the prompt encoder, the mixer and the colour table read, and its three phase rows in the
mixer's output. :func:`add_look` widens each by one, initialised as a copy of the look the new one
moves ``like``: a meaning row without the new look reads exactly as before (its column is zero),
and the new word starts out drawing its own tile with ``like``'s phases and shading, so
fine-tuning refines a look that already works rather than learning one from nothing.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from renderer.embedded.looks.own import OwnLook


def add_look(pipe, own: OwnLook, tile: torch.Tensor):
    """A copy of ``pipe`` that also draws ``own`` (its tile: intensities ``(T, T)`` at the decoder's tile size)."""
    names = pipe.look_names
    if own.name in names:
        raise ValueError(f"the model already has a look {own.name!r}")
    like, n = names.index(own.like), len(names)
    decoder = pipe.decoder
    if tuple(tile.shape) != tuple(decoder.tiles.shape[1:]):
        raise ValueError(f"tile must be {tuple(decoder.tiles.shape[1:])}, got {tuple(tile.shape)}")
    grown_decoder = _rebuild(decoder, {
        "tiles": torch.cat([decoder.tiles.detach(), tile[None].float().to(decoder.tiles.device)]),
        "lines": torch.cat([decoder.lines.detach(), torch.zeros_like(decoder.lines[:1])]),
    }, look_names=[*names, own.name], own_looks={**(decoder.config.own_looks or {}), own.name: own.to_config()})

    meaning_dim, scalars = pipe.meaning_dim + 1, pipe.mixer.config.n_scalars
    prompt, colours, mixer = pipe.prompt_encoder, pipe.colour_table, pipe.mixer
    grown_prompt = _rebuild(prompt, _widened(prompt, "trunk.0.weight", n, like), meaning_dim=meaning_dim)
    grown_colours = _rebuild(colours, _widened(colours, "net.0.weight", scalars + n, scalars + like),
                             meaning_dim=meaning_dim)
    state = _widened(mixer, "net.0.weight", scalars + n, scalars + like)
    last, per_look = f"net.{len(mixer.net) - 1}", 3 * (mixer.config.n_bank + 1)
    for key in (f"{last}.weight", f"{last}.bias"):
        state[key] = torch.cat([state[key], state[key][like * per_look:(like + 1) * per_look]])
    grown_mixer = _rebuild(mixer, state, meaning_dim=meaning_dim, n_looks=n + 1)

    grown = copy.deepcopy(pipe)
    grown.register_modules(decoder=grown_decoder, prompt_encoder=grown_prompt, colour_table=grown_colours,
                           mixer=grown_mixer)
    return grown


def _widened(module: nn.Module, key: str, at: int, source: int) -> dict[str, torch.Tensor]:
    """``module``'s state with one more input column in ``key``, inserted at ``at``: a copy of column ``source``."""
    state = {k: v.detach().clone() for k, v in module.state_dict().items()}
    weight = state[key]
    state[key] = torch.cat([weight[:, :at], weight[:, source:source + 1], weight[:, at:]], 1)
    return state


def _rebuild(module, state: dict[str, torch.Tensor], **changes):
    """A new module of ``module``'s class, its config with ``changes``, holding ``state``."""
    config = {k: v for k, v in module.config.items() if not k.startswith("_")}
    fresh = type(module)(**{**config, **changes})
    fresh.load_state_dict(state)
    return fresh.to(next(module.parameters()).device).eval()
