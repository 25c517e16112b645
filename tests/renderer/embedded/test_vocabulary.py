"""The embedded model's vocabulary: prompts -> word weights, with what a prompt asks of the picture."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from renderer.embedded.looks import LOOK_NAMES, LOOKS, PALETTES, palette_tensor
from renderer.embedded.vocabulary import (DEFAULT_LOOK, KINDS, MOTION_WORDS, TEXTURE_WORDS, default_vocabulary,
                                          encode_prompts, meaning, prompt_meaning, split_words, unknown_words)


@pytest.fixture(scope="module")
def vocab():
    return default_vocabulary()


def test_every_look_and_palette_word_and_synonym_is_in_the_vocabulary(vocab):
    for look in LOOKS:
        for word in look.words:
            assert vocab.words[vocab.index(word)].meaning == look.name
    for palette in PALETTES:
        for word in palette.words:
            assert vocab.words[vocab.index(word)].meaning == palette.name
    assert set(TEXTURE_WORDS) | set(MOTION_WORDS) <= {w.text for w in vocab.words}


def test_prompts_split_into_lower_case_words_without_stopwords():
    assert split_words("A tunnel of NEON rings, over the ice!") == ["tunnel", "neon", "rings", "ice"]


def test_unknown_words_are_listed_once_in_order(vocab):
    assert unknown_words(["dim neon haze over a wet street", "haze and cells"], vocab) == ["dim", "haze", "wet",
                                                                                          "street"]


def test_each_kind_sums_to_the_blend_weight(vocab):
    bag = encode_prompts([("ink, fire", 0.25), ("tunnel rings, fast", 0.75)], vocab)
    for k, kind in enumerate(KINDS):
        kind_weight = sum(bag.weights[i] for i, w in enumerate(vocab.words) if w.kind == kind)
        assert kind_weight + bag.defaults[k] == pytest.approx(1.0)
    # a prompt that names no palette gives its weight to the palette default
    assert bag.defaults[KINDS.index("palette")] == pytest.approx(0.75)
    assert bag.weights[vocab.index("tunnel")] == pytest.approx(0.375)  # two look words share 0.75


def parts(row: np.ndarray) -> dict:
    """A meaning row's look weights (by name), palette stops, scale and motion."""
    n = len(LOOKS)
    return {"looks": dict(zip(LOOK_NAMES, row[:n].tolist())), "palette": torch.from_numpy(row[n:-2]).view(-1, 3),
            "scale": float(row[-2]), "motion": float(row[-1])}


def test_synonyms_mean_the_same_picture(vocab):
    np.testing.assert_allclose(prompt_meaning([("rings, lava", 1.0)], vocab), prompt_meaning([("tunnel, fire", 1.0)], vocab))


def test_meaning_of_a_blend(vocab):
    m = parts(meaning(encode_prompts([("ink, mono, still", 0.3), ("cells", 0.7)], vocab), vocab))
    assert m["looks"]["ink"] == pytest.approx(0.3) and m["looks"]["cells"] == pytest.approx(0.7)
    own = {look.name: palette_tensor(look.palette, 1)[0] for look in LOOKS}
    # the prompt without a palette word (weight 0.7) colours each look with its own palette, by look weight
    expected = 0.3 * palette_tensor("mono", 1)[0] + 0.7 * (0.3 * own["ink"] + 0.7 * own["cells"])
    assert torch.allclose(m["palette"], expected, atol=1e-6)
    assert m["motion"] == pytest.approx(0.3 * MOTION_WORDS["still"] + 0.7 * 1.0)


def test_an_empty_prompt_gets_every_default(vocab):
    m = parts(prompt_meaning([("", 1.0)], vocab))
    assert max(m["looks"], key=m["looks"].get) == DEFAULT_LOOK
    assert m["scale"] == pytest.approx(0.5) and m["motion"] == pytest.approx(1.0)
    assert sum(m["looks"].values()) == pytest.approx(1.0)


def test_each_look_word_lands_on_its_look(vocab):
    for look in LOOKS:
        for word in look.words:
            m = parts(prompt_meaning([(f"a {word.upper()} dream", 1.0)], vocab))
            assert m["looks"][look.name] == pytest.approx(1.0), word


def test_describe_lists_every_kind(vocab):
    lines = vocab.describe().splitlines()
    assert [line.split(":")[0] for line in lines] == list(KINDS)
    assert "ink" in lines[0] and "fire" in lines[1]
