"""bridge.inputs: files a user hands over are read bounded; JSON Lines split on \\n only."""

from __future__ import annotations

import io
import json
import os
import tomllib

import pytest

from bridge.errors import InputError
from bridge.inputs import (MAX_BYTES, MAX_LINE_BYTES, check_regular_file, json_lines, parse_json, parse_toml, read_limited,
                           read_text_limited)


def test_devices_pipes_and_folders_are_refused_before_reading(tmp_path):
    with pytest.raises(InputError, match="not a regular file"):
        read_limited("/dev/zero", "mapping")
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match="not a regular file"):  # would block forever if opened
        read_limited(fifo, "preset")
    with pytest.raises(InputError, match="is a directory"):
        check_regular_file(tmp_path, "preset")
    with pytest.raises(InputError, match="no such preset file"):
        check_regular_file(tmp_path / "nope.toml", "preset")


def test_a_file_over_its_kinds_cap_is_refused_naming_the_cap(tmp_path):
    big = tmp_path / "big.toml"
    with open(big, "wb") as handle:
        handle.truncate(MAX_BYTES["preset"] + 1)  # sparse: no disk used
    with pytest.raises(InputError, match=r"too big for a preset file \(at most 1 MB\)"):
        read_limited(big, "preset")
    (tmp_path / "bad.toml").write_bytes(b"\xff\xfe")
    with pytest.raises(InputError, match="not UTF-8"):
        read_text_limited(tmp_path / "bad.toml", "preset")


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\u0085", "\r", "\x1c", "\x1d", "\x1e", "\x0b", "\x0c"])
def test_json_lines_split_only_on_newline(separator):
    records = [{"name": f"a{separator}b"}, {"name": "c"}]
    data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode("utf-8")
    lines = list(json_lines(io.BytesIO(data), "x.jsonl"))
    assert [json.loads(raw) for _, raw, _ in lines] == records
    assert [(n, ended) for n, _, ended in lines] == [(1, True), (2, True)]


def test_a_torn_last_line_is_reported_unended_and_an_endless_line_is_refused():
    assert list(json_lines(io.BytesIO(b'{"a": 1}\n{"b"'), "x"))[-1] == (2, b'{"b"', False)
    with pytest.raises(InputError, match="line 1 is longer than 1 MB"):
        list(json_lines(io.BytesIO(b"x" * (MAX_LINE_BYTES + 2)), "x"))


def test_nesting_too_deep_for_the_parsers_is_malformed_input_not_a_recursion_error():
    assert parse_json('{"a": [[1]]}') == {"a": [[1]]} and parse_toml("a = [[1]]") == {"a": [[1]]}
    with pytest.raises(ValueError, match="nested too deeply"):
        parse_json("[" * 200_000)
    with pytest.raises(tomllib.TOMLDecodeError, match="nested too deeply"):
        parse_toml("a = " + "[" * 200_000)
