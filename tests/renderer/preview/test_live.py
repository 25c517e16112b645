"""The live Moment from a transport snapshot, and live features from /daw/audio over loopback."""

from __future__ import annotations

import pickle

import pytest

from bridge.clock import TransportSnapshot
from bridge.features import FeatureFrame, FeatureTrack
from bridge.protocol.messages import AudioMessage, MacrosMessage
from bridge.receiver import Receiver
from bridge.senders.osc_out import ProtocolSender
from bridge.timeline.tempo_map import Marker
from renderer.preview.live import LiveFeatures, live_moment
from tests.receiving import wait_for


def snapshot_3_4(latency_seconds: float = 0.0) -> TransportSnapshot:
    """3/4 at 90 BPM; the DAW says bar 5 starts at beat 13 (an earlier meter change); locators."""
    return TransportSnapshot(playing=True, bpm=90.0, numerator=3, denominator=4, anchor_beat=13.0,
                             anchor_seconds=50.0, bar=5, bar_start_beat=13.0, latency_seconds=latency_seconds,
                             markers=(Marker("intro", 0.0), Marker("verse", 14.0)), received_seconds=50.0,
                             session_id="s")


def test_live_moment_takes_bar_beat_meter_and_section_from_the_snapshot():
    snapshot = snapshot_3_4()
    host = 50.0 + 2.0 * 60.0 / 90.0 + 0.5 * 60.0 / 90.0  # 2.5 beats after the anchor
    moment = live_moment(snapshot, host)
    position = snapshot.position(snapshot.beat_at(host))
    assert moment.beat == pytest.approx(15.5)
    assert (moment.bar, moment.numerator, moment.denominator) == (position.bar, 3, 4) == (5, 3, 4)
    assert moment.beat_in_bar == pytest.approx(2.5) and moment.beat_phase == pytest.approx(0.5)
    assert moment.bar_phase == pytest.approx(2.5 / 3.0)
    assert moment.section == "verse" and moment.bpm == 90.0
    assert moment.seconds == pytest.approx(15.5 * 60.0 / 90.0)
    assert live_moment(snapshot, 50.0).section == "intro"  # beat 13: before the verse locator


def test_live_moment_holds_only_audio_heard_before_the_frame():
    latency = 0.05
    snapshot = snapshot_3_4(latency_seconds=latency)
    arrivals = [50.0 + 0.02 * i for i in range(200)]  # 4 s of /daw/audio at 50 Hz
    track = FeatureTrack.from_frames([FeatureFrame.from_daw_audio(a, 0.1, 0.2, (0.1,) * 8) for a in arrivals])
    host = 52.0
    moment = live_moment(snapshot, host, track)
    heard = [a for a in arrivals if a + latency <= host]
    assert len(moment.features) == len([a for a in heard if a + latency > host - moment.window_seconds])
    assert moment.features.seconds[-1] == pytest.approx(moment.seconds - (host - latency - heard[-1]))
    assert max(moment.features.seconds) <= moment.seconds


def test_live_features_keep_audio_and_macros_per_session_over_loopback():
    with Receiver("127.0.0.1", 0) as receiver:
        features = LiveFeatures(keep_seconds=5.0).attach(receiver)
        with ProtocolSender("127.0.0.1", receiver.port, source="test") as sender:
            sender.hello()
            for i in range(5):
                sender.audio(0.1 * (i + 1), 0.5, [0.01 * i] * 8)
            sender.macros([0.25, 0.5, 0.75, 1.0])
            wait_for(receiver, lambda: features.macros(sender.session_id) != (0.0,) * 4)
            track = features.track(sender.session_id)
            assert features.macros(sender.session_id) == (0.25, 0.5, 0.75, 1.0)
            assert track is not None and len(track) == 5
            assert list(track.rms) == pytest.approx([0.1, 0.2, 0.3, 0.4, 0.5])
            assert features.track("someone else") is None
            assert len(features.track(sender.session_id, since_seconds=track.seconds[3])) == 2
            assert features.track(sender.session_id, until_seconds=track.seconds[1]).rms.tolist() == \
                pytest.approx([0.1, 0.2])
        features.close()


def test_live_features_forget_audio_older_than_keep_seconds():
    features = LiveFeatures(keep_seconds=1.0)
    for i in range(30):
        features.add("s", 10.0 + 0.1 * i, AudioMessage(0.1, 0.1, (0.0,) * 8))
    track = features.track("s")
    assert track.seconds[0] >= 12.9 - 1.0 - 1e-9 and len(track) == 11


def test_pcm_gives_the_export_extractors_frames_at_the_host_time_of_their_samples_and_bands_are_the_fallback():
    """Protocol 1.1: a session's /daw/pcm runs through the export's extractor; frames sit at the host time
    of their centre sample (sample 0 at host 100 here); the /daw/audio frames take over when PCM stops."""
    import numpy as np

    from bridge.features import FeatureExtractor
    from bridge.pcm_stream import pcm_messages, to_int16
    from bridge.protocol.encode import encode

    rate = 16000
    t = np.arange(2 * rate) / rate
    audio = to_int16((0.3 * np.sin(2 * np.pi * 330 * t) * (t % 0.5 < 0.25)).astype(np.float32))
    receiver = Receiver("127.0.0.1", 0)  # not started: datagrams handed in with their arrival times
    features = LiveFeatures(keep_seconds=5.0).attach(receiver)
    source = ("127.0.0.1", 5000)
    receiver.handle_datagram(encode(AudioMessage(0.1, 0.2, (0.05,) * 8)), source, 100.0)
    receiver.handle_datagram(encode(AudioMessage(0.1, 0.2, (0.05,) * 8)), source, 100.02)  # two: a band track's hop
    for message in pcm_messages(0, rate, audio, block_samples=512):
        end = message.first_sample + len(message.samples) // 2
        receiver.handle_datagram(encode(message), source, 100.0 + end / rate + 0.003)
    assert features.wait_idle(timeout=60.0)  # the analysis runs on its own thread (the first block loads librosa)
    pcm = features.track("127.0.0.1:5000", until_seconds=102.0)
    assert pcm is not None and pcm.mel is not None and pcm.chroma is not None and pcm.onset is not None
    whole = FeatureExtractor(rate).analyze(audio)
    assert np.allclose(pcm.seconds, 100.003 + whole.seconds[:len(pcm)])
    assert np.allclose(pcm.mel, whole.mel[:len(pcm)], atol=1e-3)
    assert len(features.track("127.0.0.1:5000", 101.0, 100.5)) == pytest.approx(0.5 / whole.hop_seconds, abs=1)
    bands = features.track("127.0.0.1:5000", until_seconds=102.0, source="bands")
    assert bands.mel is None and len(bands) == 2
    copy = LiveFeatures()  # what a new render process is handed: the band frames, not the PCM ones (it analyses
    copy.restore(pickle.loads(pickle.dumps(features.export())))  # the blocks it is forwarded from then on)
    assert copy.track("127.0.0.1:5000", source="pcm") is None
    assert np.array_equal(copy.track("127.0.0.1:5000", until_seconds=102.0).rms, bands.rms)
    # no PCM for more than a second: the band readings carry the preview again
    receiver.handle_datagram(encode(AudioMessage(0.3, 0.4, (0.1,) * 8)), source, 104.0)
    assert features.track("127.0.0.1:5000", until_seconds=104.0).mel is None
    features.close()


def test_pcm_frames_move_with_the_receivers_refined_line():
    """Frames analysed while the receiver's host-time estimate was poor (a slow first block) sit where the
    latest estimate puts them: one session's frames never disagree with each other about time."""
    import numpy as np

    from bridge.pcm_stream import PcmBlock
    from bridge.receiver import PcmAudio

    features = LiveFeatures()
    rate = 16000
    x = (np.sin(np.arange(rate) * 0.1) * 8000).astype(np.int16)
    for k, start in enumerate(range(0, rate, 1600)):  # the first half second's blocks were timed 80 ms late
        late = 0.08 if start < rate // 2 else 0.0
        features.add_pcm(PcmAudio("s", PcmBlock(start, rate, x[start:start + 1600], 200.0 + start / rate + late), 0.0, True))
    track = features.track("s", source="pcm")
    assert np.allclose(np.diff(track.seconds), track.hop_seconds, atol=1e-6)  # no jump where the estimate changed
    assert track.seconds[0] == pytest.approx(200.0, abs=1e-6)


def test_a_single_audio_frame_is_no_track_yet_it_has_no_hop():
    features = LiveFeatures()
    features.add("s", 10.0, AudioMessage(0.1, 0.1, (0.0,) * 8))
    assert features.track("s") is None  # the embedded model's audio context divides by the hop
    features.add("s", 10.02, AudioMessage(0.1, 0.1, (0.0,) * 8))
    assert features.track("s").hop_seconds == pytest.approx(0.02)


def test_live_features_cross_to_another_process_as_an_export():
    features = LiveFeatures()
    for i in range(4):
        features.add("s", 10.0 + 0.02 * i, AudioMessage(0.1 * i, 0.1, (0.0,) * 8))
    features.receive(type("Event", (), {"message": MacrosMessage((0.5, 0.0, 1.0, 0.25)), "session_id": "t"})())
    copy = LiveFeatures()
    copy.restore(pickle.loads(pickle.dumps(features.export())))
    assert list(copy.track("s").rms) == pytest.approx([0.0, 0.1, 0.2, 0.3])
    assert copy.macros("t") == (0.5, 0.0, 1.0, 0.25) and copy.track("t") is None
