"""Timeline benchmark: reading big MIDI files and Live sets, and TempoMap conversions per second.

Run: ``python bench/bench_timeline.py`` (writes its inputs to a temporary folder).
"""

from __future__ import annotations

import gzip
import platform
import tempfile
import time
from pathlib import Path

import mido

from bridge.timeline.sources import load_timeline


def _timed(function, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


def _big_midi(path: Path, tempo_events: int, notes: int) -> Path:
    midi = mido.MidiFile(type=1, ticks_per_beat=960)
    conductor = mido.MidiTrack()
    for i in range(tempo_events):
        conductor.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(90 + (i % 600) * 0.1), time=0 if i == 0 else 240))
        if i % 64 == 0:
            conductor.append(mido.MetaMessage("marker", text=f"Section {i // 64}", time=0))
    notes_track = mido.MidiTrack()
    for i in range(notes):
        notes_track.append(mido.Message("note_on", note=36 + i % 40, velocity=90, time=120))
        notes_track.append(mido.Message("note_off", note=36 + i % 40, velocity=0, time=120))
    midi.tracks += [conductor, notes_track]
    midi.save(str(path))
    return path


def _big_als(path: Path, tempo_events: int, filler_tracks: int) -> Path:
    events = "".join(f'<FloatEvent Id="{i + 1}" Time="{i}" Value="{100 + (i % 50)}" />' for i in range(tempo_events))
    filler = "".join(
        f'<MidiTrack Id="{t}"><Name><EffectiveName Value="Track {t}" /></Name><DeviceChain>'
        + "".join(f'<MidiNoteEvent Time="{n * 0.25}" Duration="0.25" Velocity="100" NoteId="{n}" />' for n in range(2000))
        + "</DeviceChain></MidiTrack>"
        for t in range(filler_tracks)
    )
    xml = (f'<?xml version="1.0" encoding="UTF-8"?><Ableton MajorVersion="5" MinorVersion="12.0_12049">'
           f"<LiveSet><Tracks>{filler}</Tracks><MainTrack><AutomationEnvelopes><Envelopes>"
           f'<AutomationEnvelope Id="0"><EnvelopeTarget><PointeeId Value="8" /></EnvelopeTarget><Automation><Events>'
           f'<FloatEvent Id="0" Time="-63072000" Value="100" />{events}</Events></Automation></AutomationEnvelope>'
           f"</Envelopes></AutomationEnvelopes><DeviceChain><Mixer><Tempo><Manual Value=\"100\" />"
           f'<AutomationTarget Id="8" /></Tempo></Mixer></DeviceChain></MainTrack>'
           f"<Locators><Locators /></Locators></LiveSet></Ableton>")
    path.write_bytes(gzip.compress(xml.encode()))
    return path


def main() -> None:
    print(f"machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}")
    with tempfile.TemporaryDirectory() as folder:
        midi = _big_midi(Path(folder) / "big.mid", tempo_events=10_000, notes=50_000)
        seconds = _timed(lambda: load_timeline(midi))
        print(f"MIDI, 10,000 set_tempo + 157 markers + 100,000 note events ({midi.stat().st_size / 1e6:.1f} MB): "
              f"{seconds * 1000:.0f} ms")
        als = _big_als(Path(folder) / "big.als", tempo_events=5_000, filler_tracks=40)
        xml_mb = len(gzip.decompress(als.read_bytes())) / 1e6
        seconds = _timed(lambda: load_timeline(als))
        print(f"Live set, {xml_mb:.1f} MB of XML, 5,000 tempo breakpoints (ramps): {seconds * 1000:.0f} ms")
        tempo_map = load_timeline(als)
        live = _timed(lambda: load_timeline(als, ramps="live"), repeat=1)
        print(f"  same set with ramps='live' (staircase of {len(load_timeline(als, ramps='live').tempo)} points): "
              f"{live * 1000:.0f} ms")

    beats = [i * 0.37 for i in range(100_000)]
    for name, function in (("seconds_at", tempo_map.seconds_at), ("beat_at", tempo_map.beat_at),
                           ("position_at", tempo_map.position_at), ("bpm_at", tempo_map.bpm_at)):
        seconds = _timed(lambda f=function: [f(b) for b in beats])
        print(f"{name} on a {len(tempo_map.tempo)}-point map: {len(beats) / seconds / 1e6:.2f} M calls/s")


if __name__ == "__main__":
    main()
