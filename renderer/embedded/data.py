"""Training data, assembled reproducibly from a seed, with every source and its licence recorded.

* ``assemble(data_dir, ...)``: seeded MIDI songs rendered with FluidSynth plus numpy-synthesised
  clips -> ``dataset.npz`` (conditioning rows from :func:`audio_context`, source ids, seconds)
  and ``manifest.json`` (each source: how it was made, tempo/meter, licence). Targets are
  drawn on the fly by the looks' recipes (:func:`renderer.embedded.looks.targets`).
* ``assemble_user(user_dir, ...)``: a user's own audio + image pairs and/or music videos for
  fine-tuning -> the same rows plus ``images`` (N, 64, 64, 3) uint8. Layout::

      USER_DIR/song.wav            (or .flac .ogg .aiff .mp3)
      USER_DIR/song/12.5.png       an image for the moment 12.5 s into song.wav (.png/.jpg)
      USER_DIR/song.json           optional: {"bpm": 120, "first_beat_seconds": 0.0, "beats_per_bar": 4}
      USER_DIR/clip.mp4            (or .mov .mkv .webm) a music video: frames + its audio track

  Without ``song.json`` beats come from librosa's beat tracker (4 beats per bar).
* ``own_look_images(user_dir)``: a folder of images and nothing else (no audio, no video): the
  pictures of a new look (:mod:`renderer.embedded.looks.own`), each's centre square at
  :data:`OWN_IMAGE_SIZE`.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bridge.errors import InputError
from bridge.files import atomic_output, write_atomic
from renderer.embedded.context import audio_context
from renderer.embedded.songs import (SAMPLE_RATE, SOUNDFONT_LICENCE, make_song, render_song, synth_clip,
                                     write_float_wav)

HELDOUT_SEED_BASE = 1_000_000  # held-out songs use seeds from here on; training songs never do
TRAINING_SONGS = 64  # generated songs a run from scratch trains on (the shipped weights' data)
TRAINING_CLIPS = 16  # numpy-synthesised clips beside them
HELDOUT_SONGS = 6  # generated songs the evaluation measures (seeds HELDOUT_SEED_BASE + 0..5)
HELDOUT_MOMENTS_PER_SECOND = 4.0  # moments measured per second of a held-out song
CLIP_SEED_BASE = 500_000
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".aiff", ".aif", ".mp3")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
VIDEO_SUFFIXES = (".mp4", ".mov", ".mkv", ".webm", ".avi")
USER_IMAGE_SIZE = 64
OWN_IMAGE_SIZE = 128  # the pictures of a look of your own: enough for its tile (128) and palette


@dataclass(frozen=True)
class Dataset:
    """Rows of conditioning: ``context`` (N, CONTEXT_DIM) float32, ``source`` (N,) int, ``seconds`` (N,).

    ``images`` (N, S, S, 3) uint8 for user pairs; None when targets are procedural.
    """

    context: np.ndarray
    source: np.ndarray
    seconds: np.ndarray
    images: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.context)


def _save_npz(path: Path, **arrays: Any) -> None:
    with atomic_output(path) as tmp:  # its name ends in .npz, so numpy adds no second suffix
        np.savez(tmp, **arrays)


def song_rows(track: Any, info_beat, info_bar, duration_seconds: float, moments: int,
              rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    seconds = np.sort(rng.uniform(0.3, max(0.31, duration_seconds - 0.05), moments))
    return audio_context(track, seconds, info_beat(seconds), info_bar(seconds)), seconds


def _fingerprint(settings: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]


def assemble(data_dir: str | os.PathLike, n_songs: int = TRAINING_SONGS, n_clips: int = TRAINING_CLIPS,
             seed: int = 0, moments_per_second: float = 8.0, heldout: bool = False, progress: bool = True) -> Dataset:
    """Build (or reuse, if the settings match) the procedural-target dataset under ``data_dir``.

    ``heldout=True`` builds the evaluation songs instead (seeds >= HELDOUT_SEED_BASE, no clips).
    """
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    settings = {"n_songs": n_songs, "n_clips": n_clips, "seed": seed, "moments_per_second": moments_per_second,
                "heldout": heldout, "sample_rate": SAMPLE_RATE, "format": 1}
    cache = data_dir / "dataset.npz"
    manifest_path = data_dir / "manifest.json"
    if cache.is_file() and manifest_path.is_file():
        manifest = json.loads(manifest_path.read_text())
        if manifest.get("fingerprint") == _fingerprint(settings):
            with np.load(cache) as z:
                return Dataset(z["context"], z["source"], z["seconds"])

    song_base = HELDOUT_SEED_BASE + seed * 1000 if heldout else seed * 100_000
    sources: list[dict[str, Any]] = []
    contexts, ids, times = [], [], []
    rng = np.random.default_rng(seed + (99 if heldout else 0))
    iterator = range(n_songs + (0 if heldout else n_clips))
    if progress:
        from tqdm import tqdm

        iterator = tqdm(iterator, desc="heldout data" if heldout else "training data", unit="source")
    for i in iterator:
        if i < n_songs:
            track, beat_fn, bar_fn, entry = _song_source(data_dir, i, song_base + i)
        else:
            track, beat_fn, bar_fn, entry = _clip_source(data_dir, i, CLIP_SEED_BASE + seed * 1000 + (i - n_songs))
        moments = max(8, int(round(track.duration_seconds * moments_per_second)))
        ctx, secs = song_rows(track, beat_fn, bar_fn, track.duration_seconds, moments, rng)
        contexts.append(ctx)
        ids.append(np.full(len(ctx), i, dtype=np.int32))
        times.append(secs)
        sources.append(entry)

    dataset = Dataset(np.concatenate(contexts).astype(np.float32), np.concatenate(ids), np.concatenate(times))
    _save_npz(cache, context=dataset.context, source=dataset.source, seconds=dataset.seconds)
    manifest = {
        "fingerprint": _fingerprint(settings),
        "settings": settings,
        "targets": "phase, shading and colour targets drawn on the fly by renderer.embedded.looks.targets (MIT)",
        "rows": len(dataset),
        "sources": sources,
    }
    write_atomic(manifest_path, json.dumps(manifest, indent=1) + "\n")
    return dataset


def assemble_heldout(data_dir: str | os.PathLike, n_songs: int = HELDOUT_SONGS, seed: int = 0) -> Dataset:
    """The evaluation's held-out songs (:func:`assemble` with ``heldout=True``, no clips), built or reused."""
    return assemble(data_dir, n_songs=n_songs, n_clips=0, seed=seed, heldout=True,
                    moments_per_second=HELDOUT_MOMENTS_PER_SECOND)


def _song_source(data_dir: Path, i: int, song_seed: int):
    """A generated MIDI song rendered with FluidSynth: (FeatureTrack, beat phase fn, bar phase fn, manifest entry)."""
    from bridge.features import analyze_file

    midi, info = make_song(song_seed)
    mid_path = data_dir / f"song_{song_seed}.mid"
    wav_path = data_dir / f"song_{song_seed}.wav"
    midi.save(mid_path)
    if not wav_path.is_file():
        render_song(mid_path, wav_path, song_seed)
    track = analyze_file(wav_path)
    entry = {"id": i, "kind": "midi_song", "file": wav_path.name, "midi": mid_path.name,
             "seed": song_seed, "bpm": info.bpm, "meter": f"{info.numerator}/{info.denominator}",
             "programs": info.programs, "seconds": track.duration_seconds,
             "licence": "generated by Barlight (MIT); rendered with " + SOUNDFONT_LICENCE}
    return track, info.beat_phase, info.bar_phase, entry


def _clip_source(data_dir: Path, i: int, clip_seed: int):
    """A numpy-synthesised clip at a seeded tempo in 4/4: (FeatureTrack, beat phase fn, bar phase fn, manifest entry)."""
    from bridge.features import analyze_file

    audio, _ = synth_clip(clip_seed)
    wav_path = data_dir / f"clip_{clip_seed}.wav"
    if not wav_path.is_file():
        write_float_wav(wav_path, audio, SAMPLE_RATE)
    track = analyze_file(wav_path)
    bpm = float(np.random.default_rng(clip_seed).uniform(70, 170))

    def beat_fn(s: np.ndarray) -> np.ndarray:
        return np.mod(s * bpm / 60.0, 1.0)

    def bar_fn(s: np.ndarray) -> np.ndarray:
        return np.mod(s * bpm / 240.0, 1.0)

    entry = {"id": i, "kind": "numpy_clip", "file": wav_path.name, "seed": clip_seed, "bpm": bpm,
             "meter": "4/4", "seconds": track.duration_seconds,
             "licence": "generated by Barlight (MIT), numpy synthesis"}
    return track, beat_fn, bar_fn, entry


# ----------------------------------------------------------------------------- user data


def _beat_functions(audio_path: Path, samples: np.ndarray, rate: int):
    meta = audio_path.with_suffix(".json")
    if meta.is_file():
        try:
            info = json.loads(meta.read_text())
            bpm = float(info["bpm"])
            first = float(info.get("first_beat_seconds", 0.0))
            per_bar = float(info.get("beats_per_bar", 4))
        except (ValueError, KeyError, TypeError) as err:
            raise InputError(meta, f"needs {{'bpm': number, 'first_beat_seconds': number, 'beats_per_bar': number}} ({err})") from None
        if not bpm > 0 or not per_bar > 0:
            raise InputError(meta, "bpm and beats_per_bar must be positive")
        return (lambda s: np.mod((s - first) * bpm / 60.0, 1.0),
                lambda s: np.mod((s - first) * bpm / 60.0 / per_bar, 1.0))
    import librosa

    _, beats = librosa.beat.beat_track(y=samples.astype(np.float32), sr=rate, units="time")
    beats = np.asarray(beats, dtype=np.float64)
    if len(beats) < 2:
        period = 0.5
        beats = np.arange(0.0, len(samples) / rate + period, period)
    index = np.arange(len(beats), dtype=np.float64)

    def beat_position(s: np.ndarray) -> np.ndarray:
        return np.interp(s, beats, index, left=np.nan, right=np.nan)

    def fill(s: np.ndarray) -> np.ndarray:
        pos = beat_position(s)
        period = float(np.median(np.diff(beats)))
        pos = np.where(s < beats[0], (s - beats[0]) / period, pos)
        return np.where(s > beats[-1], len(beats) - 1 + (s - beats[-1]) / period, pos)

    return (lambda s: np.mod(fill(np.asarray(s)), 1.0), lambda s: np.mod(fill(np.asarray(s)) / 4.0, 1.0))


def _load_image(path: Path, size: int = USER_IMAGE_SIZE) -> np.ndarray:
    import av  # PyAV decodes PNG/JPEG too, avoiding another dependency

    try:
        with av.open(str(path)) as container:
            frame = next(container.decode(video=0))
    except (av.error.FFmpegError, StopIteration) as err:
        raise InputError(path, f"cannot read image ({err})") from None
    return _square(frame.to_ndarray(format="rgb24"), size)


def _square(rgb: np.ndarray, size: int = USER_IMAGE_SIZE) -> np.ndarray:
    """Centre-crop to a square and area-resize to ``size`` x ``size``."""
    import torch
    import torch.nn.functional as F

    h, w = rgb.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    crop = torch.from_numpy(np.ascontiguousarray(rgb[top:top + side, left:left + side])).permute(2, 0, 1)[None].float()
    small = F.interpolate(crop, size=(size, size), mode="area")
    return small[0].permute(1, 2, 0).round().clamp(0, 255).byte().numpy()


def _video_pairs(path: Path, cache_dir: Path, frames_per_second: float) -> tuple[Path, list[tuple[float, np.ndarray]]]:
    """Decode a music video: its audio -> WAV in ``cache_dir``, frames every 1/frames_per_second s."""
    import av

    wav = cache_dir / f"{path.stem}.video.wav"
    pairs: list[tuple[float, np.ndarray]] = []
    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise InputError(path, "video has no audio track")
            if not container.streams.video:
                raise InputError(path, "no video stream")
            next_time = 0.0
            for frame in container.decode(video=0):
                if frame.time is None or frame.time + 1e-6 < next_time:
                    continue
                pairs.append((float(frame.time), _square(frame.to_ndarray(format="rgb24"))))
                next_time = float(frame.time) + 1.0 / frames_per_second
        with av.open(str(path)) as container:
            resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
            chunks = []
            for frame in container.decode(audio=0):
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray().reshape(-1))
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray().reshape(-1))
    except av.error.FFmpegError as err:
        raise InputError(path, f"cannot decode video ({err})") from None
    if not chunks:
        raise InputError(path, "audio track is empty")
    write_float_wav(wav, np.concatenate(chunks), SAMPLE_RATE)
    return wav, pairs


def assemble_user(user_dir: str | os.PathLike, cache_dir: str | os.PathLike,
                  video_frames_per_second: float = 4.0) -> tuple[Dataset, list[dict[str, Any]]]:
    """A user's pairs (see the module docstring) -> (Dataset with images, source list)."""
    from bridge.features import FeatureExtractor
    from bridge.features.audio_file import read_samples

    user_dir, cache_dir = Path(user_dir), Path(cache_dir)
    if not user_dir.is_dir():
        raise InputError(user_dir, "no such folder of training pairs")
    cache_dir.mkdir(parents=True, exist_ok=True)
    contexts, ids, times, images, sources = [], [], [], [], []
    for path in sorted(user_dir.iterdir()):
        suffix = path.suffix.lower()
        if suffix in AUDIO_SUFFIXES:
            folder = path.with_suffix("")
            if not folder.is_dir():
                continue
            pairs = []
            for image_path in sorted(folder.iterdir()):
                if image_path.suffix.lower() not in IMAGE_SUFFIXES:
                    continue
                try:
                    seconds = float(image_path.stem)
                except ValueError:
                    raise InputError(image_path, "image name must be the moment in seconds, e.g. 12.5.png") from None
                pairs.append((seconds, _load_image(image_path)))
            audio_path, kind = path, "audio+images"
        elif suffix in VIDEO_SUFFIXES:
            audio_path, pairs = _video_pairs(path, cache_dir, video_frames_per_second)
            kind = "video"
        else:
            continue
        if not pairs:
            continue
        samples, rate = read_samples(audio_path)  # checked and repaired like every audio input, reported once
        track = FeatureExtractor(rate).analyze(samples)
        beat_fn, bar_fn = _beat_functions(path if kind == "audio+images" else audio_path, samples.mean(axis=1), rate)
        secs = np.array([s for s, _ in pairs])
        if np.any(secs < 0) or np.any(secs > track.duration_seconds + 1.0):
            raise InputError(path, f"image times must lie within the audio (0..{track.duration_seconds:.1f} s)")
        contexts.append(audio_context(track, secs, beat_fn(secs), bar_fn(secs)))
        ids.append(np.full(len(secs), len(sources), dtype=np.int32))
        times.append(secs)
        images.append(np.stack([img for _, img in pairs]))
        sources.append({"id": len(sources), "kind": kind, "file": path.name, "pairs": len(secs),
                        "licence": "user-supplied"})
    if not sources:
        raise InputError(user_dir, "no pairs found (need song.wav + song/<seconds>.png, or a music video)")
    dataset = Dataset(np.concatenate(contexts).astype(np.float32), np.concatenate(ids), np.concatenate(times),
                      np.concatenate(images))
    return dataset, sources


def holds_only_images(user_dir: str | os.PathLike) -> bool:
    """Whether ``user_dir`` is a folder of images with no audio or video beside them (a look of your own)."""
    user_dir = Path(user_dir)
    if not user_dir.is_dir():
        return False
    suffixes = {path.suffix.lower() for path in user_dir.iterdir() if path.is_file()}
    return bool(suffixes & set(IMAGE_SUFFIXES)) and not suffixes & set(AUDIO_SUFFIXES + VIDEO_SUFFIXES)


def own_look_images(user_dir: str | os.PathLike) -> list[np.ndarray]:
    """The images of ``user_dir`` (sorted by name), each's centre square at :data:`OWN_IMAGE_SIZE` (uint8 RGB)."""
    paths = sorted(p for p in Path(user_dir).iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not paths:
        raise InputError(user_dir, f"no images ({', '.join(IMAGE_SUFFIXES)}) in the folder")
    return [_load_image(path, OWN_IMAGE_SIZE) for path in paths]
