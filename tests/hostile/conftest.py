"""A user's folder of real files (audio, timelines, a recording, a preset, an earlier export) and a tiny
embedded model, built once per session; each case works on a fresh copy (``home``)."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import mido
import numpy as np
import pytest
import soundfile

from tests.hostile.harness import Zygote, assert_sane

RATE = 22050
SECONDS = 4.0  # two bars of 4/4 at 120 BPM
#: What an export case renders: the tiny model, tiny frames, few of them.
TINY_EXPORT = ("--size", "64x64", "--fps", "4", "--quiet")


def write_song(path: Path, seconds: float = SECONDS, rate: int = RATE) -> Path:
    """A click on every beat of 120 BPM with a noise floor: what a bounce looks like to the analysis."""
    samples = np.random.default_rng(1).standard_normal(int(seconds * rate)).astype(np.float32) * 1e-3
    for beat in range(int(seconds * 2)):
        start = int(beat * 0.5 * rate)
        samples[start:start + 200] += np.hanning(200).astype(np.float32) * 0.8
    soundfile.write(path, samples, rate, subtype="PCM_16")
    return path


def write_midi(path: Path) -> Path:
    track = mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(120), time=0),
                            mido.MetaMessage("time_signature", numerator=4, denominator=4, time=0),
                            mido.MetaMessage("marker", text="intro", time=0),
                            mido.MetaMessage("marker", text="drop", time=1920),
                            mido.MetaMessage("end_of_track", time=0)])
    midi = mido.MidiFile(type=1, ticks_per_beat=480)
    midi.tracks.append(track)
    midi.save(path)
    return path


def live_set_xml(bpm: float = 120.0, locators: str = '<Locator Id="0"><Time Value="0" /><Name Value="intro" /></Locator>') -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?><Ableton MajorVersion="5" Creator="Ableton Live 11.3"><LiveSet>'
        '<Tracks /><MasterTrack><DeviceChain><Mixer>'
        f'<Tempo><Manual Value="{bpm:g}" /><AutomationTarget Id="8" /></Tempo>'
        '<TimeSignature><Manual Value="201" /><AutomationTarget Id="10" /></TimeSignature>'
        f'</Mixer></DeviceChain></MasterTrack><Locators><Locators>{locators}</Locators></Locators></LiveSet></Ableton>'
    ).encode("utf-8")


def recording_lines(markers: tuple[str, ...] = ("intro", "drop"), seconds: float = SECONDS) -> list[dict]:
    """A session recording of a DAW playing 120 BPM 4/4 from bar 1 with ``markers`` at bars 1, 2, ..."""
    lines: list[dict] = [{"format": "barlight-session", "version": 1, "protocol": "1", "started_unix": 0.0,
                          "started_host_seconds": 100.0}]
    marker_args = {"markers": [{"name": name, "beat": 4.0 * i} for i, name in enumerate(markers)]}
    lines.append({"t": 100.0, "session": "live", "from": "127.0.0.1:9000", "beat": 0.0,
                  "address": "/daw/markers", "args": marker_args})
    for k in range(int(seconds / 0.1) + 1):
        beat = k * 0.1 * 2.0
        args = {"playing": True, "beat": beat, "bpm": 120.0, "numerator": 4, "denominator": 4,
                "bar_start_beat": 4.0 * (beat // 4.0), "bar": int(beat // 4.0) + 1}
        lines.append({"t": 100.0 + k * 0.1, "session": "live", "from": "127.0.0.1:9000", "beat": beat,
                      "address": "/daw/transport", "args": args})
    lines.append({"end": True, "t": 100.0 + seconds, "messages": len(lines) - 1})
    return lines


def write_jsonl(path: Path, lines: list) -> Path:
    path.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines), encoding="utf-8")
    return path


PRESET = """name = "Mine"
description = "the user's own preset"
mapping = "mapping.json"

[backend]
name = "embedded"

[prompts.default]
calm = "fog"
intense = "fire"
"""


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """The embedded pipeline at its tiny test size, saved as a model folder ``--model`` can load."""
    from renderer.embedded.config import tiny_pipeline

    folder = tmp_path_factory.mktemp("model") / "tiny"
    tiny_pipeline(seed=0).save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def library(tmp_path_factory, tiny_model, zygote) -> Path:
    """The user's files, once: song.wav/.mid/.als, a session recording, a preset with its mapping, and an
    earlier export of song.wav in ``earlier/`` (real, through the CLI)."""
    from renderer.conditioning import Mapping

    folder = tmp_path_factory.mktemp("library") / "home"
    folder.mkdir()
    write_song(folder / "song.wav")
    write_midi(folder / "song.mid")
    (folder / "song.als").write_bytes(gzip.compress(live_set_xml()))
    write_jsonl(folder / "session.jsonl", recording_lines())
    (folder / "preset.toml").write_text(PRESET, encoding="utf-8")
    Mapping.from_tables({}, "reactivity").save(folder / "mapping.json")
    run = zygote.cli("export", "song.wav", "--timeline", "song.mid", "--out", "earlier", "--model", str(tiny_model),
                     *TINY_EXPORT, cwd=folder)
    assert_sane(run)
    assert run.returncode == 0, run.stderr
    return folder


@pytest.fixture
def home(library, tmp_path) -> Path:
    """A fresh copy of the user's folder for one case."""
    return Path(shutil.copytree(library, tmp_path / "home", symlinks=True))


@pytest.fixture(scope="session")
def zygote():
    """One pre-imported CLI for the whole session (tests/hostile/zygote.py)."""
    forked = Zygote()
    yield forked
    forked.close()
