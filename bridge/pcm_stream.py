"""``/daw/pcm`` back into one stream per sender: sample order, gaps, duplicates, and each sample's host time.

A sender numbers its samples on its own audio clock (each block's ``first_sample``). :class:`PcmStream`
takes the blocks as they arrive and releases :class:`PcmBlock` values in sample order:

- a block that arrives after a hole waits up to ``reorder_seconds`` for the hole to fill (``reordered``
  counts blocks that came after a later one and were still used);
- a hole still open then is filled with silence, released as a block flagged ``gap`` (``gaps``,
  ``gap_samples``); a block arriving for it afterwards is dropped as ``late``;
- a block whose samples were all released already is a ``duplicate``;
- numbering that jumps ahead by more than ``restart_seconds``, or a new sample rate, starts a new stream
  (``restarts``); within a session the numbering only goes forward, so a block far behind is a straggler
  (late or duplicate), never a restart.

Host time: a sender sends the audio up to its playhead with its transport, so ``arrival - end / rate``
is the host time of sample 0 plus that block's delay: the network, and on a busy machine whatever
held the block up behind the transport sent just before it (the receiver waking up, another
process). No block arrives before its samples were played, so the least delayed block of the last
``line_seconds`` bounds it best: sample ``k`` sits at ``host_zero + k / rate``, ``host_zero`` the
minimum. That matches the transport clock's anchor (a step's transport goes first and is seldom
held up), and the receiver's clock turns the host time into a beat. On loopback, with the
machine's two cores loaded nine-fold, the two agree to a millisecond or two (tests/renderer/preview).

Pure and socket-free: the receiver owns one stream per session (:mod:`bridge.receiver`); tests drive it.
"""

from __future__ import annotations

import dataclasses
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from bridge.protocol.messages import PcmMessage
from bridge.protocol.spec import PCM_BLOCK_SAMPLES

#: Wire format of ``/daw/pcm`` samples: 16-bit signed, big-endian (OSC's byte order).
WIRE_DTYPE = np.dtype(">i2")


def pcm_samples(data: bytes) -> np.ndarray:
    """The int16 samples a ``/daw/pcm`` blob carries (native byte order, read-only)."""
    samples = np.frombuffer(data, WIRE_DTYPE).astype(np.int16)
    samples.setflags(write=False)
    return samples


def to_int16(samples: np.ndarray) -> np.ndarray:
    """Mono samples as int16: floats (full scale ±1) scaled, rounded and clipped; int16 as they are."""
    array = np.asarray(samples)
    if array.dtype == np.int16:
        return array
    if array.dtype.kind != "f":
        raise TypeError(f"PCM samples must be float or int16, got dtype {array.dtype}")
    return np.clip(np.rint(np.nan_to_num(array, nan=0.0) * 32767.0), -32768, 32767).astype(np.int16)


def pcm_messages(first_sample: int, sample_rate: int, samples: np.ndarray,
                 block_samples: int = PCM_BLOCK_SAMPLES) -> list[PcmMessage]:
    """``/daw/pcm`` messages carrying mono ``samples`` (float ±1 or int16) numbered from ``first_sample``,
    ``block_samples`` per datagram. Pure."""
    wire = to_int16(samples).astype(WIRE_DTYPE)
    return [PcmMessage(int(first_sample) + start, int(sample_rate), wire[start:start + block_samples].tobytes())
            for start in range(0, len(wire), block_samples)]


@dataclass(frozen=True, eq=False)
class PcmBlock:
    """Consecutive mono samples of one stream, released in order: ``samples`` (int16, read-only) whose
    first is number ``first_sample`` at ``sample_rate`` Hz and sits at ``host_seconds``; ``gap``: silence
    standing in for samples that never arrived."""

    first_sample: int
    sample_rate: int
    samples: np.ndarray
    host_seconds: float
    gap: bool = False

    @property
    def end_sample(self) -> int:
        """The number of the sample after the last."""
        return self.first_sample + len(self.samples)


@dataclass(frozen=True)
class PcmStats:
    """What a stream (or, summed, a receiver) made of its ``/daw/pcm`` blocks; see the module docstring."""

    blocks: int = 0
    samples: int = 0  #: real samples released
    gaps: int = 0
    gap_samples: int = 0
    reordered: int = 0
    duplicates: int = 0
    late: int = 0
    restarts: int = 0

    def __add__(self, other: PcmStats) -> PcmStats:
        return PcmStats(*(a + b for a, b in zip(dataclasses.astuple(self), dataclasses.astuple(other))))

    @classmethod
    def total(cls, stats: Iterable[PcmStats]) -> PcmStats:
        return sum(stats, cls())


class PcmStream:
    """One sender's ``/daw/pcm`` blocks in, :class:`PcmBlock` values out in sample order (module docstring).

    Thread-safety: one thread (the receiver's). Realtime-safety: O(blocks waiting) per block, no I/O.
    """

    def __init__(self, reorder_seconds: float = 0.05, restart_seconds: float = 2.0, line_seconds: float = 2.0,
                 remembered_gaps: int = 64) -> None:
        self.reorder_seconds = reorder_seconds
        self.restart_seconds = restart_seconds
        self.line_seconds = line_seconds
        self.sample_rate: int | None = None
        self.next_sample = 0  #: the first sample not released yet
        self._stats = PcmStats()
        self._highest = 0
        self._waiting: dict[int, tuple[np.ndarray, float]] = {}
        self._gaps: deque[tuple[int, int]] = deque(maxlen=remembered_gaps)
        self._line: deque[tuple[float, float]] = deque()  # (arrival, host zero): the window's increasing minima

    @property
    def stats(self) -> PcmStats:
        return self._stats

    @property
    def host_zero(self) -> float:
        """Host seconds of sample 0 on the stream's line (NaN before any block)."""
        return self._line[0][1] if self._line else float("nan")

    def host_seconds(self, sample: float) -> float:
        """Host seconds of sample number ``sample`` on the stream's line."""
        return self.host_zero + sample / (self.sample_rate or 1)

    def add(self, first_sample: int, sample_rate: int, samples: np.ndarray, arrival_seconds: float) -> list[PcmBlock]:
        """Take one block that arrived at ``arrival_seconds``; return the blocks now released, in order."""
        samples = np.asarray(samples, np.int16)
        if not len(samples):
            return []
        released: list[PcmBlock] = []
        if sample_rate != self.sample_rate or first_sample - self.next_sample > self.restart_seconds * sample_rate:
            released = self._restart(first_sample, sample_rate)
        self._observe_line(first_sample + len(samples), arrival_seconds)
        end = first_sample + len(samples)
        if end <= self.next_sample:
            late = any(start < end and first_sample < stop for start, stop in self._gaps)
            self._count(late=1) if late else self._count(duplicates=1)
            return released
        if first_sample in self._waiting:
            self._count(duplicates=1)
            return released
        if first_sample < self._highest:
            self._count(reordered=1)
        self._highest = max(self._highest, first_sample)
        self._count(blocks=1)
        self._wait(first_sample, samples, arrival_seconds)
        return released + self._release(arrival_seconds)

    def flush(self) -> list[PcmBlock]:
        """Release every waiting block, filling the holes before them with silence (the sender said bye)."""
        return self._release(float("inf"))

    # -- inside ---------------------------------------------------------------------------------------

    def _count(self, **changes: int) -> None:
        self._stats = dataclasses.replace(self._stats, **{k: getattr(self._stats, k) + v for k, v in changes.items()})

    def _restart(self, first_sample: int, sample_rate: int) -> list[PcmBlock]:
        released = self.flush() if self.sample_rate is not None else []
        if self.sample_rate is not None:
            self._count(restarts=1)
        self.sample_rate = int(sample_rate)
        self.next_sample = self._highest = int(first_sample)
        self._gaps.clear()
        self._line.clear()
        return released

    def _observe_line(self, end_sample: int, arrival: float) -> None:
        """The minimum of ``arrival - end / rate`` over the last ``line_seconds`` (a monotonic queue)."""
        zero = arrival - end_sample / (self.sample_rate or 1)
        while self._line and self._line[-1][1] >= zero:
            self._line.pop()
        self._line.append((arrival, zero))
        while self._line[0][0] < arrival - self.line_seconds:
            self._line.popleft()

    def _wait(self, first_sample: int, samples: np.ndarray, arrival: float) -> None:
        """Keep a block until its turn; the part of it before :attr:`next_sample` (an overlap) is cut off."""
        if first_sample < self.next_sample:
            samples, first_sample = samples[self.next_sample - first_sample:], self.next_sample
        self._waiting[first_sample] = (samples, arrival)

    def _release(self, now: float) -> list[PcmBlock]:
        released = []
        while self._waiting:
            for first in [k for k in self._waiting if k < self.next_sample]:  # overlapped by what went out
                samples, arrival = self._waiting.pop(first)
                if first + len(samples) > self.next_sample:
                    self._wait(first, samples, arrival)
            entry = self._waiting.pop(self.next_sample, None)
            if entry is not None:
                released.append(self._block(entry[0], gap=False))
                continue
            if not self._waiting or now - min(a for _, a in self._waiting.values()) < self.reorder_seconds:
                break
            hole = min(self._waiting) - self.next_sample
            self._gaps.append((self.next_sample, self.next_sample + hole))
            self._count(gaps=1, gap_samples=hole)
            released.append(self._block(np.zeros(hole, np.int16), gap=True))
        return released

    def _block(self, samples: np.ndarray, gap: bool) -> PcmBlock:
        samples = np.array(samples, np.int16)
        samples.setflags(write=False)
        block = PcmBlock(self.next_sample, int(self.sample_rate or 0), samples,
                         self.host_seconds(self.next_sample), gap)
        if not gap:
            self._count(samples=len(samples))
        self.next_sample = block.end_sample
        return block
