"""The embedded backend reads the frame's prompt blend through the model's vocabulary."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np

from bridge.errors import InputWarning
from renderer.backends.base import BackendRequest
from renderer.embedded.vocabulary import prompt_meaning
from renderer.moment import moment_at
from renderer.presets import load_preset
from renderer.renderer import Renderer


def test_the_prompt_blend_chooses_the_look(tiny_embedded, tempo_map, tracks):
    renderer = Renderer(tiny_embedded, load_preset("ember"), (64, 64))
    moment = moment_at(tempo_map, tracks["steady"], 3.0)
    cond = renderer.condition(moment)

    def frame(prompts):
        request = BackendRequest(dataclasses.replace(cond, prompts=prompts), moment, renderer.latents(cond.walk),
                                 None, 1.0, 0, 64, 64)
        return np.asarray(tiny_embedded(request))

    ink, cells = frame((("ink", 1.0),)), frame((("cells", 1.0),))
    assert np.abs(ink - cells).mean() > 1e-3
    np.testing.assert_array_equal(ink, frame((("marble", 1.0),)))  # a synonym is the same look
    np.testing.assert_array_equal(tiny_embedded.prompt_row((("ink", 0.5), ("cells", 0.5))),
                                  prompt_meaning([("ink", 0.5), ("cells", 0.5)]))


def test_unknown_words_are_noticed_once_in_one_line(tiny_embedded):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        row = tiny_embedded.prompt_row((("teapot ink", 1.0),))
        tiny_embedded.prompt_row((("teapot ink", 1.0), ("cells", 0.0)))
    notices = [w.message for w in caught if issubclass(w.category, InputWarning)]
    assert len(notices) == 1 and "teapot" in str(notices[0]) and "barlight looks" in str(notices[0])
    assert "\n" not in str(notices[0])
    np.testing.assert_array_equal(row, prompt_meaning([("ink", 1.0)]))  # and otherwise ignored
