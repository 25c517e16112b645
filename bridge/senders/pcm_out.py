"""The sender's side of ``/daw/pcm`` (protocol 1.1): number the samples a source hears, cut them into blocks.

A sender hands :class:`PcmOut` each block it captured or played, in order; the samples are
numbered on the sender's own audio clock (from ``first_sample``), mixed to mono the way the
feature extractor mixes (channels averaged), turned into 16-bit PCM and cut into datagrams of
:data:`~bridge.protocol.spec.PCM_BLOCK_SAMPLES`. They travel at the source's own rate, so the
renderer analyses the samples an export of the same audio would. Samples it never got (an input
block the sound card dropped) are skipped with :meth:`PcmOut.skip`: the numbering goes on, so the
renderer sees the gap.
"""

from __future__ import annotations

import numpy as np

from bridge.features.extractor import to_mono
from bridge.pcm_stream import pcm_messages
from bridge.protocol.messages import PcmMessage
from bridge.protocol.spec import PCM_BLOCK_SAMPLES


class PcmOut:
    """Numbers and packs one source's audio as ``/daw/pcm`` messages (see the module docstring).

    Thread-safety: one thread. Realtime-safety: allocates; call it from the sender's loop, not an audio callback.
    """

    def __init__(self, sample_rate: int, first_sample: int = 0, block_samples: int = PCM_BLOCK_SAMPLES) -> None:
        self.sample_rate = int(sample_rate)
        self.next_sample = int(first_sample)
        self.block_samples = block_samples

    def messages(self, block: np.ndarray) -> tuple[PcmMessage, ...]:
        """The messages carrying ``block`` (``(samples,)`` or ``(samples, channels)``, float, already
        sanitised), numbered on from the last block."""
        mono = to_mono(block)
        out = pcm_messages(self.next_sample, self.sample_rate, mono, self.block_samples)
        self.next_sample += len(mono)
        return tuple(out)

    def skip(self, samples: int) -> None:
        """``samples`` were lost before they reached this sender: leave their numbers out."""
        self.next_sample += int(samples)
