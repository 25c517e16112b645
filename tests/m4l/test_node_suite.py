"""Runs the device's Node tests (tests/m4l/*.test.js) so the one pytest command covers them."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from bridge.protocol.spec import SPECS

HERE = Path(__file__).resolve().parent


def node_executable() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.fail("Node.js 18+ is needed for the Max for Live device tests (install it, e.g. apt install nodejs)")
    return node


def test_device_javascript_under_the_max_standin() -> None:
    files = sorted(str(p) for p in HERE.glob("*.test.js"))
    assert files, "no Node test files found"
    command = [node_executable(), "--test", "--test-reporter=tap", *files]
    result = subprocess.run(command, cwd=HERE, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"node --test failed:\n{result.stdout}\n{result.stderr}"
    assert "# fail 0" in result.stdout and "# pass " in result.stdout, result.stdout


def test_node_tests_check_the_type_tags_of_protocol_v1() -> None:
    """The type-tag table in device.test.js is the one in bridge/protocol/spec.py."""
    source = (HERE / "device.test.js").read_text(encoding="utf-8")
    table = dict(re.findall(r'^\s+"(/daw/\w+)": "(\w+)",$', source, re.M))
    expected = {spec.address: spec.typetags + "".join(tag for _, tag in spec.optional)
                for spec in SPECS.values() if spec.direction == "sender->renderer" and not spec.repeat}
    assert table == expected
