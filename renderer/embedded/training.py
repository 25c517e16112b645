"""Training the embedded model: from scratch on procedural targets, or fine-tuning on user pairs.

Every step is a pure function of ``(seed, step)``: its batch, noise and timesteps come from a
generator seeded with both, so a run resumed from a checkpoint continues exactly as if it had
never stopped. Checkpoints (model, EMA, optimiser, step) are written to a temporary name and
renamed. The loss is MSE on the clean sample (``prediction_type="sample"``); a share of steps
start at the terminal timestep (pure noise, what 1-step sampling sees) and a share are
img2img steps whose starting image was drawn for a different moment with the same noise.
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

from bridge.files import atomic_output
from renderer.embedded.correspondence import target_images
from renderer.embedded.data import Dataset

CHECKPOINT = "checkpoint.pt"


@dataclass(frozen=True)
class TrainConfig:
    steps: int = 2400
    batch_size: int = 32
    learning_rate: float = 6e-4
    warmup_steps: int = 200
    weight_decay: float = 1e-4
    ema_decay: float = 0.998
    terminal_fraction: float = 0.35  # steps at the last timestep (pure noise in)
    img2img_fraction: float = 0.25  # steps starting from another moment's picture
    img2img_max_timestep: int = 800
    checkpoint_every: int = 200
    seed: int = 0
    threads: int = 2
    procedural_fraction: float = 1.0  # fine-tuning: share of each batch drawn from procedural targets

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


def make_batch(pipe, data: Dataset, step: int, config: TrainConfig, user: Dataset | None = None
               ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """(context, noisy sample, timesteps, clean target), all determined by (seed, step)."""
    g = torch.Generator().manual_seed(config.seed * 1_000_003 + step)
    b = config.batch_size
    size = pipe.model_size
    n_user = 0 if user is None else int(round(b * (1 - config.procedural_fraction)))
    idx = torch.randint(0, len(data), (b - n_user,), generator=g).numpy()
    context = torch.from_numpy(data.context[idx])
    noise = torch.randn(b, 3, size, size, generator=g)
    target = target_images(context, noise[: b - n_user])
    if n_user:
        uidx = torch.randint(0, len(user), (n_user,), generator=g).numpy()
        context = torch.cat([context, torch.from_numpy(user.context[uidx])])
        user_img = torch.from_numpy(user.images[uidx]).permute(0, 3, 1, 2).float() / 255.0
        if user_img.shape[-1] != size:
            user_img = F.interpolate(user_img, size=(size, size), mode="area")
        target = torch.cat([target, user_img])
    target = target * 2 - 1
    sched = pipe.scheduler
    T = sched.config.num_train_timesteps
    t = torch.randint(0, T, (b,), generator=g)
    terminal = torch.rand(b, generator=g) < config.terminal_fraction
    t = torch.where(terminal, torch.full_like(t, T - 1), t)
    start = target.clone()
    img2img = (torch.rand(b, generator=g) < config.img2img_fraction) & ~terminal
    img2img[b - n_user:] = False
    if img2img.any():
        other = torch.from_numpy(data.context[torch.randint(0, len(data), (b,), generator=g).numpy()])
        # near moments: blend the two rows so both small and large changes are seen
        mix = torch.rand(b, 1, generator=g)
        blended = (1 - mix) * context[: b] + mix * other
        source = target_images(blended[: b - n_user], noise[: b - n_user]) * 2 - 1
        start[: b - n_user] = torch.where(img2img[: b - n_user, None, None, None], source, start[: b - n_user])
        t = torch.where(img2img, torch.randint(1, config.img2img_max_timestep, (b,), generator=g), t)
    folded_start = pipe.fold_image(start)
    folded_noise = pipe.fold_image(noise)
    noisy = sched.add_noise(folded_start, folded_noise, t)
    return context, noisy, t, pipe.fold_image(target)


def _save_checkpoint(path: Path, pipe, ema: dict[str, Any], optimizer, state: TrainState, config: TrainConfig) -> None:
    payload = {
        "unet": pipe.unet.state_dict(),
        "audio_encoder": pipe.audio_encoder.state_dict(),
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
    out.unet.load_state_dict(ema["unet"])
    out.audio_encoder.load_state_dict(ema["audio_encoder"])
    out.unet.eval()
    out.audio_encoder.eval()
    return out


def _ema_update(ema: dict[str, dict[str, torch.Tensor]], pipe, decay: float) -> None:
    """Move the EMA copies of the UNet and audio encoder towards their current weights."""
    with torch.no_grad():
        for name, module in (("unet", pipe.unet), ("audio_encoder", pipe.audio_encoder)):
            for key, value in module.state_dict().items():
                shadow = ema[name][key]
                if value.dtype.is_floating_point:
                    shadow.mul_(decay).add_(value.detach(), alpha=1 - decay)
                else:
                    shadow.copy_(value)


def _write_log(out_dir: Path, config: TrainConfig, state: TrainState) -> None:
    (out_dir / "train_log.json").write_text(json.dumps({
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
    torch.set_num_threads(config.threads)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    ckpt_path = out_dir / CHECKPOINT
    params = list(pipe.unet.parameters()) + list(pipe.audio_encoder.parameters())
    optimizer = torch.optim.AdamW(params, lr=config.learning_rate, weight_decay=config.weight_decay)
    state = TrainState()
    if resume and ckpt_path.is_file():
        ckpt = torch.load(ckpt_path, map_location="cpu", weights_only=True)
        if ckpt["config"] != config.to_dict():
            changed = sorted(k for k in ckpt["config"] if ckpt["config"][k] != config.to_dict().get(k))
            log(f"resuming with changed settings: {', '.join(changed)}")
        pipe.unet.load_state_dict(ckpt["unet"])
        pipe.audio_encoder.load_state_dict(ckpt["audio_encoder"])
        optimizer.load_state_dict(ckpt["optimizer"])
        ema = ckpt["ema"]
        state = TrainState(step=int(ckpt["step"]), losses=list(ckpt["losses"]), seconds=float(ckpt["seconds"]))
        log(f"resumed from {ckpt_path} at step {state.step}")
    else:
        ema = {"unet": copy.deepcopy(pipe.unet.state_dict()),
               "audio_encoder": copy.deepcopy(pipe.audio_encoder.state_dict())}
    pipe.unet.train()
    pipe.audio_encoder.train()

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
        context, noisy, t, target = make_batch(pipe, data, state.step, config, user)
        tokens, pooled = pipe.audio_encoder(context)
        pred = pipe.unet(noisy, t, encoder_hidden_states=tokens, class_labels=pooled).sample
        loss = F.mse_loss(pred, target)
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
            bar.set_postfix(loss=f"{running:.4f}", lr=f"{lr_at(state.step, config):.1e}")
        if state.step % config.checkpoint_every == 0 or state.step == last:
            _save_checkpoint(ckpt_path, pipe, ema, optimizer, state, config)
    if bar is not None:
        bar.close()
    _write_log(out_dir, config, state)
    pipe.unet.eval()
    pipe.audio_encoder.eval()
    return ema_pipeline(pipe, ema), state
