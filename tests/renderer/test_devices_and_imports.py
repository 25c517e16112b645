"""Device selection and light imports."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bridge.errors import InputError
from renderer.devices import dtype_for, pick_device


def test_device_comes_from_argument_then_environment(monkeypatch):
    import torch

    monkeypatch.setenv("BARLIGHT_DEVICE", "cpu")
    assert pick_device() == "cpu"
    assert pick_device("cpu") == "cpu"
    monkeypatch.delenv("BARLIGHT_DEVICE")
    expected = "cuda" if torch.cuda.is_available() else (
        "mps" if torch.backends.mps.is_available() else "cpu")
    assert pick_device() == expected
    assert dtype_for("cpu") == torch.float32 and dtype_for("cuda") == torch.float16


def test_bad_or_missing_devices_are_input_errors(monkeypatch):
    import torch

    with pytest.raises(InputError, match="unknown device 'tpu'"):
        pick_device("tpu")
    monkeypatch.setenv("BARLIGHT_DEVICE", "gpu0")
    with pytest.raises(InputError, match="BARLIGHT_DEVICE"):
        pick_device()
    if not torch.cuda.is_available():
        with pytest.raises(InputError, match="no CUDA GPU"):
            pick_device("cuda")


def test_contract_modules_import_without_torch_or_diffusers():
    code = ("import sys, renderer, renderer.moment, renderer.conditioning, renderer.presets, renderer.coherence;"
            "from renderer import moment_at, Moment, load_preset;"
            "load_preset('neon');"
            "print(sorted(m for m in ('torch', 'diffusers', 'transformers') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "[]"
