"""Runs the device's Node tests (tests/m4l/*.test.js) so the one pytest command covers them."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def node_executable() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.fail("Node.js 18+ is needed for the Max for Live device tests (install it, e.g. apt install nodejs)")
    return node


def test_device_javascript_under_the_max_standin() -> None:
    files = sorted(str(p) for p in HERE.glob("*.test.js"))
    assert files, "no Node test files found"
    result = subprocess.run([node_executable(), "--test", "--test-reporter=tap", *files], cwd=HERE, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, f"node --test failed:\n{result.stdout}\n{result.stderr}"
    assert "# fail 0" in result.stdout and "# pass " in result.stdout, result.stdout
