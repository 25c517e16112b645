"""Training is seeded, resumable to the same result, and lowers the loss."""

from __future__ import annotations

import numpy as np
import torch

from renderer.embedded import tiny_pipeline
from renderer.embedded.context import CONTEXT_DIM
from renderer.embedded.data import Dataset
from renderer.embedded.training import CHECKPOINT, TrainConfig, make_batch, train


def dataset(n: int = 64) -> Dataset:
    rng = np.random.default_rng(0)
    return Dataset(rng.random((n, CONTEXT_DIM), dtype=np.float32), np.repeat(np.arange(4), n // 4),
                   rng.random(n) * 10)


def config(steps: int) -> TrainConfig:
    return TrainConfig(steps=steps, batch_size=4, warmup_steps=2, checkpoint_every=2, threads=1, learning_rate=2e-3)


def test_batches_are_a_function_of_seed_and_step() -> None:
    pipe, data = tiny_pipeline(0), dataset()
    a = make_batch(pipe, data, 5, config(8))
    b = make_batch(pipe, data, 5, config(8))
    c = make_batch(pipe, data, 6, config(8))
    assert all(torch.equal(x, y) for x, y in zip(a, b))
    assert not torch.equal(a[1], c[1])
    assert a[1].shape == (4, 48, 8, 8) and a[3].shape == (4, 48, 8, 8)


def test_resumed_run_equals_uninterrupted_run(tmp_path) -> None:
    data = dataset()
    straight, _ = train(tiny_pipeline(0), data, tmp_path / "a", config(6), progress=False, log=lambda _: None)
    train(tiny_pipeline(0), data, tmp_path / "b", config(6), progress=False, log=lambda _: None, stop_at=4)
    assert (tmp_path / "b" / CHECKPOINT).is_file()
    resumed, state = train(tiny_pipeline(1), data, tmp_path / "b", config(6), resume=True, progress=False,
                           log=lambda _: None)
    assert state.step == 6
    for p, q in zip(straight.unet.parameters(), resumed.unet.parameters()):
        torch.testing.assert_close(p, q, rtol=1e-5, atol=1e-6)


def test_loss_goes_down(tmp_path) -> None:
    _, state = train(tiny_pipeline(0), dataset(), tmp_path, config(40), progress=False)
    assert np.mean(state.losses[-8:]) < 0.8 * np.mean(state.losses[:4])


def test_a_finetuning_run_is_shorter_and_gentler_than_one_from_scratch():
    from renderer.embedded.training import train_config

    scratch = train_config(steps=None, seed=3)
    tune = train_config(finetune=True, seed=3)
    assert scratch == TrainConfig(seed=3)
    assert tune.steps < scratch.steps and tune.learning_rate < scratch.learning_rate
    assert tune.warmup_steps < scratch.warmup_steps and tune.procedural_fraction == 1.0
    with_pairs = train_config(finetune=True, user_pairs=True)
    assert 0.0 < with_pairs.procedural_fraction < 1.0  # the user's pictures fill the rest of each batch
    assert train_config(finetune=True, steps=10, batch_size=4).steps == 10
