"""The diffusers backend's stream path against the plain diffusers pipeline it replaces, stream batch,
the CPU fallbacks of CUDA-only techniques, skipping near-identical frames and queued (submitted) frames."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from renderer.conditioning import SeedWalk, conditioning_change
from renderer.moment import moment_at
from renderer.presets import load_preset
from renderer.renderer import Renderer

SIZE = (64, 64)


def mean_abs(a, b) -> float:
    return float(np.mean(np.abs(np.asarray(a, np.float32) - np.asarray(b, np.float32))))


def backend(settings=None, **overrides):
    """A diffusers backend on the CPU from ``settings`` (e.g. a preset's) with ``overrides``."""
    from renderer.backends.diffusers import DiffusersBackend

    return DiffusersBackend(**{**(settings or {}), **overrides, "device": "cpu"})


@pytest.mark.parametrize("preset", ["turbo", "turbo-xl"])
def test_one_step_text_to_image_matches_the_diffusers_pipeline(fake_hub, tempo_map, tracks, preset):
    """Same weights, same noise: the stream path's tensor maths gives the pipeline's frame (Euler, trailing)."""
    config = load_preset(preset).backend_config
    moment = moment_at(tempo_map, tracks["clicks"], 1.0)
    stream = Renderer(backend(config.to_dict()), load_preset(preset), SIZE)
    plain = Renderer(backend(config.to_dict(), stream=False), load_preset(preset), SIZE)
    a, b = stream.render(moment).frame, plain.render(moment).frame
    assert a.std() > 1.0 and mean_abs(a, b) < 0.5  # uint8 levels: rounding only


def test_img2img_feedback_stays_close_to_the_previous_frame_at_low_strength(fake_hub, tempo_map, tracks):
    renderer = Renderer.from_preset("turbo", size=SIZE, device="cpu")
    # the previous frame comes from other noise (another seed), so only the feedback can bring the next one near it
    other = Renderer(renderer.backend, renderer.preset, SIZE, seed=renderer.seed + 1)
    first = other.render(moment_at(tempo_map, tracks["steady"], 1.0))
    moment = moment_at(tempo_map, tracks["steady"], 1.0 + 1 / 30)
    fed = renderer.render(moment, first.state).frame
    fresh = renderer.render(moment).frame  # the same moment without the previous frame
    assert mean_abs(fed, first.frame) < mean_abs(fresh, first.frame)


def test_stream_batch_gives_each_request_its_sequential_frame_steps_minus_one_calls_later(tempo_map):
    """Four LCM steps: one batched UNet call per frame, each request's picture three calls later, equal
    (up to float rounding) to the four steps run one after another."""
    common = dict(model="sd15-lcm", random_weights=True, reduced=True, vae="taesd", steps=4)
    batched, sequential = backend(stream_batch=True, **common), backend(**common)
    assert batched.frames_late == 3 and sequential.frames_late == 0
    preset = load_preset("turbo")
    requests = [moment_at(tempo_map, None, 0.5 + k * 0.6) for k in range(6)]  # no feedback: txt2img each
    plain = [Renderer(sequential, preset, SIZE).render(m).frame for m in requests]
    streamed = [Renderer(batched, preset, SIZE).render(m).frame for m in requests]
    for k in range(3, 6):
        assert mean_abs(streamed[k], plain[k - 3]) < 0.5
    assert mean_abs(streamed[0], plain[0]) < 0.5  # primed: the first frames show the first request


def test_cuda_only_techniques_are_off_on_the_cpu_and_the_frame_is_the_same(fake_hub, tempo_map):
    on = Renderer.from_preset("turbo", size=SIZE, device="cpu")
    assert on.backend.config.cuda_graphs and on.backend.describe()["in_force"]["cuda_graphs"] is False
    off = Renderer(backend(on.backend.config.to_dict(), cuda_graphs=False, channels_last=False),
                   on.preset, SIZE)
    moment = moment_at(tempo_map, None, 0.5)
    assert mean_abs(on.render(moment).frame, off.render(moment).frame) < 0.5


def test_prompt_caching_off_gives_the_same_frame(fake_hub, tempo_map):
    cached = Renderer.from_preset("turbo", size=SIZE, device="cpu")
    uncached = Renderer(backend(cached.backend.config.to_dict(), cache_prompts=False), cached.preset, SIZE)
    moment = moment_at(tempo_map, None, 0.5)
    assert np.array_equal(cached.render(moment).frame, uncached.render(moment).frame)
    assert cached.backend._embeds and not uncached.backend._embeds


def test_submitted_frames_equal_rendered_ones(fake_hub, tempo_map, tracks):
    renderer = Renderer.from_preset("turbo", size=SIZE, device="cpu")
    moments = [moment_at(tempo_map, tracks["clicks"], 1.0 + k / 30) for k in range(3)]
    state, rendered = None, []
    for m in moments:
        result = renderer.render(m, state)
        state, rendered = result.state, rendered + [result.frame]
    state, pending = None, []
    for m in moments:  # queue all three before reading any
        job = renderer.submit(m, state)
        state, pending = job.state, pending + [job]
    assert all(np.array_equal(job.result().frame, frame) for job, frame in zip(pending, rendered))


def test_skip_similar_reuses_the_model_frame_only_when_the_conditioning_barely_moves(fake_hub, tempo_map, tracks):
    steady = [moment_at(tempo_map, tracks["steady"], 1.0 + k / 240) for k in range(4)]  # 1/8 of a beat apart
    renderer = Renderer.from_preset("turbo", size=SIZE, device="cpu")
    skipping = Renderer(renderer.backend, renderer.preset, SIZE, skip_similar=0.05)
    state = None
    for m in steady:
        state = skipping.render(m, state).state
    assert skipping.skipped == 3
    cond = skipping.condition(steady[0])
    other_bar = dataclasses.replace(cond, walk=SeedWalk(1, 2, cond.walk.position, 3, 0.0))
    assert conditioning_change(cond, cond) == 0.0 and conditioning_change(cond, other_bar) == float("inf")
    other_anchor = dataclasses.replace(cond, walk=dataclasses.replace(cond.walk, anchor_seed=cond.walk.anchor_seed + 1))
    drifted = dataclasses.replace(cond, walk=dataclasses.replace(cond.walk, drift=cond.walk.drift + 0.2))
    assert conditioning_change(cond, other_anchor) == float("inf")
    assert conditioning_change(cond, drifted) == pytest.approx(0.2)
    state = None
    for m in steady:
        state = renderer.render(m, state).state
    assert renderer.skipped == 0
