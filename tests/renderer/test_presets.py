"""Shipped presets load and differ; broken presets give one-line errors naming file, key and reason."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bridge.errors import InputError
from renderer.presets import builtin_presets, load_preset

GOOD = """
name = "Mine"
[prompts.default]
calm = "a calm sea"
intense = "a stormy sea"
[reactivity.flash]
onset = 1.0
"""


def with_backend(table: str) -> str:
    """GOOD with a ``[backend]`` table (after the top-level keys, as TOML needs)."""
    return GOOD.replace("[prompts.default]", f"[backend]\n{table}[prompts.default]")


def test_at_least_five_distinct_presets_ship():
    presets = {name: load_preset(name) for name in builtin_presets()}
    assert len(presets) >= 5
    looks = {(p.palette, p.mapping, p.prompts["default"]) for p in presets.values()}
    assert len(looks) == len(presets)
    assert any(p.mapping({"onset": 1.0})["flash"] >= 0.99 for p in presets.values())  # a flash-on-onset preset


def test_a_preset_file_by_path(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text(GOOD)
    preset = load_preset(path)
    assert preset.name == "Mine" and preset.backend == "embedded"
    assert preset.section_key("Chorus") == "default"  # no chorus prompts: the default ones
    assert preset.mapping({"onset": 0.5})["flash"] == 0.5


@pytest.mark.parametrize("text, expected", [
    ("colour = 3\n" + GOOD, "unknown key 'colour'"),
    (GOOD.replace('name = "Mine"', 'name = "Mine"\nresolution = [250, 256]'), "resolution must be"),
    (GOOD.replace("[reactivity.flash]", "[reactivity.flicker]"), "reactivity: unknown target 'flicker'"),
    (GOOD.replace("onset = 1.0", "onsett = 1.0"), "unknown source 'onsett'"),
    (GOOD.replace("[prompts.default]", "[prompts.verse]"), "needs a [prompts.default] table"),
    (GOOD.replace('name = "Mine"', 'name = "Mine"\nbackend = "dalle"'), "backend.name must be one of"),
    (GOOD.replace('name = "Mine"', 'name = "Mine"\nbackend = "diffusers"'), "backend.model is required"),
    (with_backend('name = "dalle"\n'), "backend.name must be one of embedded, diffusers, got 'dalle'"),
    (with_backend('name = "diffusers"\nsteps = 2\n'), "backend.model is required for backend 'diffusers'"),
    (with_backend('name = "diffusers"\nmodel = "m"\nsteps = "2"\n'), "backend.steps: must be an integer"),
    (with_backend('name = "diffusers"\nmodel = "m"\nsteps = 90\n'), "backend.steps: must be 1..50"),
    (with_backend('name = "diffusers"\nmodel = "m"\nvae = 3\n'), "backend.vae: must be a string, got 3"),
    (with_backend('name = "diffusers"\nmodel = "m"\nsampler = "x"\n'),
     "backend.sampler: unknown key for backend 'diffusers'"),
    (with_backend('name = "embedded"\nsteps = 9\n'), "backend.steps: the embedded model runs 1..8 steps"),
    (with_backend('name = "embedded"\nguidance_scale = 2.0\n'),
     "backend.guidance_scale: unknown key for backend 'embedded'"),
    (with_backend('name = "embedded"\ndevice = "cuda"\n'), "backend.device: chosen when running"),
    ('model = "m"\n' + with_backend('name = "diffusers"\nmodel = "m"\n'), "model belongs in the [backend] table"),
    (GOOD.replace('name = "Mine"', 'name = "Mine"\npalette = ["red", "#000000"]'), "palette colour"),
    ('name = "Mine"\n[prompts', "not valid TOML"),
])
def test_broken_presets_name_file_and_reason(tmp_path, text, expected):
    path = tmp_path / "broken.toml"
    path.write_text(text)
    with pytest.raises(InputError) as info:
        load_preset(path)
    message = str(info.value)
    assert expected in message and str(path) in message and "\n" not in message


def test_the_old_flat_form_reads_as_the_backend_table(tmp_path):
    from renderer.backends.embedded import EmbeddedConfig

    (tmp_path / "flat.toml").write_text(GOOD.replace(
        'name = "Mine"', 'name = "Mine"\nbackend = "diffusers"\nmodel = "m"\nsteps = 2\nguidance_scale = 1'))
    (tmp_path / "table.toml").write_text(with_backend('name = "diffusers"\nmodel = "m"\nsteps = 2\nguidance_scale = 1\n'))
    flat, table = load_preset(tmp_path / "flat.toml"), load_preset(tmp_path / "table.toml")
    assert flat.backend == table.backend == "diffusers"
    assert flat.backend_config == table.backend_config
    assert (table.backend_config.model, table.backend_config.steps) == ("m", 2)
    assert table.backend_config.guidance_scale == 1.0 and isinstance(table.backend_config.guidance_scale, float)
    # the flat keys were only ever the diffusers backend's: an old embedded preset keeps its defaults
    (tmp_path / "old.toml").write_text(GOOD.replace('name = "Mine"', 'name = "Mine"\nbackend = "embedded"\nsteps = 1'))
    old = load_preset(tmp_path / "old.toml")
    assert old.backend == "embedded" and old.backend_config == EmbeddedConfig() and old.backend_config.steps == 1


def test_unknown_preset_name_lists_the_shipped_ones():
    with pytest.raises(InputError, match="neon"):
        load_preset("no-such-preset")


def test_a_folder_named_like_a_shipped_preset_does_not_hide_it(tmp_path, monkeypatch):
    """`barlight demo --preset mandala --out mandala` makes the folder before the export loads the preset."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mandala").mkdir()
    assert load_preset("mandala").name == load_preset(builtin_presets()["mandala"]).name
    (tmp_path / "mine").write_text(GOOD)  # a file by that name is still read, suffix or not
    assert load_preset("mine").name == "Mine"


def test_cli_reports_a_broken_preset_in_one_line_and_exits_2(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text("foo = 1\n" + GOOD)
    proc = subprocess.run([sys.executable, "-m", "barlight", "bench", "--preset", str(path), "--frames", "1"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "broken.toml" in lines[0] and "unknown key 'foo'" in lines[0]


def test_a_fitted_mapping_plugs_in_instead_of_reactivity_tables(tmp_path):
    from renderer.conditioning import Mapping

    fitted = Mapping.fit([{"energy": 0.0}, {"energy": 1.0}, {"energy": 0.5}],
                         [{"flash": 0.1}, {"flash": 0.9}, {"flash": 0.5}])
    fitted.save(tmp_path / "mine.json")
    (tmp_path / "mine.toml").write_text('name = "Fitted"\nmapping = "mine.json"\n'
                                        '[prompts.default]\ncalm = "a calm sea"\n')
    preset = load_preset(tmp_path / "mine.toml")
    assert preset.mapping({"energy": 0.75})["flash"] == pytest.approx(0.7, abs=1e-3)
    (tmp_path / "both.toml").write_text('name = "Both"\nmapping = "mine.json"\n[prompts.default]\ncalm = "x"\n'
                                        '[reactivity.flash]\nonset = 1.0\n')
    with pytest.raises(InputError, match="either mapping"):
        load_preset(tmp_path / "both.toml")


@pytest.mark.parametrize("name", ["turbo", "turbo-xl"])
def test_the_turbo_presets_hit_on_onsets_walk_bar_to_bar_and_change_scene_per_section(name, tiny_embedded,
                                                                                      tempo_map, tracks):
    """Conditioning only (no model): onsets raise the img2img strength and the kick, the seed walk runs from
    one bar's keyframe seed to the next, the kick's seed is the beat's, and each section has its own prompts."""
    from renderer.moment import moment_at
    from renderer.renderer import Renderer

    renderer = Renderer(tiny_embedded, load_preset(name), (64, 64))

    def at(seconds: float):
        return renderer.condition(moment_at(tempo_map, tracks["clicks"], seconds))

    just_after = [at(2.0 + k * 0.5 + 0.04) for k in range(6)]  # a click every beat (0.5 s)
    between = [at(2.0 + k * 0.5 + 0.40) for k in range(6)]
    for target in ("strength", "kick"):
        assert min(c.targets[target] for c in just_after) - max(c.targets[target] for c in between) > 0.2, target
    bar3 = tempo_map.bar_start_seconds(3)
    assert (at(bar3).walk.seed_from, at(bar3).walk.position) == (renderer.seed_for_bar(3), 0.0)
    assert at(bar3 - 1e-6).walk.seed_to == renderer.seed_for_bar(3) and at(bar3 - 1e-6).walk.position > 0.999
    assert at(bar3 + 0.1).walk.kick_seed == at(bar3 + 0.4).walk.kick_seed != at(bar3 + 0.6).walk.kick_seed
    verse, chorus = at(3.9), at(4.1)  # the fixture's chorus starts at bar 3
    assert not {p for p, _ in verse.prompts} & {p for p, _ in chorus.prompts}


def test_a_preset_is_monochrome_when_every_palette_its_prompts_name_is_grey(tmp_path) -> None:
    from renderer.preset_metrics import is_monochrome

    assert is_monochrome(load_preset("strobe")) and not is_monochrome(load_preset("neon"))
    text = 'name = "Half"\n[backend]\nname = "embedded"\n[prompts.default]\ncalm = "stars, mono"\nintense = "stars, fire"\n'
    (tmp_path / "half.toml").write_text(text)
    assert not is_monochrome(load_preset(tmp_path / "half.toml"))  # one colour word is enough to be a colour preset
    (tmp_path / "none.toml").write_text(text.replace(", fire", "").replace(", mono", ""))
    assert not is_monochrome(load_preset(tmp_path / "none.toml"))  # no palette word: the looks' own colours
