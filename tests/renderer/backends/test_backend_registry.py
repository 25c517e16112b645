"""A backend is one file plus one registry row: a test-only backend, registered for the test,
is chosen by a preset's ``[backend]`` table, checks that table with its own config class, and
runs through the Renderer and ``barlight bench``; ``--backend``/``BARLIGHT_BACKEND`` pick it too."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pytest

from barlight.cli import main
from bridge.errors import InputError
from renderer.backends.base import Backend, BackendConfig, BackendRequest
from renderer.backends.registry import BACKENDS
from renderer.moment import moment_at
from renderer.presets import load_preset
from renderer.renderer import Renderer

SIZE = (32, 32)


# -- the one file --------------------------------------------------------------------------

@dataclass(frozen=True, kw_only=True)
class SolidConfig(BackendConfig):
    level: float = 0.5

    def check(self) -> None:
        if not 0.0 <= self.level <= 1.0:
            raise InputError("level", f"must be 0..1, got {self.level!r}")


class SolidBackend(Backend):
    """Flat grey frames at ``level``, brighter with the conditioning's intensity."""

    name: ClassVar[str] = "solid"
    config_class: ClassVar[type[BackendConfig]] = SolidConfig
    config: SolidConfig

    def to(self, device: str) -> SolidBackend:
        self.config = dataclasses.replace(self.config, device=device)
        return self

    def latent_shape(self, width: int, height: int) -> tuple[int, ...]:
        return (1, 4, 4)

    def __call__(self, request: BackendRequest) -> np.ndarray:
        level = min(1.0, self.config.level + 0.5 * request.conditioning.targets["intensity"])
        return np.full((request.height, request.width, 3), level, np.float32)


# -- the one row ---------------------------------------------------------------------------

@pytest.fixture
def solid(monkeypatch):
    monkeypatch.setitem(BACKENDS, "solid", f"{__name__}:SolidBackend")


def solid_preset(folder, table: str) -> str:
    path = folder / "solid.toml"
    path.write_text(f'name = "Solid"\n[backend]\nname = "solid"\n{table}\n[prompts.default]\ncalm = "grey"\n'
                    '[reactivity.intensity]\nenergy = 1.0\n')
    return str(path)


def test_a_preset_selects_the_registered_backend_and_its_settings_reach_it(solid, tmp_path, tempo_map, tracks):
    moment = moment_at(tempo_map, tracks["hum"], 3.0)
    frames = {}
    for level in (0.2, 0.6):
        folder = tmp_path / str(level)
        folder.mkdir()
        renderer = Renderer.from_preset(solid_preset(folder, f"level = {level}"), size=SIZE, device="cpu")
        assert type(renderer.backend) is SolidBackend and renderer.backend.config.level == level
        frames[level] = renderer.render(moment).frame
    assert frames[0.6].mean() - frames[0.2].mean() > 0.3 * 255
    loud = Renderer.from_preset(solid_preset(tmp_path, "level = 0.2"), size=SIZE, device="cpu")
    assert loud.render(moment_at(tempo_map, tracks["noise"], 3.0)).frame.mean() > frames[0.2].mean() + 20


@pytest.mark.parametrize("table, expected", [
    ("level = 2.0", "backend.level: must be 0..1, got 2.0"),
    ('level = "dim"', "backend.level: must be a number, got 'dim'"),
    ("colour = 1", "backend.colour: unknown key for backend 'solid' (allowed: name, level)"),
])
def test_its_own_config_class_checks_the_table(solid, tmp_path, table, expected):
    path = solid_preset(tmp_path, table)
    with pytest.raises(InputError) as info:
        load_preset(path)
    assert str(info.value) == f"{path}: {expected}"


def test_barlight_bench_times_the_presets_backend(solid, tmp_path, capsys):
    code = main(["bench", "--preset", solid_preset(tmp_path, "level = 0.3"), "--size", "32x32", "--frames", "2",
                 "--warmup", "0", "--device", "cpu", "--json"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert [(r["backend"], r["preset"], r["frames"]) for r in out["results"]] == [("solid", "Solid", 2)]
    assert out["results"][0]["fps"] > 0


def test_backend_and_environment_overrides_pick_it_with_its_defaults(solid, monkeypatch):
    renderer = Renderer.from_preset("neon", backend="solid", size=SIZE, device="cpu")
    assert type(renderer.backend) is SolidBackend and renderer.backend.config == SolidConfig()
    monkeypatch.setenv("BARLIGHT_BACKEND", "solid")
    assert type(Renderer.from_preset("neon", size=SIZE, device="cpu").backend) is SolidBackend
    with pytest.raises(InputError, match="^--model: backend 'solid' takes no model$"):
        Renderer.from_preset("neon", size=SIZE, device="cpu", model="some/model")
    monkeypatch.setenv("BARLIGHT_BACKEND", "nope")
    with pytest.raises(InputError, match=r"^BARLIGHT_BACKEND: unknown backend 'nope' \(available: .*solid\)$"):
        Renderer.from_preset("neon", size=SIZE, device="cpu")
    with pytest.raises(InputError, match="^--backend: unknown backend 'nope'"):
        Renderer.from_preset("neon", backend="nope", size=SIZE, device="cpu")


def test_from_config_rebuilds_with_overrides_and_describe_names_the_class(solid):
    backend = SolidBackend(level=0.25)
    again = SolidBackend.from_config(backend.config, level=0.75)
    assert again.config == dataclasses.replace(backend.config, level=0.75)
    assert backend.describe() == {"_class_name": "SolidBackend", "device": "cpu", "level": 0.25}
    assert backend.to("meta").device == "meta" and backend.describe()["device"] == "meta"
