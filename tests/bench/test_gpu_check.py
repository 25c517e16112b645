"""``bench/gpu_check.sh --tiny``: the GPU check's own script, run on this CPU at reduced width, so it cannot rot;
and its install step's one-line answer when a machine lacks the packages and no wheels were carried."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from renderer.benchmark import stream_variants

ROOT = Path(__file__).resolve().parents[2]


def test_gpu_check_tiny_runs_every_variant_of_every_architecture_and_writes_json(tmp_path):
    out = tmp_path / "out"
    env = {**os.environ, "PYTHON": sys.executable, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(["bash", str(ROOT / "bench" / "gpu_check.sh"), "--tiny", "--out", str(out)],
                          env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads((out / "gpu_check.json").read_text())
    assert report["tiny"] is True and report["device"] == "cpu"
    results = report["results"]
    assert not [r for r in results if "error" in r or "skipped" in r]
    ran = {(r["architecture"], r["name"]) for r in results}
    for name in ("sd-turbo", "sdxl-turbo", "sd15-lcm"):
        assert {(name, "stream"), (name, "plain call")} <= ran
    variants = {v.name for v in stream_variants(1) + stream_variants(4)} - {"+compile"}  # compiling: minutes
    assert variants <= {variant for _, variant in ran}
    for r in results:
        assert r["fps"] > 0 and r["ms_per_frame"] > 0 and r["reduced"] is True and r["size"] == [64, 64]
        if "clock" in r:
            assert r["clock"]["rendered"] + r["clock"]["skipped"] == r["clock"]["due"] > 0
    lcm = next(r for r in results if r["architecture"] == "sd15-lcm" and r["name"] == "stream")
    assert lcm["in_force"]["stream_batch"] is True and lcm["frames_late"] == 3
    assert set(report["goals"]) == {"sd-turbo 512", "sdxl-turbo 1024"}
    assert all(goal["fps"] is None and goal["met"] is None for goal in report["goals"].values())  # not measured
    assert len((out / "gpu_check.txt").read_text().splitlines()) == len(results)


def test_without_the_packages_or_carried_wheels_it_says_how_to_get_them(tmp_path):
    bare = tmp_path / "python"  # this Python without its site-packages: no diffusers
    bare.write_text(f"#!/bin/sh\nexec {sys.executable} -S \"$@\"\n")
    bare.chmod(0o755)
    done = subprocess.run(["bash", str(ROOT / "bench" / "gpu_check.sh"), "--wheels", str(tmp_path / "none"),
                           "--out", str(tmp_path / "out")], env={**os.environ, "PYTHON": str(bare)},
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "--fetch-wheels" in lines[0] and "no wheels in" in lines[0]
