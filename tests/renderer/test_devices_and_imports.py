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


def test_the_cpu_policy_is_set_in_one_module_only():
    """torch's thread count and OpenMP's waiting are set by renderer/devices.py alone (its docstring is the
    policy); everything else calls apply_cpu_policy / wait_passively or uses PASSIVE_WAIT."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    setters = ("set_num_threads(", "set_num_interop_threads(", "OMP_WAIT_POLICY", "OMP_NUM_THREADS")
    found = sorted(str(path.relative_to(root)) for package in ("bridge", "renderer", "barlight")
                   for path in (root / package).rglob("*.py")
                   if any(setter in path.read_text(encoding="utf-8") for setter in setters))
    assert found == ["renderer/devices.py"]


_FAULTS_PER_FRAME = """
import resource, sys
import numpy as np
from renderer.devices import reuse_freed_memory
if sys.argv[1] == "reuse":
    assert reuse_freed_memory()
def frame():  # the renderer's full-size passes at 720p: several frame-sized blocks alive, then all freed
    return [np.ones((720, 1280, 3), np.float32) for _ in range(6)]
frame()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):
    frame()
print((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 20)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc settings; elsewhere a no-op")
def test_freed_frames_are_reused_instead_of_faulted_in_afresh():
    """Frame-sized blocks freed and allocated again: by default some come back as fresh pages from the
    kernel (a fault per 4 KiB page), none once the process keeps its freed memory."""
    def faults(mode: str) -> float:
        out = subprocess.run([sys.executable, "-c", _FAULTS_PER_FRAME, mode], capture_output=True, text=True,
                             check=True)
        return float(out.stdout)

    default, reused = faults("default"), faults("reuse")
    assert default > 1000  # measured 2,900 a round (one 720p frame's worth of pages)
    assert reused < 0.05 * default  # measured 0
