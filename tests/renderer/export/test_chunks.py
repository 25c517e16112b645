"""Chunks and the coherence rule at their starts: a chunk renders alone the frames it has within the whole
export, and its first frame shows no seam (renderer/export/chunks.py, docs/scaling.md)."""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from bridge.errors import InputError
from renderer.coherence import frame_changes
from renderer.export.chunks import Chunk, chain_start, plan_chunks
from renderer.export.demo import demo_tempo_map, write_demo
from renderer.export.job import plan_export, prepare_export, render_frames
from renderer.export.request import ExportRequest
from renderer.export.timing import BarRange

SIZE = (64, 64)

STEADY_PRESET = """
name = "Steady"
description = "no feedback: strength 1 everywhere"
backend = "embedded"
palette = ["#000000", "#ffffff"]

[prompts.default]
calm = "nothing"

[reactivity.strength]
bias = 1.0
"""


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    audio, _midi, _piece = write_demo(tmp_path_factory.mktemp("demo"))
    return audio


def demo_job(demo: Path, renderer, fps: int, chunk_bars: int, bars: BarRange = BarRange()):
    request = ExportRequest(audio=demo, out_dir=demo.parent / "unused", tempo_map=demo_tempo_map(), fps=Fraction(fps),
                            size=SIZE, preset=renderer.preset.name.lower(), chunk_bars=chunk_bars, bars=bars)
    return prepare_export(request, renderer)


def rendered(job, first: int = 0, stop: int | None = None) -> list[np.ndarray]:
    return [result.frame for _, result in render_frames(job, first, job.plan.frame_count if stop is None else stop)]


# -- the plan --------------------------------------------------------------------------------------

@pytest.mark.parametrize("chunk_bars", [1, 3, 16])
def test_chunks_start_at_bar_keyframes_and_cover_every_frame_once(chunk_bars):
    plan = plan_export(demo_tempo_map(), Fraction(24), Fraction(30000, 1001))
    chunks = plan_chunks(plan, chunk_bars)
    firsts = [bar for bar in plan.bars[::chunk_bars]]
    assert [c.first_bar for c in chunks] == [bar.bar for bar in firsts]
    # the first frame at or after each first bar's start: frames before it show the bar before
    assert [c.first_frame for c in chunks] == [math.ceil(Fraction(bar.seconds) * plan.fps) for bar in firsts]
    assert [c.index for c in chunks] == list(range(len(chunks)))
    assert [f for c in chunks for f in c.frames] == list(range(plan.frame_count))
    for chunk in chunks[1:]:  # warm-up: from the bar before the chunk's first
        before = plan.tempo_map.bar(chunk.first_bar - 1)
        assert chunk.warmup_frame == math.ceil(Fraction(before.seconds) * plan.fps) < chunk.first_frame
    assert chunks[0].warmup_frame == chunks[0].first_frame == 0


def test_a_bar_range_is_chunked_from_its_first_bar():
    tempo_map = demo_tempo_map()
    plan = plan_export(tempo_map, Fraction(9), Fraction(24), BarRange(3, 8))
    chunks = plan_chunks(plan, 2)
    assert [c.first_bar for c in chunks] == [3, 5, 7]
    assert chunks[-1].stop_frame == plan.frame_count


@pytest.mark.parametrize("bars", [0, -2, 1.5, True, "4"])
def test_chunk_bars_must_be_a_whole_number_of_bars(tmp_path, bars):
    with pytest.raises(InputError, match="chunk-bars"):
        ExportRequest(audio=tmp_path / "a.wav", out_dir=tmp_path, tempo_map=demo_tempo_map(), chunk_bars=bars)


def test_the_chain_restarts_where_a_frame_reads_nothing_else_one_bar_back():
    chunk = Chunk(index=2, first_bar=9, first_frame=100, stop_frame=140, warmup_frame=80)
    assert chain_start(chunk, lambda k: True) == (80, False)  # cut one bar back
    assert chain_start(chunk, lambda k: k != 90) == (90, True)  # the latest restart within the bar
    assert chain_start(chunk, lambda k: k not in (85, 95)) == (95, True)
    assert chain_start(chunk, lambda k: k != 100) == (100, True)  # the chunk's first frame reads nothing
    assert chain_start(chunk, lambda k: k != 79) == (80, False)  # a restart before the bar is too far back
    first = Chunk(index=0, first_bar=1, first_frame=0, stop_frame=10, warmup_frame=0)
    assert chain_start(first, lambda k: True) == (0, True)  # frame 0 reads nothing


# -- the rule it relies on --------------------------------------------------------------------------------

@pytest.mark.parametrize(("preset", "skip_similar"), [("neon", 0.0), ("steady", 0.0), ("steady", 0.1)])
def test_a_frame_reads_the_previous_exactly_when_reads_previous_says_so(demo, make_renderer, tmp_path, preset,
                                                                        skip_similar):
    """Around the demo's section change (bar 5), with feedback (neon), without (strength 1), and without but
    reusing the last model frame when the conditioning barely moves (``skip_similar``)."""
    from renderer.renderer import Renderer

    if preset == "steady":
        (tmp_path / "steady.toml").write_text(STEADY_PRESET, encoding="utf-8")
        preset = str(tmp_path / "steady.toml")
    made = make_renderer(preset)
    renderer = Renderer(made.backend, made.preset, made.size, skip_similar=skip_similar)
    job = demo_job(demo, renderer, fps=6, chunk_bars=16, bars=BarRange(4, 5))
    state, reads = None, []
    for k in range(job.plan.frame_count):
        moment = job.frame_moment(k)
        chained = renderer.render(moment, state)
        fresh = renderer.render(moment, None)
        same = np.array_equal(chained.frame, fresh.frame) and np.array_equal(chained.state.model_frame,
                                                                              fresh.state.model_frame)
        reads.append(k > 0 and renderer.reads_previous(moment, job.frame_moment(k - 1)))
        assert same != reads[-1], f"frame {k}"
        state = chained.state
    sections = [job.frame_moment(k).section for k in range(job.plan.frame_count)]
    change = sections.index("drop")
    assert change > 0 and not reads[change]
    assert any(reads) == (preset == "neon" or skip_similar > 0)


# -- chunks alone and within the whole --------------------------------------------------------------------

def test_each_chunk_renders_alone_the_frames_it_has_within_the_export(demo, make_renderer):
    job = demo_job(demo, make_renderer("neon"), fps=6, chunk_bars=1)
    whole = rendered(job)
    assert len(job.chunks) == 12
    for chunk in job.chunks:
        alone = rendered(job, chunk.first_frame, chunk.stop_frame)
        assert all(np.array_equal(a, b) for a, b in zip(alone, whole[chunk.first_frame:chunk.stop_frame])), chunk


def test_chunk_boundaries_show_no_seam(demo):
    """The shipped model, whose img2img feedback chain never restarts by itself within a section, in chunks of
    2 bars. Boundaries fall on downbeats, where the music makes some of the largest changes (the neon preset
    flashes on the kick), so each boundary is also compared with an uncut chain (one chunk) at the same frames:

    - the change across a boundary is not above the 99th percentile of the other frame-to-frame changes, unless
      the uncut chain changes as much there (the downbeat's own flash);
    - the cut adds under 1% of a median frame change to it, and the boundary frame is within 2 levels of 255
      (mean) of the uncut chain's."""
    from renderer.renderer import Renderer

    renderer = Renderer.from_preset("neon", size=SIZE, device="cpu")
    job = demo_job(demo, renderer, fps=6, chunk_bars=2)
    changes = frame_changes(chunked := rendered(job))
    uncut = rendered(demo_job(demo, renderer, fps=6, chunk_bars=16))
    uncut_changes = frame_changes(uncut)
    boundaries = [chunk.first_frame for chunk in job.chunks[1:]]
    assert len(boundaries) == 5
    elsewhere = np.delete(changes, [frame - 1 for frame in boundaries])
    median = np.median(elsewhere)
    for frame in boundaries:
        change, music = changes[frame - 1], uncut_changes[frame - 1]
        assert change <= max(np.percentile(elsewhere, 99), music + 0.01 * median), frame
        assert abs(change - music) < 0.01 * median, frame
        assert np.abs(chunked[frame].astype(int) - uncut[frame]).mean() < 2.0, frame


def test_a_chunk_starting_a_section_needs_no_warm_up_and_is_the_uncut_chain(demo, make_renderer):
    """Chunks of 4 bars start at bars 1, 5 (the demo's "drop" locator) and 9: at bar 5 the feedback restarts by
    itself, so that chunk renders from no state and its frames are those of one uncut chain."""
    renderer = make_renderer("neon")
    job = demo_job(demo, renderer, fps=6, chunk_bars=4)
    at_drop, at_bar_9 = job.chunks[1], job.chunks[2]
    assert (at_drop.first_bar, at_bar_9.first_bar) == (5, 9)

    def reads(k):
        return renderer.reads_previous(job.frame_moment(k), job.frame_moment(k - 1))

    assert chain_start(at_drop, reads) == (at_drop.first_frame, True)
    assert chain_start(at_bar_9, reads) == (at_bar_9.warmup_frame, False)  # one section: cut one bar back
    uncut = rendered(demo_job(demo, renderer, fps=6, chunk_bars=16), 0, at_bar_9.first_frame)
    assert all(np.array_equal(a, b) for a, b in zip(rendered(job, at_drop.first_frame, at_bar_9.first_frame),
                                                    uncut[at_drop.first_frame:]))
