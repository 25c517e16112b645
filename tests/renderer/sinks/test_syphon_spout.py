"""The Syphon and Spout outputs against fakes of their libraries' calls (this box has neither macOS nor Windows):
what each adapter asks of syphon-python and SpoutGL, frame by frame, and its one-line errors elsewhere.
Untested on real hardware (docs/preview.md says so)."""

from __future__ import annotations

import sys
import types

import numpy as np
import pytest

from bridge.errors import BarlightError
from renderer.sinks import open_video_out
from renderer.sinks.base import FramePosition


def position(beat: float = 4.0) -> FramePosition:
    return FramePosition(seconds=beat / 2, beat=beat, bar=2, beat_in_bar=0.0, bpm=120.0, numerator=4, denominator=4)


def frames(count: int, size: tuple[int, int] = (8, 6)):
    rng = np.random.default_rng(1)
    return [rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8) for _ in range(count)]


class FakeSyphon:
    """syphon-python's calls the adapter makes: SyphonMetalServer(name) with .device, publish_frame_texture,
    stop; syphon.utils.raw.create_mtl_texture(device, w, h); syphon.utils.numpy.copy_image_to_mtl_texture."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []
        fake = self

        class Server:
            def __init__(self, name: str) -> None:
                self.device = "metal-device"
                fake.calls.append(("server", name))

            def publish_frame_texture(self, texture) -> None:
                fake.calls.append(("publish", texture["id"], texture["pixels"].copy()))

            def stop(self) -> None:
                fake.calls.append(("stop",))

        def create_mtl_texture(device, width, height):
            fake.calls.append(("texture", device, width, height))
            return {"id": len(fake.calls), "pixels": np.zeros((height, width, 4), np.uint8)}

        def copy_image_to_mtl_texture(image, texture):
            assert image.shape == texture["pixels"].shape  # the library asserts (m, n, 4)
            texture["pixels"][:] = image

        self.modules = {"syphon": types.SimpleNamespace(SyphonMetalServer=Server),
                        "syphon.utils.raw": types.SimpleNamespace(create_mtl_texture=create_mtl_texture),
                        "syphon.utils.numpy": types.SimpleNamespace(copy_image_to_mtl_texture=copy_image_to_mtl_texture)}


class FakeSpoutGL:
    """SpoutGL's calls the adapter makes: SpoutSender() with createOpenGL, setSenderName, sendImage(buffer, width,
    height, GL format, invert, host FBO), setFrameSync, releaseSender, closeOpenGL; enums.GL_RGB."""

    GL_RGB = 0x1907

    def __init__(self, accept: bool = True) -> None:
        self.calls: list[tuple] = []
        fake = self

        class SpoutSender:
            def createOpenGL(self) -> bool:
                fake.calls.append(("createOpenGL",))
                return True

            def setSenderName(self, name: str) -> bool:
                fake.calls.append(("name", name))
                return True

            def sendImage(self, pixels, width, height, gl_format, invert, host_fbo) -> bool:
                data = np.frombuffer(memoryview(pixels), np.uint8)
                assert data.size >= width * height * 3 and pixels.flags["C_CONTIGUOUS"]
                fake.calls.append(("image", data[:width * height * 3].reshape(height, width, 3).copy(), width, height,
                                   gl_format, invert, host_fbo))
                return accept

            def setFrameSync(self, name: str) -> None:
                fake.calls.append(("sync", name))

            def releaseSender(self) -> None:
                fake.calls.append(("release",))

            def closeOpenGL(self) -> None:
                fake.calls.append(("closeOpenGL",))

        self.modules = {"SpoutGL": types.SimpleNamespace(SpoutSender=SpoutSender,
                                                         enums=types.SimpleNamespace(GL_RGB=self.GL_RGB))}


def install(monkeypatch, platform: str, modules: dict) -> None:
    monkeypatch.setattr(sys, "platform", platform)
    for name, module in modules.items():
        monkeypatch.setitem(sys.modules, name, module)


def test_syphon_publishes_each_frame_as_an_rgba_texture_of_its_size(monkeypatch):
    fake = FakeSyphon()
    install(monkeypatch, "darwin", fake.modules)
    sink = open_video_out("syphon:Stage", fps=30)
    sent = frames(3) + frames(1, size=(4, 4))
    for frame in sent:
        sink.send(frame, position())
    sink.close()
    assert fake.calls[0] == ("server", "Stage")
    textures = [c for c in fake.calls if c[0] == "texture"]
    assert textures == [("texture", "metal-device", 8, 6), ("texture", "metal-device", 4, 4)]  # one per size
    published = [c for c in fake.calls if c[0] == "publish"]
    assert len(published) == 4 and sink.sent == 4
    for (_, _, pixels), frame in zip(published, sent):
        assert np.array_equal(pixels[..., :3], frame) and (pixels[..., 3] == 255).all()
    assert fake.calls[-1] == ("stop",)
    assert open_video_out("syphon", fps=30).target == "Barlight"


def test_spout_sends_each_frame_as_rgb_and_announces_it(monkeypatch):
    fake = FakeSpoutGL()
    install(monkeypatch, "win32", fake.modules)
    sink = open_video_out("spout:Stage", fps=30)
    sent = frames(3)
    for frame in sent:
        sink.send(frame, position())
    sink.send(sent[0][:, ::-1], position())  # a view that is not contiguous is copied first
    sink.close()
    assert fake.calls[:2] == [("createOpenGL",), ("name", "Stage")]
    images = [c for c in fake.calls if c[0] == "image"]
    assert [c[2:] for c in images] == [(8, 6, FakeSpoutGL.GL_RGB, False, 0)] * 4
    for call, frame in zip(images, [*sent, sent[0][:, ::-1]]):
        assert np.array_equal(call[1], frame)
    assert [c for c in fake.calls if c[0] == "sync"] == [("sync", "Stage")] * 4
    assert fake.calls[-2:] == [("release",), ("closeOpenGL",)] and sink.sent == 4


def test_a_frame_spout_refuses_is_counted_not_raised(monkeypatch):
    fake = FakeSpoutGL(accept=False)
    install(monkeypatch, "win32", fake.modules)
    sink = open_video_out("spout", fps=30)
    sink.send(frames(1)[0], position())
    assert (sink.sent, sink.failed) == (0, 1) and not [c for c in fake.calls if c[0] == "sync"]


@pytest.mark.parametrize("name, platform, modules, message", [
    ("syphon", "linux", {}, r"Syphon output runs on macOS 11\+ only"),
    ("spout", "darwin", {}, "Spout output runs on Windows only"),
    ("syphon", "darwin", {"syphon": None}, r"pip install 'barlight\[syphon\]'"),
    ("spout", "win32", {"SpoutGL": None}, r"pip install 'barlight\[spout\]'"),
])
def test_without_its_platform_or_library_a_video_out_is_a_one_line_error(monkeypatch, name, platform, modules,
                                                                        message):
    install(monkeypatch, platform, modules)  # a None module makes its import fail, as when it is not installed
    with pytest.raises(BarlightError, match=message) as raised:
        open_video_out(name, fps=30)
    assert "\n" not in str(raised.value)
