"""PcmStream: /daw/pcm blocks back in sample order, gaps filled and counted, host time from the arrivals."""

from __future__ import annotations

import random

import numpy as np
import pytest

from bridge.protocol.decode import decode
from bridge.protocol.encode import encode
from bridge.pcm_stream import PcmStats, PcmStream, pcm_messages, pcm_samples, to_int16

RATE = 8000
BLOCK = 100  # samples per block: 12.5 ms at 8 kHz


def song(n: int, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).integers(-30000, 30000, n).astype(np.int16)


def blocks(samples: np.ndarray, first: int = 0) -> list[tuple[int, np.ndarray]]:
    return [(first + k, samples[k:k + BLOCK]) for k in range(0, len(samples), BLOCK)]


def feed(stream: PcmStream, arrivals: list[tuple[int, np.ndarray, float]]) -> list:
    out = []
    for first, samples, arrival in arrivals:
        out += stream.add(first, RATE, samples, arrival)
    return out


def joined(released: list) -> np.ndarray:
    return np.concatenate([b.samples for b in released])


def sent_on_time(parts: list[tuple[int, np.ndarray]], delay: float = 0.001, zero: float = 100.0) -> list:
    """Each block arrives ``delay`` after its last sample was captured, sample 0 being at host ``zero``."""
    return [(first, samples, zero + (first + len(samples)) / RATE + delay) for first, samples in parts]


def test_in_order_blocks_come_out_at_once_and_unchanged():
    audio = song(1000)
    stream = PcmStream()
    out = feed(stream, sent_on_time(blocks(audio, 5000)))
    assert np.array_equal(joined(out), audio) and not any(b.gap for b in out)
    assert [b.first_sample for b in out] == list(range(5000, 6000, BLOCK))
    assert stream.stats == PcmStats(blocks=10, samples=1000)


def test_host_time_is_the_least_delayed_blocks_line():
    """Sample k at host_zero + k / rate, host_zero the least delayed block's arrival - end / rate over the
    last 2 s: blocks held up (behind a transport, by a busy machine) or sent in a catch-up burst say nothing."""
    stream = PcmStream()
    parts = sent_on_time(blocks(song(8000 * 3)), delay=0.0)  # 3 s of 12.5 ms blocks
    jitter = random.Random(3)
    delays = [0.002 + jitter.random() * 0.03 for _ in parts]
    delays[17] = 0.0005  # one block came almost at once
    arrivals = [(f, s, a + d) for (f, s, a), d in zip(parts, delays)]
    out = feed(stream, arrivals[:100])
    assert stream.host_zero == pytest.approx(100.0005, abs=1e-9)
    assert out[20].host_seconds == pytest.approx(100.0005 + 2000 / RATE, abs=1e-9)
    feed(stream, arrivals[100:])  # 2 s on, that block has left the window: the least delayed of the rest counts
    recent = [d for (_, _, a), d in zip(arrivals, delays) if a >= arrivals[-1][2] - 2.0]
    assert stream.host_zero == pytest.approx(100.0 + min(recent), abs=1e-9) and min(recent) > 0.002


def test_a_reordered_block_is_put_back_in_place_and_counted():
    audio = song(1000)
    arrivals = sent_on_time(blocks(audio))
    arrivals[3], arrivals[4] = arrivals[4], arrivals[3]
    stream = PcmStream(reorder_seconds=0.05)
    out = feed(stream, arrivals)
    assert np.array_equal(joined(out), audio)
    assert stream.stats.reordered == 1 and stream.stats.gaps == 0


def test_a_lost_block_becomes_flagged_silence_once_the_reorder_window_passed():
    audio = song(2000)
    arrivals = sent_on_time(blocks(audio))
    del arrivals[5]  # samples 500..599 never arrive
    stream = PcmStream(reorder_seconds=0.03)
    out = feed(stream, arrivals)
    gaps = [b for b in out if b.gap]
    assert [(b.first_sample, len(b.samples)) for b in gaps] == [(500, 100)] and not gaps[0].samples.any()
    expected = audio.copy()
    expected[500:600] = 0
    assert np.array_equal(joined(out), expected)
    assert (stream.stats.gaps, stream.stats.gap_samples, stream.stats.samples) == (1, 100, 1900)
    # the missing block turns up after all: too late, its place went out as silence
    assert stream.add(500, RATE, audio[500:600], 200.0) == [] and stream.stats.late == 1


def test_duplicates_are_dropped_and_counted():
    audio = song(500)
    arrivals = sent_on_time(blocks(audio))
    stream = PcmStream()
    out = feed(stream, arrivals[:3] + [arrivals[1]] + arrivals[3:] + [arrivals[4]])
    assert np.array_equal(joined(out), audio) and stream.stats.duplicates == 2


def test_a_waiting_duplicate_is_dropped_too():
    audio = song(500)
    a = sent_on_time(blocks(audio))
    stream = PcmStream(reorder_seconds=1.0)
    out = feed(stream, [a[0], a[2], a[2], a[1], a[3], a[4]])
    assert np.array_equal(joined(out), audio) and stream.stats.duplicates == 1 and stream.stats.reordered == 1


def test_overlapping_blocks_are_cut_where_the_stream_already_is():
    audio = song(600)
    stream = PcmStream()
    out = feed(stream, [(0, audio[:300], 1.0), (200, audio[200:450], 1.01), (450, audio[450:], 1.02)])
    assert np.array_equal(joined(out), audio)


def test_numbering_that_jumps_ahead_or_a_new_rate_starts_a_new_stream():
    stream = PcmStream(restart_seconds=1.0)
    feed(stream, sent_on_time(blocks(song(300))))
    out = stream.add(RATE * 60, RATE, song(100), 200.0)  # a minute on: the sender skipped a minute
    assert out[0].first_sample == RATE * 60 and stream.stats.restarts == 1 and stream.stats.gaps == 0
    assert stream.add(100, RATE, song(100), 200.1) == []  # a straggler from long ago is no restart
    assert stream.stats.restarts == 1 and stream.stats.duplicates == 1
    out = stream.add(0, 16000, song(100), 201.0)
    assert out[0].sample_rate == 16000 and stream.stats.restarts == 2


def test_flush_releases_what_waits_behind_a_hole():
    audio = song(400)
    a = sent_on_time(blocks(audio))
    stream = PcmStream(reorder_seconds=10.0)
    assert len(feed(stream, [a[0], a[2], a[3]])) == 1
    out = stream.flush()
    assert [b.gap for b in out] == [True, False, False] and joined(out).shape == (300,)


def test_random_loss_reorder_and_duplicates_keep_every_surviving_sample_in_place():
    audio = song(20000, seed=9)
    rng = random.Random(12)
    arrivals = [p for p in sent_on_time(blocks(audio)) if rng.random() > 0.05]
    for k in range(len(arrivals) - 1):
        if rng.random() < 0.05:
            arrivals[k], arrivals[k + 1] = arrivals[k + 1], arrivals[k]
    arrivals += [arrivals[rng.randrange(len(arrivals))] for _ in range(10)]
    stream = PcmStream(reorder_seconds=0.05)
    out = feed(stream, arrivals) + stream.flush()
    got = joined(out)
    assert len(got) == len(audio)
    real = np.concatenate([np.full(len(b.samples), not b.gap) for b in out])
    assert np.array_equal(got[real], audio[real])  # every real sample where it belongs
    assert not got[~real].any()
    s = stream.stats
    assert s.samples + s.gap_samples == len(audio) and s.samples == int(real.sum())
    assert s.duplicates + s.late >= 10 and s.gaps > 0 and s.reordered > 0


def test_messages_split_encode_and_decode_back_to_the_samples():
    audio = np.sin(np.linspace(0, 50, 1300)).astype(np.float32)
    messages = pcm_messages(777, 22050, audio, block_samples=512)
    assert [m.first_sample for m in messages] == [777, 777 + 512, 777 + 1024]
    back = np.concatenate([pcm_samples(decode(encode(m)).samples) for m in messages])
    assert np.array_equal(back, to_int16(audio)) and np.abs(back / 32767.0 - audio).max() < 1e-4
    assert to_int16(np.array([2.0, -2.0, np.nan])).tolist() == [32767, -32768, 0]
