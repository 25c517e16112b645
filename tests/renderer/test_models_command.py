"""``barlight models`` and ``models get`` against a Hub cache laid out on disk, offline; short names in presets
and ``--model``; and the one-line errors for a missing model, no network and running out of GPU memory."""

from __future__ import annotations

import json
import shutil

import pytest

from barlight.cli import main
from bridge.errors import InputError
from renderer.moment import moment_at
from renderer.renderer import Renderer


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def test_models_lists_what_the_cache_holds(fake_hub, capsys):
    assert main(["models", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["cache"] == str(fake_hub)
    here = {m["name"]: m["downloaded"] for m in out["models"]}
    assert here == {"sd-turbo": True, "sdxl-turbo": True, "sd15-lcm": False, "taesd": True, "taesdxl": True}
    sd_turbo = next(m for m in out["models"] if m["name"] == "sd-turbo")
    assert 2.5 < sd_turbo["size_gb"] < 2.7 and sd_turbo["vram_gb"] > 0 and "non-commercial" in sd_turbo["licence"]
    assert main(["models"]) == 0
    table = capsys.readouterr().out
    assert "sd15-lcm" in table and "MIT" in table and str(fake_hub) in table


def test_models_get_finds_a_downloaded_model_without_the_network(fake_hub, capsys):
    assert main(["models", "get", "sd-turbo"]) == 0
    err = capsys.readouterr().err
    assert f"sd-turbo: ready in {fake_hub}" in err and "taesd: ready in" in err


def test_models_get_offline_without_the_model_says_what_to_do(fake_hub, capsys):
    assert main(["models", "get", "sd15-lcm"]) == 2
    line = one_line(capsys.readouterr().err.split("\n", 1)[1])  # after the model's description line
    assert "sd15-lcm: not downloaded and HF_HUB_OFFLINE is set" in line
    assert main(["models", "get", "sd-99"]) == 2
    assert "name one of sd-turbo" in one_line(capsys.readouterr().err)


def test_models_get_without_a_network_says_what_to_do(fake_hub, tmp_path, monkeypatch, capsys):
    """Online mode, nothing downloaded, and the Hub's endpoint refuses: one line, exit 2, before any download.
    The endpoint is a loopback port bound but not listening (refused at once); a listening one is reachable,
    on its own port (a mirror's ``HF_ENDPOINT`` may name one)."""
    import socket

    cache = tmp_path / "cache"
    shutil.copytree(fake_hub, cache, symlinks=True, ignore=shutil.ignore_patterns("models--madebyollin--taesd"))
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.delenv("HF_HUB_OFFLINE")
    from renderer.hub import hub_reachable

    with socket.socket() as closed, socket.socket() as listening:
        closed.bind(("127.0.0.1", 0))
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{listening.getsockname()[1]}")
        assert hub_reachable(timeout_seconds=2.0)
        monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{closed.getsockname()[1]}")
        assert not hub_reachable(timeout_seconds=2.0)
        assert main(["models", "get", "taesd"]) == 2
    line = one_line(capsys.readouterr().err.split("\n", 1)[1])  # after the model's description line
    assert "taesd: cannot reach the Hugging Face Hub: check the network (or HF_ENDPOINT)" in line
    assert "run the same command again" in line
    assert not (cache / "models--madebyollin--taesd").exists()


def test_a_download_cut_short_does_not_count_as_downloaded(fake_hub, tmp_path, monkeypatch, capsys):
    cache = tmp_path / "cache"
    shutil.copytree(fake_hub, cache, symlinks=True)
    snapshot = next((cache / "models--stabilityai--sd-turbo" / "snapshots").iterdir())
    (snapshot / "unet" / "diffusion_pytorch_model.fp16.safetensors").unlink()
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    assert main(["models", "--json"]) == 0
    here = {m["name"]: m["downloaded"] for m in json.loads(capsys.readouterr().out)["models"]}
    assert here["sd-turbo"] is False and here["taesd"] is True


def test_short_names_work_for_model_and_in_presets(fake_hub, tempo_map, tracks):
    renderer = Renderer.from_preset("neon", backend="diffusers", model="sd-turbo", size=(64, 64), device="cpu")
    assert renderer.backend.t2i.unet.config.cross_attention_dim == 16  # the tiny stand-in from the cache
    assert renderer.render(moment_at(tempo_map, tracks["clicks"], 1.0)).frame.shape == (64, 64, 3)


def test_a_short_name_not_downloaded_is_one_line_saying_how_to_get_it(fake_hub, capsys):
    assert main(["bench", "--backend", "diffusers", "--model", "sd15-lcm", "--frames", "1"]) == 2
    line = one_line(capsys.readouterr().err)
    assert "sd15-lcm: not downloaded yet: run `barlight models get sd15-lcm`" in line


def test_running_out_of_gpu_memory_is_one_line_saying_what_to_do(fake_hub, tempo_map, monkeypatch):
    """The GPU is the system edge here: its allocator's error is raised where the UNet would raise it."""
    import torch

    renderer = Renderer.from_preset("turbo", size=(64, 64), device="cpu")

    def out_of_memory(*args, **kwargs):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(renderer.backend.t2i.unet, "forward", out_of_memory)
    with pytest.raises(InputError) as info:
        renderer.render(moment_at(tempo_map, None, 0.5))
    message = str(info.value)
    assert message.startswith("sd-turbo: out of memory on cpu (about 4 GB") and "--size" in message
    assert "\n" not in message
