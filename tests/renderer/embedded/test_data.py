"""Training data: seeded songs and clips, and the user-pairs folder layout for fine-tuning."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile

from bridge.errors import InputError
from renderer.embedded.context import CONTEXT_DIM
from renderer.embedded.data import assemble_user
from renderer.embedded.songs import make_song, synth_clip


def test_songs_are_seeded_and_varied() -> None:
    a_midi, a = make_song(3)
    b_midi, b = make_song(3)
    _, c = make_song(4)
    assert a == b and [str(m) for m in a_midi.tracks[0]] == [str(m) for m in b_midi.tracks[0]]
    assert (a.bpm, a.key, a.programs) != (c.bpm, c.key, c.programs)
    assert a.seconds >= 24.0 and len(a.sections) >= 2
    velocities = {s["velocity"] for s in a.sections}
    assert len(velocities) > 1


def test_synth_clip_is_seeded() -> None:
    x, p = synth_clip(5, seconds=2.0)
    y, q = synth_clip(5, seconds=2.0)
    assert np.array_equal(x, y) and np.array_equal(p["level_db"], q["level_db"])
    assert len(x) == 2 * 22050 and np.all(np.isfinite(x))
    segment = x[: 22050 // 2]
    rms_db = 10 * np.log10(np.mean(segment.astype(np.float64) ** 2))
    assert abs(rms_db - p["level_db"][0]) < 1.0


def write_png(path, rgb: tuple[float, float, float]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.imsave(path, np.ones((40, 60, 3)) * np.array(rgb))


def user_folder(tmp_path):
    audio, _ = synth_clip(1, seconds=3.0)
    soundfile.write(tmp_path / "song.wav", audio, 22050)
    (tmp_path / "song").mkdir()
    write_png(tmp_path / "song" / "0.5.png", (1.0, 0.0, 0.0))
    write_png(tmp_path / "song" / "2.25.png", (0.0, 0.0, 1.0))
    (tmp_path / "song.json").write_text(json.dumps({"bpm": 120, "first_beat_seconds": 0.0, "beats_per_bar": 4}))
    (tmp_path / "notes.txt").write_text("ignored")
    return tmp_path


def test_user_pairs_are_read_with_their_moments(tmp_path) -> None:
    data, sources = assemble_user(user_folder(tmp_path), tmp_path / "cache")
    assert len(data) == 2 and data.context.shape == (2, CONTEXT_DIM)
    assert list(data.seconds) == [0.5, 2.25]
    assert data.images.shape == (2, 64, 64, 3) and data.images.dtype == np.uint8
    assert data.images[0, ..., 0].mean() > 200 and data.images[1, ..., 2].mean() > 200
    assert sources[0]["kind"] == "audio+images"


def test_bad_image_name_is_named(tmp_path) -> None:
    folder = user_folder(tmp_path)
    write_png(folder / "song" / "intro.png", (0.5, 0.5, 0.5))
    with pytest.raises(InputError, match="intro.png"):
        assemble_user(folder, tmp_path / "cache")


def test_empty_folder_is_an_input_error(tmp_path) -> None:
    with pytest.raises(InputError, match="no pairs"):
        assemble_user(tmp_path, tmp_path / "cache")


def test_music_video_gives_frames_and_audio(tmp_path) -> None:
    import av

    path = tmp_path / "clip.mp4"
    rate, fps, seconds = 22050, 10, 2
    audio, _ = synth_clip(2, seconds=float(seconds))
    with av.open(str(path), "w") as out:
        video = out.add_stream("mpeg4", rate=fps)
        video.width = video.height = 32
        video.pix_fmt = "yuv420p"
        sound = out.add_stream("aac", rate=rate)
        sound.layout = "mono"
        for i in range(fps * seconds):
            img = np.zeros((32, 32, 3), np.uint8)
            img[..., 1] = 255 if i < fps else 0
            for packet in video.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(packet)
        for packet in video.encode():
            out.mux(packet)
        chunk = 1024
        for i in range(0, len(audio) - chunk, chunk):
            frame = av.AudioFrame.from_ndarray(audio[None, i:i + chunk], format="flt", layout="mono")
            frame.sample_rate = rate
            for packet in sound.encode(frame):
                out.mux(packet)
        for packet in sound.encode():
            out.mux(packet)
    data, sources = assemble_user(tmp_path, tmp_path / "cache", video_frames_per_second=2.0)
    assert sources[0]["kind"] == "video" and 3 <= len(data) <= 5
    assert data.images[0, ..., 1].mean() > 150 and data.images[-1, ..., 1].mean() < 100
