"""kill -9 of an export over an earlier one, at random instants and at every step of its final swap:
the final names always hold one whole set, the earlier one or the new one (docs/safety.md)."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest

from bridge.files import COMMIT_NAME, recover_set
from tests.hostile.harness import snapshot

#: Both sets' runs: the tiny model, tiny frames, two frames a second.
TINY = ("--size", "64x64", "--fps", "2", "--quiet")
KILLS = 20


def forked(zygote, *args, **kwargs) -> dict:
    answer = zygote.run(*args, **kwargs)
    assert "Traceback" not in answer["stderr"], answer["stderr"]
    return answer


def final_names(folder: Path) -> dict[str, str]:
    """What the user sees: every file of the folder but the hidden working ones (checkpoints, staging)."""
    return {name: digest for name, digest in snapshot(folder).items()
            if not any(part.startswith(".") for part in name.split("/"))}


def export_argv(tiny_model: Path, seed: str) -> list[str]:
    """One set ("preset": both bars with the preset's seed) or the other ("7": bar 1 only, another seed: an
    export over the first removes its bar 2 image, one over it adds the image back)."""
    bars = ("--bars", "1:1") if seed != "preset" else ()
    return ["export", "song.wav", "--timeline", "song.mid", "--out", "earlier", "--model", str(tiny_model),
            *(("--seed", seed) if seed != "preset" else ()), *bars, *TINY]


@pytest.fixture(scope="module")
def arena(library, tiny_model, zygote, tmp_path_factory):
    """A copy of the user's folder and the two whole sets its export folder can hold, as bytes: the earlier
    export made again here (its files name this folder's audio) and a new one with another seed."""
    home = Path(shutil.copytree(library, tmp_path_factory.mktemp("arena") / "home"))
    sets = {}
    for seed in ("preset", "7"):
        answer = forked(zygote, export_argv(tiny_model, seed), home)
        assert answer["returncode"] == 0, answer["stderr"]
        sets[seed] = (final_names(home / "earlier"), answer["seconds"])
    assert "keyframes/bar_0002.png" in sets["preset"][0] and "keyframes/bar_0002.png" not in sets["7"][0]
    return home, sets


def whole_set(folder: Path, sets: dict) -> str:
    """Which whole set the final names hold (finishing a swap a kill cut first, as the next run would)."""
    if (folder / COMMIT_NAME).exists():
        assert recover_set(folder)
    names = final_names(folder)
    matches = [seed for seed, (files, _) in sets.items() if names == files]
    assert matches, sorted(names)
    return matches[0]


def other(seed: str) -> str:
    return "7" if seed == "preset" else "preset"


def test_kill_9_at_random_instants_leaves_one_whole_set(arena, tiny_model, zygote):
    home, sets = arena
    rng = random.Random(17)
    current, kills, phases = whole_set(home / "earlier", sets), 0, {"before the swap": 0, "mid-swap": 0}
    while kills < KILLS:
        target = other(current)
        full_seconds = sets[target][1]
        answer = forked(zygote, export_argv(tiny_model, target), home, kill_after=rng.uniform(0.0, 1.1 * full_seconds))
        if answer["killed"]:
            kills += 1
            phases["mid-swap" if (home / "earlier" / COMMIT_NAME).exists() else "before the swap"] += 1
        else:
            assert answer["returncode"] == 0, answer["stderr"]
        current = whole_set(home / "earlier", sets)
        assert current == target or answer["killed"]
    print(f"{kills} kills: {phases}")


def test_kill_9_at_every_step_of_the_swap_leaves_one_whole_set(arena, tiny_model, zygote):
    home, sets = arena
    step, outcomes = 0, []
    while True:
        before = whole_set(home / "earlier", sets)
        target = other(before)
        answer = forked(zygote, export_argv(tiny_model, target), home, kill_at_step=step)
        after = whole_set(home / "earlier", sets)
        if not answer["killed"]:
            assert answer["returncode"] == 0 and after == target, answer["stderr"]
            break
        assert after == (before if step == 0 else target)  # step 0 is the commit point itself
        outcomes.append(after)
        step += 1
    assert step >= 8  # the commit point, every file of the set, the removals, the end
