"""The embedded model's vocabulary: prompts -> word weights, with what a prompt asks of the picture."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from renderer.embedded.examples import DEFAULT_LOOK, meaning
from renderer.embedded.looks import LOOK_NAMES, LOOKS, PALETTES, palette_tensor
from renderer.embedded.vocabulary import (KINDS, MOTION_WORDS, TEXTURE_WORDS, default_vocabulary, encode_prompts,
                                          split_words, unknown_words)


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


def test_synonyms_mean_the_same_picture(vocab):
    a = torch.from_numpy(encode_prompts([("rings, lava", 1.0)], vocab).vector())[None]
    b = torch.from_numpy(encode_prompts([("tunnel, fire", 1.0)], vocab).vector())[None]
    ma, mb = meaning(a, vocab), meaning(b, vocab)
    assert torch.equal(ma.looks, mb.looks) and torch.allclose(ma.palette, mb.palette)


def test_meaning_of_a_blend(vocab):
    row = encode_prompts([("ink, mono, still", 0.3), ("cells", 0.7)], vocab).vector()
    m = meaning(torch.from_numpy(row)[None], vocab)
    looks = dict(zip(LOOK_NAMES, m.looks[0].tolist()))
    assert looks["ink"] == pytest.approx(0.3) and looks["cells"] == pytest.approx(0.7)
    own = {look.name: palette_tensor(look.palette, 1)[0] for look in LOOKS}
    # the prompt without a palette word (weight 0.7) colours each look with its own palette, by look weight
    expected = 0.3 * palette_tensor("mono", 1)[0] + 0.7 * (0.3 * own["ink"] + 0.7 * own["cells"])
    assert torch.allclose(m.palette[0], expected, atol=1e-6)
    assert m.motion[0] == pytest.approx(0.3 * MOTION_WORDS["still"] + 0.7 * 1.0)


def test_an_empty_prompt_gets_every_default(vocab):
    m = meaning(torch.from_numpy(encode_prompts([("", 1.0)], vocab).vector())[None], vocab)
    assert LOOK_NAMES[int(m.looks[0].argmax())] == DEFAULT_LOOK
    assert float(m.scale[0]) == pytest.approx(0.5) and float(m.motion[0]) == pytest.approx(1.0)
    assert np.isclose(float(m.looks[0].sum()), 1.0)


def test_describe_lists_every_kind(vocab):
    lines = vocab.describe().splitlines()
    assert [line.split(":")[0] for line in lines] == list(KINDS)
    assert "ink" in lines[0] and "fire" in lines[1]
