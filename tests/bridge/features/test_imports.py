"""The features package starts fast: no librosa, matplotlib, torch, Qt or diffusers at import time."""

from __future__ import annotations

import subprocess
import sys


def test_importing_features_and_the_cli_module_pulls_in_nothing_heavy():
    code = (
        "import sys, bridge.features, bridge.features.plot, bridge.features.summary, barlight.commands.analyze\n"
        "heavy = [m for m in ('librosa', 'matplotlib', 'torch', 'PySide6', 'diffusers', 'numba') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""


def test_streaming_needs_no_matplotlib_or_torch():
    code = (
        "import sys, numpy as np\n"
        "from bridge.features import FeatureExtractor\n"
        "e = FeatureExtractor(48000)\n"
        "frames = e.process(np.zeros(4800, np.float32))\n"
        "assert frames, 'no frames'\n"
        "print(','.join(m for m in ('matplotlib', 'torch', 'PySide6', 'diffusers') if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""
