"""Training is seeded, resumable to the same result, and lowers the loss."""

from __future__ import annotations

from dataclasses import fields

import numpy as np
import pytest
import torch

from renderer.embedded import tiny_pipeline
from renderer.embedded.context import CONTEXT_DIM
from renderer.embedded.data import Dataset
from renderer.embedded.looks import LOOKS, N_BANK
from renderer.embedded.training import CHECKPOINT, TrainConfig, batch_loss, make_batch, train


def dataset(n: int = 64) -> Dataset:
    rng = np.random.default_rng(0)
    return Dataset(rng.random((n, CONTEXT_DIM), dtype=np.float32), np.repeat(np.arange(4), n // 4),
                   rng.random(n) * 10)


def config(steps: int, **changes) -> TrainConfig:
    settings = {"steps": steps, "batch_size": 4, "warmup_steps": 2, "checkpoint_every": 2, "threads": 1,
                "learning_rate": 2e-3, "grids": ((64, 64, 1.0),)}
    return TrainConfig(**{**settings, **changes})


def tensors(batch) -> list[torch.Tensor]:
    """Every tensor of a training batch, its targets included."""
    return [batch.context, batch.meaning, batch.noise, batch.bank, batch.t,
            *(getattr(batch.wanted, f.name) for f in fields(batch.wanted))]


def test_batches_are_a_function_of_seed_and_step() -> None:
    pipe, data = tiny_pipeline(0), dataset()
    a = make_batch(pipe, data, 5, config(8))
    b = make_batch(pipe, data, 5, config(8))
    c = make_batch(pipe, data, 6, config(8))
    assert all(torch.equal(x, y) for x, y in zip(tensors(a), tensors(b)))
    assert not torch.equal(a.noise, c.noise)
    assert a.noise.shape == (4, 6, 64, 64) and a.wanted.shading.shape == (4, 4, 64, 64)
    assert a.wanted.coefficients.shape == (4, len(LOOKS), 3, N_BANK) and a.meaning.shape == (4, 36)
    assert a.wanted.table.shape == (4, 128, 3)
    assert torch.allclose(a.meaning[:, :len(LOOKS)].sum(1), torch.ones(4))  # every prompt row's looks sum to 1


def test_batches_come_in_several_aspects() -> None:
    pipe, data = tiny_pipeline(0), dataset()
    wide = config(8, grids=((64, 64, 0.5), (64, 112, 0.5)))
    shapes = {tuple(make_batch(pipe, data, step, wide).noise.shape[-2:]) for step in range(12)}
    assert shapes == {(64, 64), (64, 112)}
    loss, parts = batch_loss(pipe, make_batch(pipe, data, next(s for s in range(12) if tuple(
        make_batch(pipe, data, s, wide).noise.shape[-2:]) == (64, 112)), wide), wide)
    assert torch.isfinite(loss) and set(parts) == {"shading", "table", "phase"}


def test_resumed_run_equals_uninterrupted_run(tmp_path) -> None:
    data = dataset()
    straight, _ = train(tiny_pipeline(0), data, tmp_path / "a", config(6), progress=False, log=lambda _: None)
    train(tiny_pipeline(0), data, tmp_path / "b", config(6), progress=False, log=lambda _: None, stop_at=4)
    assert (tmp_path / "b" / CHECKPOINT).is_file()
    resumed, state = train(tiny_pipeline(1), data, tmp_path / "b", config(6), resume=True, progress=False,
                           log=lambda _: None)
    assert state.step == 6
    for name in ("unet", "mixer", "prompt_encoder", "colour_table"):
        for p, q in zip(getattr(straight, name).parameters(), getattr(resumed, name).parameters()):
            torch.testing.assert_close(p, q, rtol=1e-5, atol=1e-6)


def test_loss_goes_down(tmp_path) -> None:
    _, state = train(tiny_pipeline(0), dataset(), tmp_path, config(40, learning_rate=5e-3), progress=False)
    assert np.mean(state.losses[-8:]) < 0.8 * np.mean(state.losses[:4])


def test_a_finetuning_run_is_shorter_and_gentler_than_one_from_scratch():
    from renderer.embedded.training import train_config

    scratch = train_config(steps=None, seed=3)
    tune = train_config(finetune=True, seed=3)
    assert scratch == TrainConfig(seed=3)
    assert sum(share for *_, share in scratch.grids) == pytest.approx(1.0)
    assert tune.steps < scratch.steps and tune.learning_rate < scratch.learning_rate
    assert tune.warmup_steps < scratch.warmup_steps and tune.procedural_fraction == 1.0
    with_pairs = train_config(finetune=True, user_pairs=True)
    assert 0.0 < with_pairs.procedural_fraction < 1.0  # the user's pictures fill the rest of each batch
    assert train_config(finetune=True, steps=10, batch_size=4).steps == 10


def test_finetuning_on_pairs_moves_the_frames_towards_the_pictures(tmp_path) -> None:
    """The user's pairs (here: every moment paired with a plain orange picture) pull the frames the
    model draws for those moments towards the pictures."""
    data = dataset()
    orange = np.broadcast_to(np.array([230, 120, 20], np.uint8), (16, 64, 64, 3)).copy()
    user = Dataset(data.context[:16], data.source[:16], data.seconds[:16], images=orange)
    pipe = tiny_pipeline(0)

    def error(model) -> float:
        noise = torch.randn(model.noise_shape(16, 64, 64), generator=torch.Generator().manual_seed(9))
        frames = model(user.context, noise=noise, height=64, width=64).images
        return float(np.abs(frames - orange / 255.0).mean())

    before = error(pipe)
    tuned, _ = train(pipe, data, tmp_path, config(30, learning_rate=5e-3, procedural_fraction=0.25), user=user,
                     progress=False)
    assert error(tuned) < 0.7 * before
