"""``barlight bench`` through the real CLI entry point: JSON with fps, both backends, errors."""

from __future__ import annotations

import json

from barlight.cli import main


def test_bench_json_reports_fps_for_each_backend(tiny_sd_folder, fake_hub, capsys):
    code = main(["bench", "--backend", "embedded", "--random-weights", "--backend", "diffusers",
                 "--model", str(tiny_sd_folder), "--size", "64x64", "--frames", "3", "--warmup", "1",
                 "--device", "cpu", "--json"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert [r["backend"] for r in out["results"]] == ["embedded", "diffusers"]
    for r in out["results"]:
        assert r["fps"] > 0 and r["ms_median"] > 0 and r["ms_p95"] >= r["ms_median"]
        assert r["peak_memory_mib"] > 0 and (r["width"], r["height"]) == (64, 64) and r["frames"] == 3
    assert out["fps"] == out["results"][0]["fps"]
    assert out["machine"]["cpu_count"] >= 1


def test_bench_errors_are_one_line_exit_2(capsys):
    assert main(["bench", "--size", "100x7"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--size" in err[0]
    assert main(["bench", "--backend", "diffusers", "--model", "/no/such/model", "--frames", "1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "/no/such/model: no such model folder" in err[0]


def test_bench_architecture_times_the_stream_path_against_the_plain_pipeline(capsys):
    code = main(["bench", "--backend", "diffusers", "--architecture", "sdxl-turbo", "--random-weights", "--tiny",
                 "--variants", "stream,-taesd,plain call", "--frames", "2", "--warmup", "1", "--device", "cpu",
                 "--clock-seconds", "0.1", "--json"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert out["architecture"] == "sdxl-turbo" and out["reduced"] is True and out["size"] == [64, 64]
    assert [r["name"] for r in out["results"]] == ["stream", "-taesd", "plain call"]
    stream = out["results"][0]
    assert stream["settings"]["vae"] == "taesd" and out["results"][1]["settings"]["vae"] is None
    assert stream["in_force"]["cuda_graphs"] is False  # CUDA-only: off on the CPU
    assert out["fps"] == stream["fps"] > 0 and out["speedup_vs_plain_call"] > 0


def test_bench_architecture_needs_random_weights_and_known_variants(capsys):
    assert main(["bench", "--backend", "diffusers", "--architecture", "sd-turbo"]) == 2
    assert "--architecture: times random weights" in capsys.readouterr().err
    assert main(["bench", "--architecture", "sd-turbo", "--random-weights", "--tiny", "--variants", "warp"]) == 2
    assert "unknown variant 'warp'" in capsys.readouterr().err


def test_bench_times_every_size_asked_for_with_one_model(capsys):
    code = main(["bench", "--backend", "embedded", "--random-weights", "--size", "64x64,96x64", "--frames", "2",
                 "--warmup", "0", "--device", "cpu", "--json"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert [(r["width"], r["height"]) for r in out["results"]] == [(64, 64), (96, 64)]
    assert all(r["backend"] == "embedded" and r["fps"] > 0 for r in out["results"])
