"""Generated hostile input (hypothesis), each example through the real CLI under the memory cap: odd values for
every numeric and text option of every command, and corruptions of every kind of file a command reads.

Whatever is drawn, a run exits 0 or 2, prints no traceback, stays under 1 GB, and changes none of the user's
files; a refusal is one line naming the option or the file. Each case has its own fixed seed (the same examples
on every run and machine), so a failure here reproduces. The runs are forked from a pre-imported CLI
(tests/hostile/zygote.py) so that hundreds of them take seconds, not minutes; the listed cases
(test_refusals.py) each start a fresh ``python -m barlight``.
"""

from __future__ import annotations

import shutil
import tempfile
import zlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from tests.hostile.harness import assert_refused, assert_sane, assert_unchanged, snapshot

SETTINGS = settings(max_examples=6, database=None, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def fixed_seed(*parts: object):
    """The same examples on every run for this case, different ones from every other case."""
    return seed(zlib.crc32(repr(parts).encode()))

_TEXT = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
#: What a careless or hostile user types where a number, a size or a name goes.
VALUES = st.one_of(
    st.sampled_from(["nan", "inf", "-inf", "-0", "0", "1e308", "-1e308", "5e-324", "1e400", "99999999999999999999999",
                     "-1", "0x10", "1_000", " 7 ", "", "½", "٣", "4/0", "0/4", "3/3", "7/1024", "1:0", "0:0", "2:1",
                     "0x0", "8x8", "16x16", "99999x99999", "-64x64", "64X64", "NaNxNaN", "30000/1001", "1/0",
                     "127.0.0.1:99999", "[::1]:0", ":", "localhost:-1", "9" * 400]),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-(10**30), 10**30).map(str),
    st.text(_TEXT, max_size=16),
)

#: (command line before the option, the option, what a refusal may name besides the option). Each line ends
#: fast whatever the value: a missing AUDIO, an output that is a file, a missing preset.
OPTIONS: list[tuple[tuple[str, ...], str, tuple[str, ...]]] = [
    (("timeline", "--bars", "2"), "--bpm", ()),
    (("timeline", "--bpm", "120", "--bars", "2"), "--meter", ()),
    (("timeline", "--bpm", "120"), "--bars", ()),
    (("timeline", "song.als", "--bars", "2"), "--ramps", ()),
    (("analyze", "song.wav", "--bpm", "120"), "--audio-start", ()),
    (("analyze", "song.wav"), "--bpm", ()),
    (("analyze", "song.wav", "--bpm", "120"), "--meter", ()),
    (("export", "missing.wav", "--bpm", "120", "--out", "D"), "--fps", ("missing.wav",)),
    (("export", "missing.wav", "--bpm", "120", "--out", "D"), "--size", ("missing.wav",)),
    (("export", "missing.wav", "--bpm", "120", "--out", "D"), "--bars", ("missing.wav",)),
    (("export", "missing.wav", "--bpm", "120", "--out", "D"), "--seed", ("missing.wav",)),
    (("export", "missing.wav", "--bpm", "120", "--out", "D"), "--threads", ("missing.wav",)),
    (("export", "missing.wav", "--out", "D"), "--bpm", ("missing.wav",)),
    (("export", "missing.wav", "--bpm", "120", "--out", "D"), "--meter", ("missing.wav",)),
    (("export", "missing.wav", "--bpm", "120"), "--out", ("missing.wav", "D")),
    (("send", "file", "missing.wav", "--bpm", "120"), "--rate", ("missing.wav",)),
    (("send", "file", "missing.wav"), "--bpm", ("missing.wav",)),
    (("send", "file", "missing.wav", "--bpm", "120"), "--start-bar", ("missing.wav",)),
    (("send", "file", "missing.wav", "--bpm", "120"), "--seconds", ("missing.wav",)),
    (("send", "file", "missing.wav", "--bpm", "120"), "--to", ("missing.wav",)),
    (("record", "song.wav/x.jsonl"), "--seconds", ("song.wav",)),
    (("record", "song.wav/x.jsonl"), "--listen", ("song.wav",)),
    (("record", "song.wav/x.jsonl", "--listen", "0.0.0.0:0"), "--allow", ("song.wav",)),
    (("preview", "--screenshots", "song.wav"), "--latency-ms", ("song.wav",)),
    (("preview", "--screenshots", "song.wav"), "--fps", ("song.wav",)),
    (("preview", "--screenshots", "song.wav"), "--size", ("song.wav",)),
    (("bench", "--preset", "nope.toml"), "--size", ("nope.toml",)),
    (("bench", "--preset", "nope.toml"), "--frames", ("nope.toml",)),
    (("train", "--out", "song.wav"), "--steps", ("song.wav",)),
    (("demo", "--out", "song.wav"), "--fps", ("song.wav",)),
    (("demo", "--out", "song.wav"), "--size", ("song.wav",)),
]


def _in_a_copy(library: Path, run_case) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        home = Path(shutil.copytree(library, Path(scratch) / "home", symlinks=True))
        before = snapshot(home)
        run_case(home, before)


@pytest.mark.parametrize("prefix, option, others", OPTIONS, ids=[f"{p[0]} {o}" for p, o, _ in OPTIONS])
def test_any_value_of_any_option(library, zygote, prefix, option, others):
    @SETTINGS
    @fixed_seed(prefix, option)
    @given(value=VALUES)
    def case(value: str) -> None:
        def run_case(home: Path, before: dict) -> None:
            run = zygote.cli(*prefix, f"{option}={value}", cwd=home, timeout=120)
            assert_sane(run)
            if run.returncode == 2:
                assert_refused(run, option, "argument", *others)
            assert_unchanged(before, snapshot(home))

        _in_a_copy(library, run_case)

    case()


@st.composite
def corruptions(draw, data: bytes) -> bytes:
    """``data`` cut, flipped, spliced, padded or replaced: what a disk, a download or a prankster does."""
    size = len(data)
    at = draw(st.integers(0, max(0, size - 1)))
    how = draw(st.sampled_from(["truncate", "flip", "insert", "repeat", "zero", "garbage", "empty"]))
    if how == "truncate":
        return data[:at]
    if how == "flip":
        spots = draw(st.lists(st.integers(0, max(0, size - 1)), min_size=1, max_size=8))
        out = bytearray(data)
        for spot in spots:
            out[spot] ^= draw(st.integers(1, 255))
        return bytes(out)
    if how == "insert":
        return data[:at] + draw(st.binary(min_size=1, max_size=64)) + data[at:]
    if how == "repeat":
        return data[:at] + data[at:at + 4096] * draw(st.integers(2, 50)) + data[at:]
    if how == "zero":
        return data[:at] + bytes(min(4096, size - at)) + data[at + 4096:]
    if how == "garbage":
        return draw(st.binary(min_size=1, max_size=2048))
    return b""


#: (the file from the user's folder, where the corrupted copy goes, the command that reads it, names a refusal
#: may give besides the file).
FILES: list[tuple[str, str, tuple[str, ...], tuple[str, ...]]] = [
    ("song.mid", "x.mid", ("timeline", "x.mid", "--bars", "4"), ()),
    ("song.als", "x.als", ("timeline", "x.als", "--bars", "4"), ()),
    ("session.jsonl", "x.jsonl", ("timeline", "x.jsonl", "--bars", "4"), ()),
    ("session.jsonl", "x.jsonl.part", ("timeline", "x.jsonl.part", "--bars", "4"), ()),
    ("song.wav", "x.wav", ("analyze", "x.wav", "--bpm", "120", "--json", "out.json"), ()),
    ("preset.toml", "x.toml", ("export", "missing.wav", "--bpm", "120", "--out", "D", "--preset", "x.toml"),
     ("missing.wav",)),
    ("mapping.json", "mapping.json", ("export", "missing.wav", "--bpm", "120", "--out", "D", "--preset", "preset.toml"),
     ("missing.wav", "preset.toml")),
    ("earlier/keyframes.json", "x.json", ("export", "--keyframes", "x.json", "--out", "D", "--bars", "1:1"),
     ("--bars",)),
]


@pytest.mark.parametrize("original, name, argv, others", FILES, ids=[f"{f[0]} -> {f[2][0]}" for f in FILES])
def test_any_corruption_of_any_file(library, zygote, original, name, argv, others):
    data = (library / original).read_bytes()

    @SETTINGS
    @fixed_seed(original, name, argv)
    @given(corrupted=corruptions(data))
    def case(corrupted: bytes) -> None:
        def run_case(home: Path, before: dict) -> None:
            (home / name).write_bytes(corrupted)
            before = snapshot(home)
            run = zygote.cli(*argv, cwd=home, timeout=120)
            assert_sane(run)
            if run.returncode == 2:
                assert_refused(run, name, *others)
            assert_unchanged(before, snapshot(home), allowed_new=("out.json",))

        _in_a_copy(library, run_case)

    case()
