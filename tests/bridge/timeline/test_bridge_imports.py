"""The bridge stays light: importing every bridge module pulls in no torch, Qt, diffusers or matplotlib."""

from __future__ import annotations

import json
import subprocess
import sys

FORBIDDEN = ("torch", "PySide6", "diffusers", "matplotlib", "transformers")

_PROBE = """
import importlib, json, pkgutil, sys
import bridge
names, failures = [], {}
for info in pkgutil.walk_packages(bridge.__path__, "bridge."):
    names.append(info.name)
    try:
        importlib.import_module(info.name)
    except Exception as err:  # report, don't stop: every module must import
        failures[info.name] = f"{type(err).__name__}: {err}"
heavy = sorted({name.split(".")[0] for name in sys.modules} & set(json.loads(sys.argv[1])))
print(json.dumps({"modules": names, "failures": failures, "heavy": heavy}))
"""


def test_every_bridge_module_imports_without_heavy_libraries():
    result = subprocess.run([sys.executable, "-c", _PROBE, json.dumps(FORBIDDEN)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert "bridge.timeline.sources" in report["modules"]
    assert "bridge.timeline.als" in report["modules"]
    assert report["failures"] == {}
    assert report["heavy"] == [], f"bridge imported {report['heavy']}"
