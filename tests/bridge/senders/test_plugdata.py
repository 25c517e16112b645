"""The plugdata sender patch: a valid Pd file whose OSC, sent by Pd vanilla over real UDP, decodes as protocol v1.

plugdata's [playhead] exists only inside the plugin, so Pd vanilla runs the shipped patch
headless (``-batch``: logical time, as fast as it can) with ``tests/bridge/senders/pd/playhead.pd``
standing in for it: Pd loads an abstraction of that name when no built-in object has it.
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from bridge.protocol.decode import decode
from bridge.protocol.messages import AudioMessage, HelloMessage, LoopMessage, TransportMessage
from bridge.senders.plugdata import PATCH

STAND_IN = Path(__file__).with_name("pd")
PD = shutil.which("pd")
needs_pd = pytest.mark.skipif(PD is None, reason="Pd vanilla (`pd`, Debian puredata-core) is not installed")

#: Objects the patch may use: Pd vanilla classes plus plugdata's [playhead].
ALLOWED = {"loadbang", "t", "list", "netsend", "r", "playhead", "f", "change", "unpack", "pack", "metro", "+",
           "mod", "expr", "sel", "oscformat", "makefilename", "adc~", "+~", "*~", "catch~", "env~", "dbtorms",
           "max", "abs~", "tabsend~", "table", "bang~", "array", "samplerate~", "biquad~", "dac~"}


def records(path: Path) -> list[str]:
    text = path.read_text()
    assert text.endswith(";\n")
    return [r.strip() for r in re.split(r"(?<!\\);\n", text) if r.strip()]


def test_the_patch_is_a_valid_pd_file() -> None:
    rows = records(PATCH)
    assert rows[0].startswith("#N canvas ")
    assert not [r for r in rows if re.search(r"(?<!\\);", r)], "an unescaped ; splits a box"
    assert not [r for r in rows if re.search(r"(?<!\\),", r)], "an unescaped , splits a box"
    boxes = [r for r in rows[1:] if r.split()[1] in ("obj", "msg", "text", "floatatom")]
    connects = [r for r in rows if r.startswith("#X connect ")]
    assert len(boxes) + len(connects) + 1 == len(rows)
    classes = [b.split()[4] for b in boxes if b.split()[1] == "obj"]
    assert set(classes) <= ALLOWED, set(classes) - ALLOWED
    assert classes.count("playhead") == 1 and classes.count("netsend") == 1
    for row in connects:
        source, outlet, sink, inlet = (int(v) for v in row.split()[2:6])
        assert 0 <= source < len(boxes) and 0 <= sink < len(boxes)
        assert boxes[source].split()[1] in ("obj", "msg") and boxes[sink].split()[1] in ("obj", "msg")
    # the track's audio passes through: adc~ 1 2 -> dac~ 1 2, both channels
    adc = next(i for i, b in enumerate(boxes) if b.split()[4:] == ["adc~", "1", "2"])
    dac = next(i for i, b in enumerate(boxes) if b.split()[4:] == ["dac~", "1", "2"])
    assert {f"#X connect {adc} {ch} {dac} {ch}" for ch in (0, 1)} <= set(connects)
    formats = {b.split()[6]: b.split()[7:] for b in boxes if "oscformat" in b}
    assert formats == {"iffiifi": ["daw", "transport"], "sss": ["daw", "hello"], "iff": ["daw", "loop"],
                       "ffffffffff": ["daw", "audio"]}


def run_patch(playhead: str, milliseconds: int = 1200, tone: str = "0 0") -> tuple[list, str]:
    """Run the patch in Pd vanilla with the stand-in playhead state ``playhead`` and a test tone
    ``"FREQ AMP"`` at its audio input; decode what it sent."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    sock.bind(("127.0.0.1", 0))
    try:
        port = sock.getsockname()[1]
        done = subprocess.run(
            [PD, "-batch", "-nogui", "-nosound", "-nomidi", "-r", "48000", "-stderr", "-path", str(STAND_IN),
             "-send", f"barlight-connect 127.0.0.1 {port}", "-send", f"fake-playhead {playhead}",
             "-send", f"fake-audio {tone}", "-send", f"fake-quit-after {milliseconds}", "-open", str(PATCH)],
            capture_output=True, text=True, timeout=30,
        )
        assert done.returncode == 0, done.stderr
        sock.settimeout(0.5)
        messages = []
        while True:
            try:
                messages.append(decode(sock.recv(65536)))
            except (TimeoutError, socket.timeout):
                return messages, done.stderr
    finally:
        sock.close()


@needs_pd
def test_playing_streams_hello_loop_and_transport_at_50_hz() -> None:
    # playing, not recording, loop 8..16, 120 BPM, last bar at 14, 7/8, playhead at 17.5
    messages, stderr = run_patch("1 0 1 8 16 120 14 7 8 17.5")
    assert not any(word in stderr.lower() for word in ("error", "failed", "couldn't create")), stderr
    assert messages[0] == HelloMessage("plugdata", "1", messages[0].session_id)
    assert messages[0].session_id.startswith("plugdata-")
    assert LoopMessage(True, 8.0, 16.0) in messages
    transports = [m for m in messages if isinstance(m, TransportMessage)]
    assert set(transports) == {TransportMessage(True, 17.5, 120.0, 7, 8, 14.0, 5)}  # 14 / 3.5 + 1 = bar 5
    assert 55 <= len(transports) <= 62  # 1.2 s of logical time at 50 Hz


@needs_pd
def test_stopped_sends_a_few_times_a_second() -> None:
    messages, _ = run_patch("0 0 0 0 0 97.5 12 4 4 13.25")
    counts = Counter(type(m).__name__ for m in messages)
    assert counts["HelloMessage"] == 1
    transports = [m for m in messages if isinstance(m, TransportMessage)]
    assert set(transports) == {TransportMessage(False, 13.25, 97.5, 4, 4, 12.0, 4)}
    assert 4 <= len(transports) <= 8  # 5 Hz
    assert LoopMessage(False, 0.0, 0.0) in messages


@needs_pd
@pytest.mark.parametrize("hz,band", [(60.0, 0), (1000.0, 4), (12000.0, 7)])
def test_audio_levels_and_bands_from_the_plugin_input(hz: float, band: int) -> None:
    messages, stderr = run_patch("1 0 0 0 0 120 0 4 4 0.5", milliseconds=600, tone=f"{hz:g} 0.5")
    assert not any(word in stderr.lower() for word in ("error", "failed")), stderr
    audio = [m for m in messages if isinstance(m, AudioMessage)]
    assert len(audio) >= 25  # one per 20 ms clock tick
    last = audio[-1]
    assert last.rms == pytest.approx(0.5 / np.sqrt(2), rel=0.01)
    assert last.peak == pytest.approx(0.5, rel=0.01)
    assert int(np.argmax(last.bands)) == band
    assert last.bands[band] == pytest.approx(last.rms, rel=0.05)  # a tone at a band's centre is all in it
    # the Python feature extractor puts the same tone in the same band
    from bridge.features import FeatureExtractor

    sine = 0.5 * np.sin(2 * np.pi * hz * np.arange(48000) / 48000)
    frames = FeatureExtractor(48000).process(sine.astype(np.float32))
    assert int(np.argmax(frames[-1].bands)) == band


@needs_pd
def test_silence_sends_zero_levels() -> None:
    messages, _ = run_patch("0 0 0 0 0 120 0 4 4 0", milliseconds=300)
    audio = [m for m in messages if isinstance(m, AudioMessage)]
    assert audio and audio[-1].rms == 0.0 and audio[-1].peak == 0.0 and not any(audio[-1].bands)
