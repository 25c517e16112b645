"""Tempo and phase of a MIDI clock from tick timestamps: a line fit over a sliding window.

Tick ``n`` (a running count, 24 per quarter note) arrives at ``seconds_n``. Timestamps
jitter by a millisecond or two (USB frames, the OS scheduler, a loaded CPU), so
tick-to-tick intervals are useless for tempo (±8 BPM at 120 BPM). :class:`ClockFit`
fits ``seconds = origin + period * n`` by least squares over the last ``max_ticks``
ticks, drops late outliers (a scheduler stall delays a tick, it never hurries one),
and watches each new tick against the line: three ticks in a row off the line on the
same side beyond the jitter means a real tempo change, and the window restarts at the
change point found by a two-segment fit; a parabola over the recent ticks follows ramps.
A restart after a gap (the clock stopped) keeps the last tempo as a prior while the new
window is still short; ticks delivered in a burst (a stalled driver) are counted, not fitted.

Pure: no clock, no ports; the caller passes every timestamp (seconds, any origin).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np

TICKS_PER_BEAT = 24
#: Fits outside this tempo range are not a clock but a burst of queued ticks or a stall (Link clamps to 20..999).
MIN_BPM, MAX_BPM = 20.0, 999.0
_MIN_SECONDS_PER_TICK = 60.0 / (TICKS_PER_BEAT * MAX_BPM)
_MAX_SECONDS_PER_TICK = 60.0 / (TICKS_PER_BEAT * MIN_BPM)
#: A tick this soon after the previous one (seconds) was queued, not timed: 999 BPM ticks are 2.5 ms apart.
BURST_SECONDS = 0.001


@dataclass(frozen=True)
class ClockLine:
    """A fitted clock: tick ``n`` falls at ``pivot_seconds + spt * x + curvature * x**2``, ``x = n - pivot_tick``.

    The pivot is the newest tick, so ``seconds_per_tick`` and :attr:`bpm` are the tempo now
    (a ramp has ``curvature`` != 0). ``bpm_error`` is one standard error of ``bpm`` (BPM);
    ``jitter_seconds`` the standard deviation of the residuals.
    """

    pivot_tick: float
    pivot_seconds: float
    seconds_per_tick: float
    ticks: int
    bpm_error: float
    jitter_seconds: float = 0.0
    curvature: float = 0.0

    @property
    def bpm(self) -> float:
        return 60.0 / (TICKS_PER_BEAT * self.seconds_per_tick)

    def seconds_at(self, tick: float) -> float:
        x = tick - self.pivot_tick
        return self.pivot_seconds + x * (self.seconds_per_tick + self.curvature * x)

    def tick_at(self, seconds: float) -> float:
        """The (fractional) tick count at ``seconds`` on this line; inverse of :meth:`seconds_at`."""
        d = seconds - self.pivot_seconds
        root = self.seconds_per_tick ** 2 + 4.0 * self.curvature * d
        if self.curvature == 0.0 or root <= 0.0:
            return self.pivot_tick + d / self.seconds_per_tick
        return self.pivot_tick + 2.0 * d / (self.seconds_per_tick + math.sqrt(root))


def _fit(ticks: np.ndarray, seconds: np.ndarray) -> tuple[float, float, float]:
    """Least-squares ``seconds = a + b * ticks`` -> (a, b, residual standard deviation)."""
    n = len(ticks)
    k_mean = ticks.mean()
    s_mean = seconds.mean()
    dk = ticks - k_mean
    sxx = float(dk @ dk)
    b = float(dk @ (seconds - s_mean)) / sxx
    a = s_mean - b * k_mean
    residuals = seconds - (a + b * ticks)
    sigma = math.sqrt(float(residuals @ residuals) / max(1, n - 2))
    return float(a), b, sigma


def _ramp_fit(x: np.ndarray, seconds: np.ndarray, t_min: float) -> tuple[float, float, float, float, float] | None:
    """Quadratic ``seconds = a + b x + c x**2`` when its curvature is significant (|t| > t_min), else None.

    Returns (a, b, c, standard error of b, residual sum of squares).
    """
    n = len(x)
    if n < 24:
        return None
    design = np.stack((np.ones(n), x, x * x), axis=1)
    coef, *_ = np.linalg.lstsq(design, seconds, rcond=None)
    residuals = seconds - design @ coef
    sigma = math.sqrt(float(residuals @ residuals) / (n - 3))
    covariance = np.linalg.inv(design.T @ design) * max(sigma, 1e-5) ** 2
    if abs(coef[2]) < t_min * math.sqrt(covariance[2, 2]):
        return None
    return float(coef[0]), float(coef[1]), float(coef[2]), math.sqrt(covariance[1, 1]), float(residuals @ residuals)


def _best_split(ticks: np.ndarray, seconds: np.ndarray, last_candidates: int) -> tuple[int, float]:
    """Index where a two-line fit (before / from it) has the least squared error, and that error."""
    n = len(ticks)
    # prefix sums make every candidate split an O(1) pair of fits
    sums = [np.concatenate(([0.0], np.cumsum(v))) for v in
            (np.ones(n), ticks, seconds, ticks * ticks, ticks * seconds, seconds * seconds)]

    def sse(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        c, sk, ss, skk, sks, sss = (s[hi] - s[lo] for s in sums)
        sxx = skk - sk * sk / c
        sxy = sks - sk * ss / c
        syy = sss - ss * ss / c
        with np.errstate(divide="ignore", invalid="ignore"):
            out = syy - np.where(sxx > 0, sxy * sxy / sxx, 0.0)
        return np.maximum(out, 0.0)

    candidates = np.arange(max(3, n - last_candidates), n - 2)
    if len(candidates) == 0:
        return max(0, n - 3), math.inf
    total = sse(np.zeros_like(candidates), candidates) + sse(candidates, np.full_like(candidates, n))
    best = int(np.argmin(total))
    return int(candidates[best]), float(total[best])


class ClockFit:
    """Streaming tempo/phase estimate from clock-tick timestamps (see module doc).

    Thread-safety: none; one thread feeds and reads. Realtime-safety: O(window) numpy work per tick.
    """

    def __init__(self, max_ticks: int = 192, min_jitter_seconds: float = 0.001,
                 change_ticks: int = 3, gap_ticks: float = 6.0, ramp_t: float = 5.0,
                 ramp_ticks: int = 72, step_ratio: float = 0.5) -> None:
        if max_ticks < 6:
            raise ValueError(f"max_ticks must be at least 6, got {max_ticks}")
        self.max_ticks = max_ticks
        self.min_jitter_seconds = min_jitter_seconds
        self.change_ticks = change_ticks
        self.gap_ticks = gap_ticks
        self.ramp_t = ramp_t
        self.ramp_ticks = ramp_ticks
        self.step_ratio = step_ratio
        self.count = -1  # running tick count of the last tick
        self.changes = 0  # tempo changes detected
        self.bursts = 0  # ticks that arrived on top of the previous one (not fitted)
        self._last_arrival: float | None = None
        self._window: deque[tuple[int, float]] = deque(maxlen=max_ticks)
        self._line: ClockLine | None = None
        self._prior: ClockLine | None = None
        self._scale = min_jitter_seconds
        self._off_line: list[int] = []  # signs of the recent ticks that left the line

    # -- feeding ----------------------------------------------------------------------------

    def tick(self, seconds: float) -> int:
        """Record a clock tick at ``seconds``; returns its running count."""
        last_arrival, self._last_arrival = self._last_arrival, float(seconds)
        if last_arrival is not None and 0.0 <= seconds - last_arrival < BURST_SECONDS:
            # ticks queued by a stalled driver arrive together: count them, fit none of them
            self.count += 1
            self.bursts += 1
            self.restart()
            return self.count
        line = self._line
        if self._window:
            last_seconds = self._window[-1][1]
            period = line.seconds_per_tick if line else (self._prior.seconds_per_tick if self._prior else 0.0208)
            if seconds - last_seconds > self.gap_ticks * period or seconds < last_seconds:
                self.restart()
        self.count += 1
        self._window.append((self.count, float(seconds)))
        if line is not None and len(self._window) > self.change_ticks + 3:
            self._watch(line.seconds_at(self.count), seconds)
        self._refit()
        return self.count

    def restart(self) -> None:
        """Forget the window (the clock paused); the last line stays as a tempo prior."""
        if self._line is not None and self._line.ticks >= 12:
            self._prior = self._line
        self._window.clear()
        self._line = None
        self._off_line.clear()

    def _watch(self, predicted_seconds: float, seconds: float) -> None:
        residual = seconds - predicted_seconds
        threshold = max(self.min_jitter_seconds, 4.0 * self._scale)
        if abs(residual) <= threshold:
            self._off_line.clear()
            return
        sign = 1 if residual > 0 else -1
        if self._off_line and self._off_line[-1] != sign:
            self._off_line.clear()
        self._off_line.append(sign)
        if len(self._off_line) >= self.change_ticks:
            ticks, secs = self._arrays()
            split, _ = _best_split(ticks, secs, last_candidates=4 * TICKS_PER_BEAT)
            self._change_at(split)

    def _change_at(self, split: int) -> None:
        """A tempo step: keep only the ticks from window index ``split`` on."""
        kept = list(self._window)[split:]
        self._window.clear()
        self._window.extend(kept)
        self._prior = None
        self._off_line.clear()
        self.changes += 1

    def _arrays(self) -> tuple[np.ndarray, np.ndarray]:
        data = np.asarray(self._window, dtype=float)
        return data[:, 0], data[:, 1]

    def _refit(self) -> None:
        n = len(self._window)
        if n < 2:
            self._line = None
            return
        ticks, seconds = self._arrays()
        keep = np.ones(n, dtype=bool)
        if n == 2:
            a, b, sigma = float(seconds[0] - ticks[0] * (seconds[1] - seconds[0])), float(seconds[1] - seconds[0]), 0.0
        else:
            a, b, sigma = _fit(ticks, seconds)
            if n >= 8:
                # late outliers: a stalled thread delays ticks; refit without them
                residuals = seconds - (a + b * ticks)
                mad = float(np.median(np.abs(residuals - np.median(residuals))))
                self._scale = max(1.4826 * mad, 1e-5)
                keep = residuals <= max(4.0 * self._scale, self.min_jitter_seconds)
                if 3 <= keep.sum() < n:
                    a, b, sigma = _fit(ticks[keep], seconds[keep])
                else:
                    keep = np.ones(n, dtype=bool)
        if not _MIN_SECONDS_PER_TICK <= b <= _MAX_SECONDS_PER_TICK:
            self._line = None
            return
        pivot = float(ticks[-1])
        ramp = None
        curved = _ramp_fit(ticks[keep] - pivot, seconds[keep], self.ramp_t) if n >= 2 * TICKS_PER_BEAT else None
        if curved is not None:
            # bent: a step (two lines fit better than a parabola) or a ramp
            split, step_sse = _best_split(ticks[keep], seconds[keep], last_candidates=n)
            if step_sse < self.step_ratio * curved[4]:
                self._change_at(int(np.flatnonzero(keep)[split]))
                self._refit()
                return
            # a ramp: fit its recent part only, where a parabola is a good model
            recent = keep & (ticks > pivot - self.ramp_ticks)
            ramp = _ramp_fit(ticks[recent] - pivot, seconds[recent], 0.0)
        if ramp is not None:
            # the quadratic's slope at the newest tick is the tempo now
            a0, b0, c0, b0_error, _ = ramp
            if _MIN_SECONDS_PER_TICK <= b0 <= _MAX_SECONDS_PER_TICK:
                bpm = 60.0 / (TICKS_PER_BEAT * b0)
                self._line = ClockLine(pivot, a0, b0, n, bpm * b0_error / b0, max(sigma, 1e-4), c0)
                self._prior = None
                return
        sigma = max(sigma, 1e-4)
        prior = self._prior
        if prior is not None:
            sigma = max(sigma, prior.jitter_seconds)  # a short window underestimates its jitter
        dk = ticks - ticks.mean()
        b_error = sigma / math.sqrt(max(float(dk @ dk), 1e-12)) if n > 2 else b
        bpm = 60.0 / (TICKS_PER_BEAT * b)
        line = ClockLine(pivot, a + b * pivot, b, n, bpm * b_error / b, sigma)
        if prior is not None:
            # combine with the tempo from before the pause while they agree (inverse variance)
            gap = abs(line.bpm - prior.bpm)
            if n >= 8 and gap > 4.0 * math.hypot(line.bpm_error, prior.bpm_error) + 0.05:
                self._prior = None
            else:
                w_new = 0.0 if n <= 2 else 1.0 / line.bpm_error ** 2
                w_old = 1.0 / max(prior.bpm_error, 1e-6) ** 2
                bpm = (w_new * line.bpm + w_old * prior.bpm) / (w_new + w_old)
                b_comb = 60.0 / (TICKS_PER_BEAT * bpm)
                # keep the line through the window's centre of mass
                k_mean, s_mean = float(ticks.mean()), float(seconds.mean())
                line = ClockLine(pivot, s_mean + b_comb * (pivot - k_mean), b_comb, n,
                                 1.0 / math.sqrt(w_new + w_old), sigma)
        self._line = line

    # -- reading ----------------------------------------------------------------------------

    @property
    def line(self) -> ClockLine | None:
        """The current fit, or None before two ticks of a running clock."""
        return self._line

    @property
    def bpm(self) -> float | None:
        """Current tempo estimate (BPM); the prior's while stopped; None before any."""
        if self._line is not None:
            return self._line.bpm
        return self._prior.bpm if self._prior is not None else None

    @property
    def last_seconds(self) -> float | None:
        return self._window[-1][1] if self._window else None
