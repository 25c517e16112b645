"""The embedded backend on the weights shipped in renderer/embedded/weights/ (skipped, with the
reason, only while no trained model has been exported to the package yet)."""

from __future__ import annotations

import numpy as np
import pytest

from renderer.embedded.config import WEIGHTS_DIR
from renderer.moment import moment_at

pytestmark = pytest.mark.skipif(not (WEIGHTS_DIR / "model_index.json").is_file(),
                                reason="no trained embedded weights in renderer/embedded/weights/ yet")


@pytest.fixture(scope="module")
def shipped():
    from renderer.renderer import Renderer

    return Renderer.from_preset("ember", size=(64, 64), device="cpu")


def test_the_default_preset_path_loads_the_shipped_model(shipped):
    assert shipped.backend.name == "embedded" and shipped.backend.config["random_init"] is None


def test_shipped_model_is_deterministic_and_hears_the_audio(shipped, tempo_map, tracks):
    from renderer.backends.base import BackendRequest

    def raw(name):
        moment = moment_at(tempo_map, tracks[name], 3.0)
        cond = shipped.condition(moment)
        return shipped.backend(BackendRequest(cond, moment, shipped.latents(cond.walk), None, 1.0, 0, 64, 64))

    assert np.array_equal(raw("hum"), raw("hum"))
    assert float(np.mean(np.abs(raw("hum") - raw("noise")))) > 0.01
