"""Issue 17's cases, each through the real CLI: what a careless or hostile user hands over is refused in one
line, before any work, and every file the user had survives byte for byte (docs/safety.md)."""

from __future__ import annotations

import gzip
import json
import os
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.hostile.conftest import recording_lines, write_jsonl
from tests.hostile.harness import REPO, assert_refused, assert_unchanged, run_cli, snapshot
from tests.unwritable import unwritable_folder

Setup = Callable[[Path], None]


def _nothing(home: Path) -> None:
    pass


def _audio_named_mix_mp4(home: Path) -> None:
    (home / "DIR").mkdir()
    (home / "DIR" / "mix.mp4").write_bytes((home / "song.wav").read_bytes())


def _preset_mapping(target: str) -> Setup:
    def setup(home: Path) -> None:
        (home / "p.toml").write_text((home / "preset.toml").read_text().replace('"mapping.json"', json.dumps(target)))
    return setup


def _fifo(name: str) -> Setup:
    def setup(home: Path) -> None:
        os.mkfifo(home / name)
    return setup


def _link_to_dev_zero(name: str) -> Setup:
    def setup(home: Path) -> None:
        (home / name).symlink_to("/dev/zero")
    return setup


def _big_file(name: str, size: int) -> Setup:
    def setup(home: Path) -> None:
        with open(home / name, "wb") as handle:
            handle.truncate(size)  # sparse
    return setup


def _als(name: str, data: bytes) -> Setup:
    def setup(home: Path) -> None:
        (home / name).write_bytes(data)
    return setup


def _text(name: str, text: str) -> Setup:
    def setup(home: Path) -> None:
        (home / name).write_text(text, encoding="utf-8")
    return setup


def _whitespace_bomb() -> bytes:
    """600 MB of XML whitespace in 0.6 MB of gzip: unpacked whole it takes gigabytes."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    parts = [packer.compress(b'<?xml version="1.0"?><Ableton><LiveSet><Tracks>')]
    block = b" " * (1 << 20)
    parts += [packer.compress(block) for _ in range(600)]
    parts += [packer.compress(b"</Tracks></LiveSet></Ableton>"), packer.flush()]
    return b"".join(parts)


def _attribute_bomb() -> bytes:
    """One 400 MB attribute in 0.4 MB of gzip: expat holds it whole and rescans it per chunk (1.2 GB, minutes)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    parts = [packer.compress(b'<?xml version="1.0"?><Ableton><LiveSet><Tracks><Buffer Value="')]
    block = b"A" * (1 << 20)
    parts += [packer.compress(block) for _ in range(400)]
    parts += [packer.compress(b'" /></Tracks></LiveSet></Ableton>'), packer.flush()]
    return b"".join(parts)


def _recording(name: str, edit: Callable[[list], None], raw_tail: bytes = b"") -> Setup:
    def setup(home: Path) -> None:
        lines = recording_lines()
        edit(lines)
        write_jsonl(home / name, lines)
        if raw_tail:
            with open(home / name, "ab") as handle:
                handle.write(raw_tail)
    return setup


def _nan_bpm(lines: list) -> None:
    lines[5]["args"]["bpm"] = float("nan")


def _bad_tempo_event(lines: list) -> None:
    lines.insert(6, {"t": 100.3, "session": "live", "event": "tempo", "beat_before": "soon", "beat_after": 1.0})


def _string_bpm(lines: list) -> None:
    lines[7]["args"]["bpm"] = "120"


def _model_copy_inside_out(home: Path) -> None:
    import shutil

    shutil.copytree(os.environ["BARLIGHT_TEST_TINY_MODEL"], home / "run" / "model")


READONLY = "{readonly}"


def _shipped() -> dict[str, str]:
    """The package files two cases aim at (the device's sources, the plugdata patch)."""
    folders = (REPO / "m4l", REPO / "bridge" / "senders" / "plugdata")
    return {f"{folder.name}/{name}": digest for folder in folders for name, digest in snapshot(folder).items()
            if "__pycache__" not in name}

#: (case, argv, names one of which the error line must contain, setup)
CASES: list[tuple[str, tuple[str, ...], tuple[str, ...], Setup]] = [
    # -- the output rule: nothing an input ---------------------------------------------------------
    ("analyze --json over its audio", ("analyze", "song.wav", "--json", "song.wav"), ("song.wav",), _nothing),
    ("analyze --json over its timeline", ("analyze", "song.wav", "--timeline", "song.mid", "--json", "song.mid"),
     ("song.mid",), _nothing),
    ("analyze --json through a link to its audio", ("analyze", "song.wav", "--json", "link.json"), ("--json",),
     lambda home: (home / "link.json").symlink_to(home / "song.wav")),
    ("export whose video would replace its audio", ("export", "DIR/mix.mp4", "--bpm", "120", "--out", "DIR"),
     ("DIR/mix.mp4",), _audio_named_mix_mp4),
    ("export re-rendered over its own keyframes", ("export", "--keyframes", "earlier/keyframes.json", "--out", "earlier"),
     ("keyframes.json",), _nothing),
    ("send plugdata --copy onto the shipped patch", ("send", "plugdata", "--copy", str(REPO / "bridge/senders/plugdata")),
     ("barlight-sender.pd",), _nothing),
    ("m4l build --external-js onto the device's script", ("m4l", "build", "--external-js", "--out",
                                                          str(REPO / "m4l" / "Barlight.amxd")), ("barlight.js",), _nothing),
    ("train --out around its --finetune model", ("train", "--out", "run", "--finetune", "run/model", "--no-eval"),
     ("run/model",), _model_copy_inside_out),
    # -- the output rule: folders, files, unwritable places ------------------------------------------
    ("analyze --json a named pipe (as /dev/null would be)", ("analyze", "song.wav", "--json", "out.json"),
     ("out.json",), _fifo("out.json")),
    ("analyze --json and --plot one file", ("analyze", "song.wav", "--json", "x.png", "--plot", "x.png"), ("x.png",),
     _nothing),
    ("analyze --json a folder", ("analyze", "song.wav", "--json", "earlier"), ("earlier",), _nothing),
    ("analyze --json in a read-only folder", ("analyze", "song.wav", "--json", f"{READONLY}/x.json"), (READONLY,), _nothing),
    ("analyze: the output is checked before the audio", ("analyze", "missing.wav", "--json", f"{READONLY}/x.json"),
     (READONLY,), _nothing),
    ("analyze --plot in a missing folder", ("analyze", "song.wav", "--plot", "nowhere/x.png"), ("nowhere",), _nothing),
    ("export --out a file", ("export", "song.wav", "--bpm", "120", "--out", "song.mid"), ("song.mid",), _nothing),
    ("export --out in a read-only folder", ("export", "song.wav", "--bpm", "120", "--out", f"{READONLY}/new"),
     (READONLY,), _nothing),
    ("export --out where keyframes/ is a file", ("export", "song.wav", "--bpm", "120", "--out", "K"), ("keyframes",),
     lambda home: ((home / "K").mkdir(), (home / "K" / "keyframes").write_text("mine"))),
    ("demo --out in a read-only folder", ("demo", "--out", f"{READONLY}/demo"), (READONLY,), _nothing),
    ("demo --out a file", ("demo", "--out", "song.wav"), ("song.wav",), _nothing),
    ("record OUT in a read-only folder", ("record", f"{READONLY}/s.jsonl", "--listen", "127.0.0.1:0", "--seconds", "5"),
     (READONLY,), _nothing),
    ("record OUT a folder", ("record", "earlier", "--listen", "127.0.0.1:0", "--seconds", "5"), ("earlier",), _nothing),
    ("record OUT an existing recording", ("record", "session.jsonl", "--listen", "127.0.0.1:0", "--seconds", "5"),
     ("session.jsonl",), _nothing),
    ("train --out in a read-only folder", ("train", "--out", f"{READONLY}/run", "--no-eval"), (READONLY,), _nothing),
    ("m4l build --out a folder", ("m4l", "build", "--out", "earlier"), ("earlier",), _nothing),
    ("m4l build --out in a read-only folder", ("m4l", "build", "--out", f"{READONLY}/B.amxd"), (READONLY,), _nothing),
    ("send plugdata --copy to a read-only folder", ("send", "plugdata", "--copy", READONLY), (READONLY,), _nothing),
    ("preview --screenshots read-only", ("preview", "--no-record", "--screenshots", READONLY), (READONLY,), _nothing),
    # -- bounded readers -------------------------------------------------------------------------------
    ("a preset's mapping is /dev/zero", ("export", "song.wav", "--bpm", "120", "--out", "D", "--preset", "p.toml"),
     ("p.toml",), _preset_mapping("/dev/zero")),
    ("a preset's mapping is a pipe", ("export", "song.wav", "--bpm", "120", "--out", "D", "--preset", "p.toml"),
     ("p.toml",), lambda home: (_fifo("pipe.json")(home), _preset_mapping("pipe.json")(home))),
    ("a preset's mapping is 2 MB", ("bench", "--preset", "p.toml"), ("p.toml",),
     lambda home: (_big_file("big.json", 2 << 20)(home), _preset_mapping("big.json")(home))),
    ("a preset's mapping is a folder", ("export", "song.wav", "--bpm", "120", "--out", "D", "--preset", "p.toml"),
     ("p.toml",), _preset_mapping("earlier")),
    ("a preset of 2 MB", ("export", "song.wav", "--bpm", "120", "--out", "D", "--preset", "huge.toml"),
     ("huge.toml",), _big_file("huge.toml", 2 << 20)),
    ("an .als gzip bomb", ("timeline", "bomb.als"), ("bomb.als",), _als("bomb.als", _whitespace_bomb())),
    ("an .als with a 400 MB attribute", ("timeline", "attr.als"), ("attr.als",), _als("attr.als", _attribute_bomb())),
    ("an .als gzip of zeros as analyze's timeline", ("analyze", "song.wav", "--timeline", "z.als"), ("z.als",),
     _als("z.als", gzip.compress(bytes(1 << 24)))),
    ("an .als nested 100,000 deep", ("timeline", "deep.als"), ("deep.als",),
     _als("deep.als", gzip.compress(b"<Ableton><LiveSet><MainTrack>" + b"<a>" * 100_000))),
    ("an .als that is a gzip of zeros", ("timeline", "z.als"), ("z.als",), _als("z.als", gzip.compress(bytes(1 << 24)))),
    ("an .als that is a pipe", ("timeline", "p.als"), ("p.als",), _fifo("p.als")),
    ("a .mid linked to /dev/zero", ("timeline", "z.mid"), ("z.mid",), _link_to_dev_zero("z.mid")),
    ("a .mid of 5 MB", ("timeline", "big.mid"), ("big.mid",), _big_file("big.mid", 5 << 20)),
    ("an audio file that is a pipe", ("analyze", "pipe.wav"), ("pipe.wav",), _fifo("pipe.wav")),
    ("an audio file linked to /dev/zero", ("export", "z.wav", "--bpm", "120", "--out", "D"), ("z.wav",),
     _link_to_dev_zero("z.wav")),
    ("a keyframes file linked to /dev/zero", ("export", "--keyframes", "k.json", "--out", "D"), ("k.json",),
     _link_to_dev_zero("k.json")),
    ("a recording with a NaN bpm", ("timeline", "nan.jsonl"), ("bpm",), _recording("nan.jsonl", _nan_bpm)),
    ("a recording with a malformed tempo event", ("timeline", "ev.jsonl"), ("tempo event",),
     _recording("ev.jsonl", _bad_tempo_event)),
    ("a recording with a bpm written as text", ("export", "song.wav", "--timeline", "s.jsonl", "--out", "D"), ("bpm",),
     _recording("s.jsonl", _string_bpm)),
    ("a recording with a 2 MB line", ("timeline", "long.jsonl"), ("long.jsonl",),
     _recording("long.jsonl", lambda lines: None, b'{"t": 1, "x": "' + b"a" * (2 << 20) + b'"}\n{"end": true}\n')),
    ("a keyframes file nested 200,000 deep", ("export", "--keyframes", "k.json", "--out", "D"), ("k.json",),
     _text("k.json", "[" * 200_000)),
    ("a recording with a line nested 200,000 deep", ("timeline", "deep.jsonl"), ("deep.jsonl",),
     _recording("deep.jsonl", lambda lines: None, b"[" * 200_000 + b'\n{"end": true}\n')),
    ("a preset nested 200,000 deep", ("export", "song.wav", "--bpm", "120", "--out", "D", "--preset", "deep.toml"),
     ("deep.toml",), _text("deep.toml", "a = " + "[" * 200_000)),
    ("a preset's mapping nested 200,000 deep", ("export", "song.wav", "--bpm", "120", "--out", "D", "--preset",
                                                "p.toml"), ("deep.json",),
     lambda home: (_text("deep.json", '{"a": ' + "[" * 200_000)(home), _preset_mapping("deep.json")(home))),
    ("a recording with a line that is not UTF-8", ("timeline", "b.jsonl"), ("b.jsonl",),
     _recording("b.jsonl", lambda lines: None, b'{"t": "\xff\xfe"}\n{"end": true}\n')),
    # -- argument bounds -----------------------------------------------------------------------------
    ("timeline --bars a billion", ("timeline", "--bpm", "120", "--bars", "1000000000"), ("--bars",), _nothing),
    ("analyze --audio-start a trillion", ("analyze", "song.wav", "--bpm", "120", "--audio-start", "1e12"),
     ("--audio-start",), _nothing),
    ("export --bpm 16000", ("export", "song.wav", "--bpm", "16000", "--out", "D"), ("--bpm",), _nothing),
    ("export --bpm nan", ("export", "song.wav", "--bpm", "nan", "--out", "D"), ("--bpm",), _nothing),
    ("send file --bpm 1e9", ("send", "file", "song.wav", "--bpm", "1e9"), ("--bpm",), _nothing),
    # -- validation leaves no --out folder ---------------------------------------------------------------
    ("export with an unknown preset", ("export", "song.wav", "--bpm", "120", "--out", "a/b/D", "--preset", "nope"),
     ("nope",), _nothing),
    ("export with an unknown backend", ("export", "song.wav", "--bpm", "120", "--out", "D", "--backend", "nope"),
     ("--backend",), _nothing),
    ("export of bars after the audio", ("export", "song.wav", "--bpm", "120", "--out", "D", "--bars", "50:",
                                        "--full-bounce", "--model", "{tiny}", "--size", "64x64"), ("song.wav",), _nothing),
    ("export of a missing file", ("export", "missing.wav", "--bpm", "120", "--out", "D"), ("missing.wav",), _nothing),
    ("demo with a bad --fps", ("demo", "--out", "D", "--fps", "0"), ("--fps",), _nothing),
]


#: Cases run as a fresh ``python -m barlight`` (their memory measured exactly); the rest are forked from the
#: pre-imported CLI (tests/hostile/zygote.py: the same code, started in milliseconds, memory an upper bound).
FRESH = {"a preset's mapping is /dev/zero", "an .als gzip bomb", "an .als with a 400 MB attribute", "an .als nested 100,000 deep",
         "an .als that is a gzip of zeros", "a .mid of 5 MB", "a recording with a 2 MB line",
         "analyze --json over its audio", "export whose video would replace its audio"}


@pytest.mark.parametrize("case, argv, names, setup", CASES, ids=[case[0] for case in CASES])
def test_refused_in_one_line_and_nothing_the_user_had_changes(home, tmp_path, tiny_model, zygote, monkeypatch,
                                                              case, argv, names, setup):
    monkeypatch.setenv("BARLIGHT_TEST_TINY_MODEL", str(tiny_model))
    setup(home)
    with unwritable_folder(tmp_path) as readonly:
        argv = tuple(a.replace(READONLY, str(readonly)).replace("{tiny}", str(tiny_model)) for a in argv)
        names = tuple(n.replace(READONLY, str(readonly)) for n in names)
        before, outside = snapshot(home), _shipped()
        run = (run_cli if case in FRESH else zygote.cli)(*argv, cwd=home)
        assert_refused(run, *names)
        assert_unchanged(before, snapshot(home))  # nothing changed, nothing new: no empty --out folder either
        assert _shipped() == outside
