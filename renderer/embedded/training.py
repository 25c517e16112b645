"""Training the embedded model: from scratch on the looks' targets, or fine-tuning.

Every step is a pure function of ``(seed, step)``: its rows, prompts, noise and timesteps come
from generators seeded with both, so a run resumed from a checkpoint continues exactly as if it
had never stopped. Checkpoints (model, EMA, optimiser, step) are written to a temporary name and
renamed.

A batch: conditioning rows from the songs, prompts drawn the way presets write them (a look
word, maybe a palette, texture and motion word, sometimes a blend of two), composition noise on
the layout grid of a square, wide or tall frame. The looks' recipes
(:func:`renderer.embedded.looks.targets`) give what the model must predict: every look's phase
coefficients (the mixer's target; offsets compared as angles) and the blended colour fields (the
UNet's clean sample, ``prediction_type="sample"``; a share of steps start at the terminal
timestep: pure noise, what one-step sampling sees).
"""

from __future__ import annotations

import copy
import json
import math
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
import torch.nn.functional as F

from bridge.files import atomic_output, write_atomic
from renderer.devices import apply_cpu_policy
from renderer.embedded.data import Dataset

CHECKPOINT = "checkpoint.pt"


@dataclass(frozen=True)
class TrainConfig:
    steps: int = 1600
    batch_size: int = 24
    learning_rate: float = 6e-4
    warmup_steps: int = 100
    weight_decay: float = 1e-4
    ema_decay: float = 0.998
    terminal_fraction: float = 0.5  # rows at the last timestep (pure noise in)
    mixer_weight: float = 1.0  # phase-coefficient loss relative to the colour loss
    checkpoint_every: int = 100
    seed: int = 0
    threads: int = 1  # on a shared 2-core CPU one thread trains faster than two
    procedural_fraction: float = 1.0  # fine-tuning: share of each batch drawn from procedural targets
    grids: tuple[tuple[int, int, float], ...] = ((64, 64, 0.6), (64, 112, 0.3), (112, 64, 0.1))  # (rows, cols, share)
    focus: tuple[str, ...] = ()  # fine-tuning new looks: their words ...
    focus_fraction: float = 0.5  # ... name the look of this share of the batch's prompts

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


#: What fine-tuning changes from training from scratch: fewer steps, a lower peak learning rate, a short warm-up.
FINETUNE_SETTINGS: dict[str, Any] = {"steps": 600, "learning_rate": 2e-4, "warmup_steps": 50}
#: Share of each fine-tuning batch still drawn from procedural targets when the user's own pairs are given.
USER_PROCEDURAL_FRACTION = 0.25


def train_config(finetune: bool = False, user_pairs: bool = False, **settings: Any) -> TrainConfig:
    """The settings of a run from scratch or a fine-tuning one (with or without the user's pairs);
    ``settings`` that are not None (steps, batch_size, seed, threads ...) override them."""
    plan: dict[str, Any] = {}
    if finetune:
        plan = {**FINETUNE_SETTINGS, "procedural_fraction": USER_PROCEDURAL_FRACTION if user_pairs else 1.0}
    return TrainConfig(**{**plan, **{k: v for k, v in settings.items() if v is not None}})


@dataclass
class TrainState:
    step: int = 0
    losses: list[float] = field(default_factory=list)
    seconds: float = 0.0


def lr_at(step: int, config: TrainConfig) -> float:
    """Linear warm-up, then cosine decay to 5 % of the peak."""
    if step < config.warmup_steps:
        return config.learning_rate * (step + 1) / config.warmup_steps
    progress = (step - config.warmup_steps) / max(1, config.steps - config.warmup_steps)
    return config.learning_rate * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress))))


TRAINED = ("unet", "audio_encoder", "prompt_encoder", "mixer", "colour_table", "decoder")  # the components training changes


@dataclass(frozen=True)
class Batch:
    """One step's inputs and targets: ``context`` (B, D), ``meaning`` (B, M), ``noise`` (B, 6, h, w), its
    layout ``bank`` (B, N_BANK, h, w), ``t`` (B,) timesteps and what the looks' recipes want
    (:class:`renderer.embedded.looks.Targets`)."""

    context: torch.Tensor
    meaning: torch.Tensor
    noise: torch.Tensor
    bank: torch.Tensor
    t: torch.Tensor
    wanted: Any


def make_batch(pipe, data: Dataset, step: int, config: TrainConfig) -> Batch:
    """The batch of ``step``, determined by ``(config.seed, step)``."""
    from renderer.embedded.looks import layout_bank, scene_from_context, targets
    from renderer.embedded.vocabulary import draw_blend, draw_prompt, encode_prompts, meaning

    seed = config.seed * 1_000_003 + step
    g = torch.Generator().manual_seed(seed)
    rng = np.random.default_rng(seed)
    b = config.batch_size
    looks, vocabulary = pipe.looks, pipe.vocabulary
    idx = torch.randint(0, len(data), (b,), generator=g).numpy()
    context = torch.from_numpy(data.context[idx]).float()

    def blend() -> list[tuple[str, float]]:
        if config.focus and rng.random() < config.focus_fraction:
            return [(draw_prompt(rng, vocabulary, look=config.focus[int(rng.integers(len(config.focus)))]), 1.0)]
        return draw_blend(rng, vocabulary)

    rows = np.stack([meaning(encode_prompts(blend(), vocabulary), vocabulary, looks) for _ in range(b)])
    mean = torch.from_numpy(rows)
    n_looks = len(looks)
    stops = mean[:, n_looks:-2].view(b, -1, 3)
    scene = scene_from_context(context, palette=stops, scale=mean[:, -2], motion=mean[:, -1])
    shares = torch.tensor([share for *_, share in config.grids])
    rows_, cols, _ = config.grids[int(torch.multinomial(shares, 1, generator=g))]
    noise = torch.randn(b, 6, rows_, cols, generator=g)
    bank = layout_bank(noise)
    wanted = targets(mean[:, :n_looks], scene, bank, looks)
    T = pipe.scheduler.config.num_train_timesteps
    t = torch.randint(0, T, (b,), generator=g)
    t = torch.where(torch.rand(b, generator=g) < config.terminal_fraction, torch.full_like(t, T - 1), t)
    return Batch(context, mean, noise, bank, t, wanted)


def batch_loss(pipe, batch: Batch, config: TrainConfig) -> tuple[torch.Tensor, dict[str, float]]:
    """Shading MSE on the clean sample, the colour table's MSE and the mixer's coefficient loss
    (offsets as unit vectors)."""
    wanted = batch.wanted
    noise = batch.noise[:, :wanted.shading.shape[1]]
    noisy = pipe.scheduler.add_noise(wanted.shading, noise, batch.t)
    tokens, pooled = pipe.conditioning(batch.context, batch.meaning)
    pred = pipe.denoise(pipe.unet_input(noisy, batch.bank), batch.t, tokens, pooled)
    shading = F.mse_loss(pred, wanted.shading)
    scalars = batch.context[:, -pipe.mixer.config.n_scalars:]
    table = F.mse_loss(pipe.colour_table(scalars, batch.meaning), wanted.table)
    fields, offset = pipe.mixer.heads(scalars, batch.meaning)
    angle = 2 * math.pi * wanted.coefficients[..., 0]
    phase = (F.mse_loss(fields, wanted.coefficients[..., 1:])
             + F.mse_loss(offset, torch.stack([torch.cos(angle), torch.sin(angle)], -1)))
    loss = shading + table + config.mixer_weight * phase
    return loss, {"shading": shading.item(), "table": table.item(), "phase": phase.item()}


def user_loss(pipe, user: Dataset, step: int, config: TrainConfig) -> torch.Tensor:
    """Fine-tuning on a user's audio + image pairs: the frame the model draws for a pair's moment
    (empty prompt, 64 x 64) against the user's image. Gradients reach the shading (UNet), the colour
    table and the default look's tile and profile; the phases keep their layout."""
    g = torch.Generator().manual_seed(config.seed * 1_000_003 + step + 7)
    b = max(1, int(round(config.batch_size * (1 - config.procedural_fraction))))
    idx = torch.randint(0, len(user), (b,), generator=g).numpy()
    context = torch.from_numpy(user.context[idx]).float()
    image = torch.from_numpy(user.images[idx]).permute(0, 3, 1, 2).float() / 255.0
    size = image.shape[-1]
    meaning = pipe.default_meaning(b)
    noise = torch.randn(pipe.noise_shape(b, size, size), generator=g)
    fields = pipe.fields(context, meaning, noise, num_inference_steps=1)
    frame = pipe.decoder(fields.phases.detach(), fields.look_weights, fields.shading, fields.table, size, size)
    return F.mse_loss(frame, image)


def _save_checkpoint(path: Path, pipe, ema: dict[str, Any], optimizer, state: TrainState, config: TrainConfig) -> None:
    payload = {
        **{name: getattr(pipe, name).state_dict() for name in TRAINED},
        "ema": ema,
        "optimizer": optimizer.state_dict(),
        "step": state.step,
        "losses": state.losses,
        "seconds": state.seconds,
        "config": config.to_dict(),
    }
    with atomic_output(path) as tmp:
        torch.save(payload, tmp)


def ema_pipeline(pipe, ema: dict[str, Any]):
    """A copy of ``pipe`` carrying the EMA weights (what is evaluated and exported)."""
    out = copy.deepcopy(pipe)
    for name in TRAINED:
        getattr(out, name).load_state_dict(ema[name])
        getattr(out, name).eval()
    return out


def _ema_update(ema: dict[str, dict[str, torch.Tensor]], pipe, decay: float) -> None:
    """Move the EMA copies of the trained components towards their current weights."""
    with torch.no_grad():
        for name in TRAINED:
            for key, value in getattr(pipe, name).state_dict().items():
                shadow = ema[name][key]
                if value.dtype.is_floating_point:
                    shadow.mul_(decay).add_(value.detach(), alpha=1 - decay)
                else:
                    shadow.copy_(value)


def _write_log(out_dir: Path, config: TrainConfig, state: TrainState) -> None:
    write_atomic(out_dir / "train_log.json", json.dumps({
        "config": config.to_dict(), "steps": state.step, "train_seconds": state.seconds,
        "loss_first_100": float(np.mean(state.losses[:100])) if state.losses else None,
        "loss_last_100": float(np.mean(state.losses[-100:])) if state.losses else None,
        "torch_threads": torch.get_num_threads(),
    }, indent=1) + "\n")


def train(pipe, data: Dataset, out_dir: str | os.PathLike, config: TrainConfig, resume: bool = False,
          user: Dataset | None = None, progress: bool = True,
          log: Callable[[str], None] = print, stop_at: int | None = None):
    """Train ``pipe`` in place; returns (EMA pipeline, state). Checkpoints go to ``out_dir/checkpoint.pt``.

    ``stop_at`` ends this session early at that step (checkpointed), as an interruption would.
    """
    apply_cpu_policy(config.threads, where="threads")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    ckpt_path = out_dir / CHECKPOINT
    params = [p for name in TRAINED for p in getattr(pipe, name).parameters()]
    optimizer = torch.optim.AdamW(params, lr=config.learning_rate, weight_decay=config.weight_decay)
    state = TrainState()
    if resume and ckpt_path.is_file():
        ckpt = torch.load(ckpt_path, map_location="cpu", weights_only=True)
        if ckpt["config"] != config.to_dict():
            changed = sorted(k for k in ckpt["config"] if ckpt["config"][k] != config.to_dict().get(k))
            log(f"resuming with changed settings: {', '.join(changed)}")
        for name in TRAINED:
            getattr(pipe, name).load_state_dict(ckpt[name])
        optimizer.load_state_dict(ckpt["optimizer"])
        ema = ckpt["ema"]
        state = TrainState(step=int(ckpt["step"]), losses=list(ckpt["losses"]), seconds=float(ckpt["seconds"]))
        log(f"resumed from {ckpt_path} at step {state.step}")
    else:
        ema = {name: copy.deepcopy(getattr(pipe, name).state_dict()) for name in TRAINED}
    for name in TRAINED:
        getattr(pipe, name).train()

    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=config.steps, initial=state.step, desc="train", unit="step", dynamic_ncols=True)
    started = time.perf_counter() - state.seconds
    running = None
    last = config.steps if stop_at is None else min(stop_at, config.steps)
    while state.step < last:
        for group in optimizer.param_groups:
            group["lr"] = lr_at(state.step, config)
        loss, parts = batch_loss(pipe, make_batch(pipe, data, state.step, config), config)
        if user is not None:
            pixels = user_loss(pipe, user, state.step, config)
            loss, parts = loss + pixels, {**parts, "user": pixels.item()}
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        _ema_update(ema, pipe, min(config.ema_decay, (1 + state.step) / (10 + state.step)))
        value = loss.item()
        running = value if running is None else 0.98 * running + 0.02 * value
        state.step += 1
        state.losses.append(value)
        state.seconds = time.perf_counter() - started
        if bar is not None:
            bar.update(1)
            bar.set_postfix(loss=f"{running:.4f}", **{k: f"{v:.4f}" for k, v in parts.items()},
                            lr=f"{lr_at(state.step, config):.1e}")
        if state.step % config.checkpoint_every == 0 or state.step == last:
            _save_checkpoint(ckpt_path, pipe, ema, optimizer, state, config)
    if bar is not None:
        bar.close()
    _write_log(out_dir, config, state)
    for name in TRAINED:
        getattr(pipe, name).eval()
    return ema_pipeline(pipe, ema), state
