"""One audio sanitiser: every sample Barlight takes in passes :class:`SampleCheck` once.

Audio files and streams can hold NaN or infinite samples (a broken plug-in, a float file
written wrong) and absurd amplitudes (garbage read as float, a +300 dB spike). Unchecked,
they turn features into NaN or infinity, the video encoder refuses them and JSON cannot
hold them. Every reader (``analyze``, ``export``, the file and audio-input senders, training
data) cleans its samples here, once, and reports once per file or stream:

- a non-finite sample becomes 0;
- a sample beyond ±:data:`MAX_AMPLITUDE` is limited to it. Float mixes do go above 1.0 (a hot
  master), but never by 24 dB; beyond that it is corrupt data, not music.

The report is an :class:`bridge.errors.InputWarning` (the CLI prints it as one line).
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass

import numpy as np

from bridge.errors import InputWarning

#: The largest sample magnitude taken as it is: +24 dBFS. Larger ones are limited to it (and reported).
MAX_AMPLITUDE = 16.0


@dataclass
class SampleCheck:
    """Counts and repairs the bad samples of one file or stream (see the module docstring).

    Thread-safety: one stream per instance. Realtime-safety: allocates only when a block needs repair.
    """

    nonfinite: int = 0  #: NaN/inf samples replaced by 0
    limited: int = 0  #: samples beyond ±MAX_AMPLITUDE limited to it
    _warned: bool = False

    def clean(self, samples: np.ndarray) -> np.ndarray:
        """``samples`` as float32, with non-finite samples set to 0 and magnitudes limited to MAX_AMPLITUDE
        (a copy only when something was repaired); the counts grow by what was repaired."""
        array = np.asarray(samples, dtype=np.float32)
        bad = ~np.isfinite(array)
        nonfinite = int(np.count_nonzero(bad))
        if nonfinite:
            array = np.where(bad, np.float32(0.0), array)
        loud = np.abs(array) > MAX_AMPLITUDE
        limited = int(np.count_nonzero(loud))
        if limited:
            array = np.clip(array, -MAX_AMPLITUDE, MAX_AMPLITUDE)
        self.nonfinite += nonfinite
        self.limited += limited
        return array

    def describe(self) -> str | None:
        """What was repaired, in words; None when nothing was."""
        parts = []
        if self.nonfinite:
            parts.append(f"replaced {self.nonfinite} NaN/inf sample{'s' if self.nonfinite != 1 else ''} by 0")
        if self.limited:
            parts.append(f"limited {self.limited} sample{'s' if self.limited != 1 else ''} beyond "
                         f"±{MAX_AMPLITUDE:g} (+24 dBFS) to it")
        return "; ".join(parts) or None

    def warn(self, where: str | os.PathLike[str]) -> None:
        """Report the repairs as one :class:`InputWarning` naming ``where``: the first call that finds any
        does, later calls stay silent (a stream reports once, as it starts going wrong)."""
        text = self.describe()
        if text is not None and not self._warned:
            self._warned = True
            warnings.warn(InputWarning(where, text), stacklevel=2)
