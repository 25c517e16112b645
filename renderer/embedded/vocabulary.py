"""The embedded model's words: what a prompt can say to it, and how a prompt becomes numbers.

The embedded "text encoder" is a learned embedding over this documented vocabulary, not a
language model. Four kinds of word:

* **look** words choose the structure: every look of :mod:`renderer.embedded.looks` and its
  synonyms (``tunnel``, ``rings``, ``ink``, ``cells`` ...);
* **palette** words choose the colours: every palette and its synonyms (``fire``, ``ice``, ``mono`` ...);
* **texture** words set the scale of the structure: ``fine`` ... ``coarse``;
* **motion** words scale the beat-locked motion: ``still`` ... ``wild``.

A prompt is split into words (letters only, any case); :data:`STOPWORDS` (articles,
prepositions, "and", "with" ...) are skipped silently; any other word outside the vocabulary is
reported once so the user knows it does nothing here (it still matters to the diffusers
backend, which reads the same prompts). :func:`encode_prompts` turns a weighted prompt blend
-- what the Renderer hands a backend -- into a :class:`PromptBag`: per kind, the weight of
each word, with the weight of prompts that name no word of that kind given to the kind's
*default* slot (the look's own palette, medium scale, normal motion). :func:`meaning` turns
that into the model's prompt row (look weights, palette colours, scale, motion), which the
model's :class:`renderer.embedded.models.PromptEncoder` embeds; blends between sections are
blends of rows, the way the model was trained.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

KINDS: tuple[str, ...] = ("look", "palette", "texture", "motion")

#: Texture words -> scale of the structure (0 coarse .. 1 fine).
TEXTURE_WORDS: dict[str, float] = {
    "coarse": 0.0, "bold": 0.15, "broad": 0.2, "medium": 0.5, "fine": 0.85, "intricate": 0.95, "detailed": 0.9,
}
#: Motion words -> multiplier of the beat-locked motion (0 still .. 2 wild).
MOTION_WORDS: dict[str, float] = {
    "still": 0.0, "frozen": 0.0, "calm": 0.35, "slow": 0.45, "gentle": 0.5, "steady": 0.7,
    "pulsing": 1.0, "pulse": 1.0, "dancing": 1.2, "fast": 1.4, "wild": 2.0, "frantic": 2.0,
}
DEFAULT_SCALE = 0.5
DEFAULT_MOTION = 1.0

#: Words skipped without notice: they carry no picture meaning in any prompt.
STOPWORDS = frozenset("""
a an the of in on over under into onto from to at by for with without and or but as is are be
its it this that these those very some many much more most lots through across around between
while during than then like
""".split())

_WORD = re.compile(r"[a-z]+")


@dataclass(frozen=True)
class Word:
    """One vocabulary entry: the ``text``, its ``kind`` and what it names (a look or palette name,
    or a number for texture and motion words)."""

    text: str
    kind: str
    meaning: str | float


@dataclass(frozen=True)
class Vocabulary:
    """The words, in a fixed order (their row in the model's embedding table)."""

    words: tuple[Word, ...]

    @property
    def size(self) -> int:
        return len(self.words)

    def index(self, text: str) -> int | None:
        return self._index().get(text)

    @lru_cache(maxsize=1)
    def _index(self) -> dict[str, int]:
        return {w.text: i for i, w in enumerate(self.words)}

    def of_kind(self, kind: str) -> tuple[Word, ...]:
        return tuple(w for w in self.words if w.kind == kind)

    def describe(self) -> str:
        """One line per kind: ``look: tunnel rings ...`` (what ``barlight looks`` prints)."""
        return "\n".join(f"{kind}: {' '.join(w.text for w in self.of_kind(kind))}" for kind in KINDS)


@lru_cache(maxsize=4)
def default_vocabulary(extra_looks: tuple[str, ...] = ()) -> Vocabulary:
    """The shipped vocabulary: every look and palette word, the texture and motion words, plus
    ``extra_looks`` (the words of looks learned from a user's images, each naming itself)."""
    from renderer.embedded.looks import LOOKS, PALETTES

    words: list[Word] = []
    seen: set[str] = set()

    def add(text: str, kind: str, meaning: str | float) -> None:
        if text not in seen:
            seen.add(text)
            words.append(Word(text, kind, meaning))

    for look in LOOKS:
        for text in look.words:
            add(text, "look", look.name)
    for text in extra_looks:
        add(text, "look", text)
    for palette in PALETTES:
        for text in palette.words:
            add(text, "palette", palette.name)
    for text, scale in TEXTURE_WORDS.items():
        add(text, "texture", scale)
    for text, amount in MOTION_WORDS.items():
        add(text, "motion", amount)
    return Vocabulary(tuple(words))


def split_words(prompt: str) -> list[str]:
    """The lower-case words of a prompt, stopwords removed."""
    return [w for w in _WORD.findall(prompt.lower()) if w not in STOPWORDS]


def unknown_words(prompts: Iterable[str], vocabulary: Vocabulary) -> list[str]:
    """Words of ``prompts`` that are neither in the vocabulary nor stopwords, first occurrence order."""
    out: list[str] = []
    for prompt in prompts:
        for word in split_words(prompt):
            if vocabulary.index(word) is None and word not in out:
                out.append(word)
    return out


@dataclass(frozen=True)
class PromptBag:
    """A prompt blend as numbers: ``weights`` ``(vocabulary.size,)`` and ``defaults`` ``(len(KINDS),)``.

    Per kind, the word weights plus the kind's default weight sum to 1 (the blend's total weight
    normalised), so each kind is a convex combination of its word vectors and its default vector.
    """

    weights: np.ndarray
    defaults: np.ndarray

def encode_prompts(blend: Sequence[tuple[str, float]], vocabulary: Vocabulary) -> PromptBag:
    """``[(prompt, weight), ...]`` -> :class:`PromptBag`. Within one prompt the words of a kind
    share its weight equally; a prompt with no word of a kind gives its weight to that kind's default."""
    weights = np.zeros(vocabulary.size, np.float64)
    defaults = np.zeros(len(KINDS), np.float64)
    total = sum(max(float(w), 0.0) for _, w in blend)
    if total <= 0.0:
        blend, total = [("", 1.0)], 1.0
    for prompt, weight in blend:
        share = max(float(weight), 0.0) / total
        if share == 0.0:
            continue
        by_kind: dict[str, list[int]] = {kind: [] for kind in KINDS}
        for word in split_words(prompt):
            i = vocabulary.index(word)
            if i is not None:
                by_kind[vocabulary.words[i].kind].append(i)
        for k, kind in enumerate(KINDS):
            found = by_kind[kind]
            if found:
                for i in found:
                    weights[i] += share / len(found)
            else:
                defaults[k] += share
    return PromptBag(weights.astype(np.float32), defaults.astype(np.float32))


#: The look a prompt without a look word gets.
DEFAULT_LOOK = "tunnel"
#: Chance that a kind of word appears in a drawn training prompt, and that a prompt is a blend of two.
WORD_CHANCE = {"look": 0.92, "palette": 0.6, "texture": 0.3, "motion": 0.3}
BLEND_CHANCE = 0.25


def meaning_size(n_looks: int) -> int:
    """Length of a meaning row: look weights, palette stops (RGB), scale, motion."""
    from renderer.embedded.looks.palettes import STOPS

    return n_looks + 3 * STOPS + 2


def meaning(bag: PromptBag, vocabulary: Vocabulary, looks=None) -> np.ndarray:
    """What a prompt blend asks of the picture, as the model's prompt row ``(meaning_size,)``:
    look weights (summing to 1), the palette's :data:`STOPS` colours, scale and motion.

    Look words give their weight to their look, the default slot to :data:`DEFAULT_LOOK`;
    palettes mix stop by stop, the palette default colouring each look with its own palette in
    proportion to the look's weight; scale and motion are weighted means with their defaults.
    """
    from renderer.embedded.looks import LOOKS, palette_tensor

    looks = tuple(LOOKS if looks is None else looks)
    index = {look.name: i for i, look in enumerate(looks)}
    default = index.get(DEFAULT_LOOK, 0)
    d = {kind: float(bag.defaults[k]) for k, kind in enumerate(KINDS)}
    shares = np.zeros(len(looks))
    shares[default] += d["look"]
    palette = np.zeros(palette_tensor("mono", 1).shape[1:])
    scale, motion = d["texture"] * DEFAULT_SCALE, d["motion"] * DEFAULT_MOTION
    for word, w in zip(vocabulary.words, bag.weights.astype(np.float64)):
        if w == 0.0:
            continue
        if word.kind == "look":
            shares[index.get(str(word.meaning), default)] += w
        elif word.kind == "palette":
            palette += w * palette_tensor(str(word.meaning), 1)[0].double().numpy()
        elif word.kind == "texture":
            scale += w * float(word.meaning)
        else:
            motion += w * float(word.meaning)
    for j, look in enumerate(looks):
        if shares[j] > 0 and d["palette"] > 0:
            palette += d["palette"] * shares[j] * palette_tensor(look.palette, 1)[0].double().numpy()
    return np.concatenate([shares, palette.ravel(), [scale, motion]]).astype(np.float32)


def prompt_meaning(blend: Sequence[tuple[str, float]], vocabulary: Vocabulary | None = None) -> np.ndarray:
    """``[(prompt, weight), ...]`` (what the Renderer hands a backend) -> the model's prompt row."""
    vocabulary = default_vocabulary() if vocabulary is None else vocabulary
    return meaning(encode_prompts(blend, vocabulary), vocabulary)


def draw_prompt(rng: np.random.Generator, vocabulary: Vocabulary, look: str | None = None) -> str:
    """A prompt as a preset might write it: maybe a look, palette, texture and motion word, any synonym
    (``look``: this look word, always)."""
    words = [look] if look is not None else []
    for kind in KINDS:
        if look is not None and kind == "look":
            continue
        if rng.random() < WORD_CHANCE[kind]:
            choices = vocabulary.of_kind(kind)
            words.append(choices[int(rng.integers(len(choices)))].text)
    rng.shuffle(words)
    return ", ".join(words)


def draw_blend(rng: np.random.Generator, vocabulary: Vocabulary) -> list[tuple[str, float]]:
    """One prompt, or two with complementary weights (a section's calm/intense blend)."""
    if rng.random() < BLEND_CHANCE:
        w = float(rng.uniform(0.1, 0.9))
        return [(draw_prompt(rng, vocabulary), w), (draw_prompt(rng, vocabulary), 1.0 - w)]
    return [(draw_prompt(rng, vocabulary), 1.0)]
