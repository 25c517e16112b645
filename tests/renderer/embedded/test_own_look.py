"""A look of your own: a folder of images becomes a new look and word of the embedded model."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from barlight.cli import main
from renderer.embedded import WEIGHTS_DIR, metrics, tiny_pipeline
from renderer.embedded.evaluation import PAIRS, RHO_THRESHOLD, reference, song_metrics
from renderer.embedded.growth import add_look
from renderer.embedded.looks import LOOK_NAMES, NOISE_CHANNELS
from renderer.embedded.looks.own import OwnLook, palette_from_images, tile_from_images
from renderer.embedded.pipeline import BarlightPipeline
from renderer.embedded.sheets import demo_moments

ORANGE, TEAL = (250, 140, 20), (10, 90, 110)


def weave(seed: int, height: int = 96, width: int = 128) -> np.ndarray:
    """A two-colour picture of slanted, wavy stripes (a period of about 40 pixels): a structure none of the
    built-in looks draws."""
    yy, xx = np.mgrid[0:height, 0:width]
    stripes = np.sin((xx + 2 * yy) / (14 + 2 * seed) + 2 * np.sin(yy / 9)) > 0
    picture = np.empty((height, width, 3), np.uint8)
    picture[stripes], picture[~stripes] = ORANGE, TEAL
    return picture


def test_a_tile_from_images_repeats_without_a_seam_and_keeps_their_structure() -> None:
    tile = tile_from_images([weave(0), weave(1)], size=64).numpy()
    assert tile.shape == (64, 64) and 0.0 <= tile.min() and tile.max() <= 1.0
    np.testing.assert_array_equal(tile[:, 0], tile[:, -1])  # mirror-folded: the torus closes on itself
    np.testing.assert_array_equal(tile[0], tile[-1])
    first = Image.fromarray(weave(0)).crop((16, 0, 112, 96)).resize((16, 16), Image.Resampling.BOX)
    luma = np.asarray(first, float) @ [0.2126, 0.7152, 0.0722]
    assert np.corrcoef(tile[:16, :16].ravel(), luma.ravel())[0, 1] > 0.9  # its first cell is the first image


def test_the_palette_runs_from_the_images_darkest_colour_to_their_brightest() -> None:
    stops = palette_from_images([weave(0)])
    rgb = np.array([[int(c[i:i + 2], 16) for i in (1, 3, 5)] for c in stops], float)
    luma = rgb @ [0.2126, 0.7152, 0.0722]
    assert np.all(np.diff(luma) >= -1.0)  # dark to light, up to the rounding of hex colours
    assert rgb[0].argmax() == 2 and rgb[-1].argmax() == 0  # teal is bluest of its channels, orange reddest


def test_growing_by_a_look_keeps_every_frame_the_model_drew_and_draws_the_new_word_with_its_tile() -> None:
    pipe = tiny_pipeline(0)
    tile = tile_from_images([weave(0)], size=pipe.decoder.config.tile_size)
    grown = add_look(pipe, OwnLook("weave", palette_from_images([weave(0)])), tile)
    context = np.random.default_rng(0).random((3, pipe.context_dim), dtype=np.float32)
    noise = torch.randn(pipe.noise_shape(3, 64, 64), generator=torch.Generator().manual_seed(1))
    n_looks = len(LOOK_NAMES)
    for prompt in ("ink", "cells, fire", "", "stars, fine"):
        rows = [torch.from_numpy(p.prompt_row([(prompt, 1.0)]))[None].expand(3, -1) for p in (pipe, grown)]
        with torch.no_grad():
            was, now = (p.fields(torch.from_numpy(context), row, noise) for p, row in zip((pipe, grown), rows))
        # the model's fields are the same up to float rounding (a wider matmul may round differently) ...
        for name in ("shading", "table"):
            torch.testing.assert_close(getattr(now, name), getattr(was, name), atol=1e-5, rtol=0)
        torch.testing.assert_close(now.phases[:, :n_looks], was.phases, atol=1e-5, rtol=0)
        assert float(now.look_weights[:, n_looks:].abs().max()) == 0.0  # the new look takes no part
        # ... and so are the pixels, but where a rounding crosses a shape's hard edge (a handful of values)
        before = pipe(context, rows[0], noise=noise, height=64, width=64).images
        after = grown(context, rows[1], noise=noise, height=64, width=64).images
        assert np.mean(np.abs(after - before) > 1e-5) < 1e-3
    assert grown.look_names == (*LOOK_NAMES, "weave") and "weave" in [w.text for w in grown.vocabulary.words]
    row = grown.prompt_row([("weave", 1.0)])
    assert row[len(LOOK_NAMES)] == 1.0 and row[:len(LOOK_NAMES)].sum() == 0.0


def test_a_grown_model_round_trips_through_its_folder(tmp_path) -> None:
    pipe = tiny_pipeline(0)
    grown = add_look(pipe, OwnLook("weave", palette_from_images([weave(0)]), images=1),
                     tile_from_images([weave(0)], size=pipe.decoder.config.tile_size))
    grown.save_pretrained(tmp_path / "model", weights_dtype="float32")
    back = BarlightPipeline.from_pretrained(tmp_path / "model")
    assert back.look_names == grown.look_names and back.looks[-1].palette == grown.looks[-1].palette
    context = np.random.default_rng(0).random((2, pipe.context_dim), dtype=np.float32)
    noise = torch.randn(pipe.noise_shape(2, 64, 64), generator=torch.Generator().manual_seed(2))
    prompt = grown.prompt_row([("weave", 1.0)])
    np.testing.assert_array_equal(back(context, prompt, noise=noise, height=64, width=64).images,
                                  grown(context, prompt, noise=noise, height=64, width=64).images)


def test_finetuning_on_a_folder_of_images_makes_a_new_look_and_word(tmp_path) -> None:
    """`barlight train --finetune WEIGHTS --data FOLDER_OF_IMAGES` as a user runs it: a classifier on structure
    descriptors, fitted on every look's own frames (the folder's look: its tile drawn by its recipe), assigns
    the frames the model draws for the new word, on other compositions, to the folder's look; and they still
    follow the music (loudness, brightness, onsets) as every look does."""
    folder = tmp_path / "weave"
    folder.mkdir()
    for seed in range(3):
        Image.fromarray(weave(seed)).save(folder / f"{seed}.png")
    assert main(["train", "--finetune", str(WEIGHTS_DIR), "--data", str(folder), "--out", str(tmp_path / "run"),
                 "--songs", "1", "--clips", "0", "--steps", "24", "--batch-size", "8", "--no-eval"]) == 0
    pipe = BarlightPipeline.from_pretrained(tmp_path / "run" / "model")
    assert pipe.look_names[-1] == "weave"

    context, _ = demo_moments()
    noise = torch.randn(len(context), NOISE_CHANNELS, 64, 64, generator=torch.Generator().manual_seed(2))
    own_frames = [metrics.structure_descriptors(reference(pipe, context, noise, look, size=256))
                  for look in pipe.look_names]
    classifier = metrics.RidgeClassifier().fit(np.concatenate(own_frames), np.repeat(pipe.look_names, len(context)))
    noise = torch.randn(len(context), NOISE_CHANNELS, 64, 64, generator=torch.Generator().manual_seed(3))
    drawn = pipe(context, pipe.prompt_row([("weave", 1.0)]), noise=noise, height=256, width=256).images
    assigned = classifier.predict(metrics.structure_descriptors(drawn))
    assert np.mean(assigned == "weave") >= 0.9, assigned

    rho = song_metrics(pipe, demo_moments(48)[0], "weave")
    assert min(rho[f"rho_{audio}_{picture}"] for audio, picture in PAIRS) >= RHO_THRESHOLD, rho


@pytest.mark.parametrize("word, problem", [("ink", "already a word"), ("x", "2-24 letters")])
def test_a_look_word_that_is_taken_or_not_a_word_is_refused_in_one_line(tmp_path, capsys, word, problem) -> None:
    folder = tmp_path / "pictures"
    folder.mkdir()
    Image.fromarray(weave(0)).save(folder / "a.png")
    assert main(["train", "--finetune", str(WEIGHTS_DIR), "--data", str(folder), "--word", word,
                 "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "--word" in err and problem in err
    assert not (tmp_path / "run").exists()


def test_a_word_without_a_folder_of_images_is_refused(tmp_path, capsys) -> None:
    assert main(["train", "--finetune", str(WEIGHTS_DIR), "--word", "weave", "--out", str(tmp_path / "run")]) == 2
    assert "--word" in capsys.readouterr().err
