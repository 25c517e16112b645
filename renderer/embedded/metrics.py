"""Picture measures for the issue's "done when" numbers: detail, structure, colour, looks, motion.

NumPy only (the tests, the evaluation and the benches share them). Frames are ``(N, H, W, 3)``
RGB in 0..1 (a single ``(H, W, 3)`` frame is accepted too). Luma is Rec. 709.

* :func:`detail_share`: per frame, ``sum (L - up(down(L)))^2 / sum (L - mean L)^2`` on luma
  ``L``, where ``down`` is the area average to 64 x 64 (each output pixel the mean of the input
  pixels it covers; adaptive average pooling when the size is not a multiple) and ``up`` is
  bilinear interpolation back to H x W with pixel centres aligned (``align_corners=False``, edge
  samples clamped), i.e. what ``torch.nn.functional.interpolate(mode="area")`` then
  ``mode="bilinear"`` do. The share of luma variance a 64 x 64 picture cannot hold.
* :func:`residual_autocorr`: lag-1 autocorrelation of that residual (mean of horizontal and
  vertical neighbours): about 0.8 for edges and lines, about 0.1 for grain.
* :func:`colourfulness`: Hasler & Suesstrunk (2003) on 0..1 RGB:
  ``sqrt(sd_rg^2 + sd_yb^2) + 0.3 sqrt(mean_rg^2 + mean_yb^2)``, ``rg = R - G``, ``yb = (R + G) / 2 - B``.
* :func:`structure_descriptors`: colour-blind descriptors of each frame: magnitude-weighted
  histograms of gradient orientation (absolute, and relative to the direction from the frame's
  centre), a histogram of relative gradient magnitude, and the radially averaged log power
  spectrum of rank-equalised luma in log-spaced bands.
* :class:`RidgeClassifier`: standardised features, ridge regression onto one-hot classes, argmax.
* :func:`motion_energy` and :func:`autocorr_peak_lag`: mean squared luma change per frame pair
  and the lag at which its autocorrelation peaks (for "motion locked to the beat").
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

BASE_SIZE = 64  # detail_share's coarse picture
DESCRIPTOR_SIZE = 256  # frames are area-resampled to this before structure_descriptors
ORIENTATION_BINS = 12
RADIAL_BINS = 6
SPECTRUM_BANDS = 12
MAGNITUDE_BINS = 10  # log10(|gradient| / mean |gradient|) from -3 to 1.5
LUMA = np.array([0.2126, 0.7152, 0.0722])


def _frames(frames: np.ndarray) -> np.ndarray:
    f = np.asarray(frames, dtype=np.float64)
    if f.ndim == 3:
        f = f[None]
    if f.ndim != 4 or f.shape[-1] != 3:
        raise ValueError(f"frames must be (N, H, W, 3) RGB, got shape {np.shape(frames)}")
    return f


def luma(frames: np.ndarray) -> np.ndarray:
    """Rec. 709 luma ``(N, H, W)``."""
    return _frames(frames) @ LUMA


@lru_cache(maxsize=32)
def area_matrix(n_out: int, n_in: int) -> np.ndarray:
    """``(n_out, n_in)``: output ``i`` is the mean of inputs ``floor(i n_in / n_out) .. ceil((i + 1) n_in / n_out) - 1``.

    This is adaptive average pooling, which ``interpolate(mode="area")`` is; for sizes that are
    multiples it is the plain block mean.
    """
    m = np.zeros((n_out, n_in))
    for i in range(n_out):
        lo, hi = (i * n_in) // n_out, -((-(i + 1) * n_in) // n_out)
        m[i, lo:hi] = 1.0 / (hi - lo)
    return m


@lru_cache(maxsize=32)
def bilinear_matrix(n_out: int, n_in: int) -> np.ndarray:
    """``(n_out, n_in)`` linear interpolation with pixel centres aligned (align_corners=False), edges clamped."""
    pos = np.clip((np.arange(n_out) + 0.5) * n_in / n_out - 0.5, 0.0, n_in - 1)
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, n_in - 1)
    frac = pos - lo
    m = np.zeros((n_out, n_in))
    m[np.arange(n_out), lo] += 1 - frac
    m[np.arange(n_out), hi] += frac
    return m


def detail_residual(frames: np.ndarray, base: int = BASE_SIZE) -> np.ndarray:
    """Luma minus its 64 x 64 version blown back up: ``(N, H, W)``."""
    y = luma(frames)
    _, h, w = y.shape
    down = area_matrix(base, h) @ y @ area_matrix(base, w).T
    return y - bilinear_matrix(h, base) @ down @ bilinear_matrix(w, base).T


def detail_share(frames: np.ndarray, base: int = BASE_SIZE) -> np.ndarray:
    """``(N,)`` share of each frame's luma variance finer than a ``base`` x ``base`` picture holds."""
    y = luma(frames)
    r = detail_residual(frames, base)
    var = ((y - y.mean(axis=(1, 2), keepdims=True)) ** 2).sum(axis=(1, 2))
    return (r ** 2).sum(axis=(1, 2)) / np.maximum(var, 1e-12)


def residual_autocorr(frames: np.ndarray, base: int = BASE_SIZE) -> np.ndarray:
    """``(N,)`` lag-1 autocorrelation of the detail residual, horizontal and vertical neighbours averaged."""
    r = detail_residual(frames, base)
    r = r - r.mean(axis=(1, 2), keepdims=True)
    num = (r[:, :, 1:] * r[:, :, :-1]).sum(axis=(1, 2)) + (r[:, 1:, :] * r[:, :-1, :]).sum(axis=(1, 2))
    den = (r[:, :, 1:] ** 2).sum(axis=(1, 2)) + (r[:, 1:, :] ** 2).sum(axis=(1, 2))
    return num / np.maximum(den, 1e-12)


def colourfulness(frames: np.ndarray) -> np.ndarray:
    """``(N,)`` Hasler-Suesstrunk colourfulness on the 0..1 scale (about 0.26 for Milkdrop presets)."""
    f = _frames(frames)
    rg = f[..., 0] - f[..., 1]
    yb = 0.5 * (f[..., 0] + f[..., 1]) - f[..., 2]
    sd = np.sqrt(rg.var(axis=(1, 2)) + yb.var(axis=(1, 2)))
    mean = np.sqrt(rg.mean(axis=(1, 2)) ** 2 + yb.mean(axis=(1, 2)) ** 2)
    return sd + 0.3 * mean


def _resample(y: np.ndarray, size: int) -> np.ndarray:
    _, h, w = y.shape
    if (h, w) == (size, size):
        return y
    return area_matrix(size, h) @ y @ area_matrix(size, w).T


@lru_cache(maxsize=4)
def _spectrum_bands(size: int) -> tuple[np.ndarray, np.ndarray]:
    f = np.fft.fftfreq(size)
    radius = np.sqrt(f[:, None] ** 2 + f[None, :] ** 2)
    edges = np.geomspace(1.0 / size, 0.5, SPECTRUM_BANDS + 1)
    band = np.digitize(radius, edges) - 1  # -1 below the lowest band (DC), SPECTRUM_BANDS above 0.5
    window = np.outer(np.hanning(size), np.hanning(size))
    return band, window


def structure_descriptors(frames: np.ndarray) -> np.ndarray:
    """``(N, D)`` colour-blind descriptors (frames area-resampled to 256 x 256 first).

    * orientation histogram: ``ORIENTATION_BINS`` bins of gradient orientation modulo pi,
      weighted by gradient magnitude, normalised to sum 1 (luma gradients by central differences);
    * radial orientation histogram: ``RADIAL_BINS`` bins of the angle between the gradient and the
      direction from the frame's centre (modulo pi, folded to 0..pi/2), same weights;
    * gradient magnitude histogram: the share of pixels in ``MAGNITUDE_BINS`` bins of
      log10(|gradient| / the frame's mean |gradient|) from -3 to 1.5 (how sharp and how sparse the
      edges are, independent of the light level);
    * log power spectrum: luma is rank-equalised (each pixel replaced by its rank / pixel count,
      so only the arrangement of values counts, not their distribution), Hann-windowed, and its
      power averaged in ``SPECTRUM_BANDS`` log-spaced radial frequency bands from 1/256 to 0.5
      cycles per pixel; log10, minus the mean over bands (the shape, not the level).
    """
    y = _resample(luma(frames), DESCRIPTOR_SIZE)
    n, s, _ = y.shape
    gy, gx = np.gradient(y, axis=(1, 2))
    mag = np.sqrt(gx * gx + gy * gy)
    weight = mag / np.maximum(mag.sum(axis=(1, 2), keepdims=True), 1e-12)
    theta = np.mod(np.arctan2(gy, gx), np.pi)
    obin = np.minimum((theta / np.pi * ORIENTATION_BINS).astype(int), ORIENTATION_BINS - 1)
    c = (np.arange(s) - (s - 1) / 2.0)
    radial = np.arctan2(c[:, None], c[None, :])  # direction from the centre
    rel = np.abs(np.mod(theta - radial + np.pi / 2, np.pi) - np.pi / 2)  # 0 (along radius) .. pi/2
    rbin = np.minimum((rel / (np.pi / 2) * RADIAL_BINS).astype(int), RADIAL_BINS - 1)
    band, window = _spectrum_bands(s)
    relative = np.log10(mag / np.maximum(mag.mean(axis=(1, 2), keepdims=True), 1e-12) + 1e-3)
    mbin = np.clip(((relative + 3.0) / 4.5 * MAGNITUDE_BINS).astype(int), 0, MAGNITUDE_BINS - 1)
    spectrum_at = ORIENTATION_BINS + RADIAL_BINS + MAGNITUDE_BINS
    out = np.zeros((n, spectrum_at + SPECTRUM_BANDS))
    valid = (band >= 0) & (band < SPECTRUM_BANDS)
    counts = np.bincount(band[valid], minlength=SPECTRUM_BANDS)
    for i in range(n):
        out[i, :ORIENTATION_BINS] = np.bincount(obin[i].ravel(), weight[i].ravel(), ORIENTATION_BINS)
        out[i, ORIENTATION_BINS:ORIENTATION_BINS + RADIAL_BINS] = np.bincount(rbin[i].ravel(), weight[i].ravel(),
                                                                              RADIAL_BINS)
        out[i, ORIENTATION_BINS + RADIAL_BINS:spectrum_at] = np.bincount(mbin[i].ravel(), None, MAGNITUDE_BINS) / (s * s)
        ranks = np.argsort(np.argsort(y[i].ravel(), kind="stable"), kind="stable").reshape(s, s) / float(s * s)
        power = np.abs(np.fft.fft2((ranks - ranks.mean()) * window)) ** 2
        spectrum = np.log10(np.bincount(band[valid], power[valid], SPECTRUM_BANDS) / np.maximum(counts, 1) + 1e-12)
        out[i, spectrum_at:] = spectrum - spectrum.mean()
    return out


@dataclass
class RidgeClassifier:
    """Standardised features -> ridge regression onto one-hot classes -> argmax. ``alpha``: ridge strength."""

    alpha: float = 1.0
    classes_: np.ndarray | None = None
    mean_: np.ndarray | None = None
    scale_: np.ndarray | None = None
    weights_: np.ndarray | None = None

    def fit(self, features: np.ndarray, labels: np.ndarray) -> "RidgeClassifier":
        x = np.asarray(features, dtype=np.float64)
        self.classes_, y = np.unique(np.asarray(labels), return_inverse=True)
        self.mean_ = x.mean(axis=0)
        self.scale_ = np.maximum(x.std(axis=0), 1e-9)
        z = np.hstack([(x - self.mean_) / self.scale_, np.ones((len(x), 1))])
        onehot = np.eye(len(self.classes_))[y]
        reg = self.alpha * np.eye(z.shape[1])
        reg[-1, -1] = 0.0  # no penalty on the bias
        self.weights_ = np.linalg.solve(z.T @ z + reg, z.T @ onehot)
        return self

    def predict(self, features: np.ndarray) -> np.ndarray:
        if self.weights_ is None:
            raise ValueError("RidgeClassifier: fit before predict")
        z = np.hstack([(np.asarray(features, dtype=np.float64) - self.mean_) / self.scale_,
                       np.ones((len(features), 1))])
        return self.classes_[np.argmax(z @ self.weights_, axis=1)]


def held_out_accuracy(train_features: np.ndarray, train_labels: np.ndarray, test_features: np.ndarray,
                      test_labels: np.ndarray, alpha: float = 1.0) -> float:
    """Accuracy on the test rows of a :class:`RidgeClassifier` fitted on the train rows."""
    model = RidgeClassifier(alpha).fit(train_features, train_labels)
    return float(np.mean(model.predict(test_features) == np.asarray(test_labels)))


def motion_energy(frames: np.ndarray) -> np.ndarray:
    """``(N - 1,)`` mean squared luma change between consecutive frames."""
    y = luma(frames)
    return ((y[1:] - y[:-1]) ** 2).mean(axis=(1, 2))


def autocorr_peak_lag(series: np.ndarray, max_lag: int | None = None, share: float = 0.9) -> int:
    """The period (in samples) of a series: the first local maximum of its autocorrelation, after it
    first drops below zero, that reaches ``share`` of the highest one there.

    Multiples of a period correlate about as well as the period itself, so the first peak near the
    top is the period (a beat, not the bar that holds four of them). The series' mean is removed;
    ``max_lag`` defaults to half the length. Returns 0 if the autocorrelation never drops below zero
    (no periodicity found).
    """
    x = np.asarray(series, dtype=np.float64)
    x = x - x.mean()
    max_lag = len(x) // 2 if max_lag is None else min(max_lag, len(x) - 1)
    denom = float(np.dot(x, x))
    if denom <= 0 or max_lag < 2:
        return 0
    ac = np.array([np.dot(x[:-k], x[k:]) / denom for k in range(1, max_lag + 1)])
    below = np.flatnonzero(ac < 0)
    if len(below) == 0:
        return 0
    start = below[0]
    tail = ac[start:]
    peaks = [i for i in range(len(tail)) if (i == 0 or tail[i] >= tail[i - 1]) and
             (i == len(tail) - 1 or tail[i] >= tail[i + 1]) and tail[i] >= share * tail.max()]
    return int(start + peaks[0] + 1)
