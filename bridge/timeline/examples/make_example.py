"""Build ``example.mid``: the timeline ``barlight timeline --example`` prints.

Run ``python -m bridge.timeline.examples.make_example`` to rewrite the shipped file;
a test checks the shipped file equals what :func:`build_example` produces.

Layout (bars 1-based, beats are quarter notes):

========  =====  ======  ==========================================
bars      beats  meter   tempo
========  =====  ======  ==========================================
1–8       0      4/4     100 BPM                      marker "Intro"
9–16      32     4/4     one set_tempo per beat, 100 → 128 BPM   "Build"
17–20     64     7/4     128 BPM                      marker "Seven"
21–28     92     6/8     128 BPM                      marker "Lilt"
29–36     116    4/4     120 BPM                      marker "Outro"
========  =====  ======  ==========================================
"""

from __future__ import annotations

import sys
from pathlib import Path

TICKS_PER_BEAT = 480

#: (first beat, bars, numerator, denominator, marker)
SECTIONS = (
    (0, 8, 4, 4, "Intro"),
    (32, 8, 4, 4, "Build"),
    (64, 4, 7, 4, "Seven"),
    (92, 8, 6, 8, "Lilt"),
    (116, 8, 4, 4, "Outro"),
)
END_BEAT = 148


def _tempo_events() -> list[tuple[int, float]]:
    """``(beat, bpm)``: 100, a per-beat staircase 100 → 128 over bars 9–16, 128, then 120 at the outro."""
    events = [(0, 100.0)]
    steps = 32
    for step in range(1, steps + 1):
        events.append((32 + step - 1, 100.0 + 28.0 * step / steps))
    events.append((116, 120.0))
    return events


def build_example():
    """The example as a format-1 ``mido.MidiFile``: a tempo/meter/marker track and a GM drum track."""
    import mido

    midi = mido.MidiFile(type=1, ticks_per_beat=TICKS_PER_BEAT, charset="utf-8")
    timed: list[tuple[int, int, object]] = []  # (tick, order, message)
    for beat, bpm in _tempo_events():
        timed.append((beat * TICKS_PER_BEAT, 0, mido.MetaMessage("set_tempo", tempo=round(60_000_000 / bpm))))
    for beat, _bars, numerator, denominator, name in SECTIONS:
        tick = beat * TICKS_PER_BEAT
        timed.append((tick, 1, mido.MetaMessage("time_signature", numerator=numerator, denominator=denominator)))
        timed.append((tick, 2, mido.MetaMessage("marker", text=name)))
    conductor = mido.MidiTrack([mido.MetaMessage("track_name", name="Barlight example")])
    conductor.extend(_delta(timed))
    conductor.append(mido.MetaMessage("end_of_track", time=END_BEAT * TICKS_PER_BEAT - _last_tick(timed)))
    midi.tracks.append(conductor)

    drums: list[tuple[int, int, object]] = []
    for beat, bars, numerator, denominator, _name in SECTIONS:
        unit = 4 * TICKS_PER_BEAT // denominator
        for bar in range(bars):
            bar_tick = beat * TICKS_PER_BEAT + bar * numerator * unit
            for count in range(numerator):
                tick = bar_tick + count * unit
                note = 36 if count == 0 else 42  # kick on the downbeat, closed hat on the others
                velocity = 110 if count == 0 else 70
                drums.append((tick, 1, mido.Message("note_on", channel=9, note=note, velocity=velocity)))
                drums.append((tick + unit // 2, 0, mido.Message("note_off", channel=9, note=note, velocity=0)))
    drum_track = mido.MidiTrack([mido.MetaMessage("track_name", name="Drums")])
    drum_track.extend(_delta(drums))
    drum_track.append(mido.MetaMessage("end_of_track", time=END_BEAT * TICKS_PER_BEAT - _last_tick(drums)))
    midi.tracks.append(drum_track)
    return midi


def _delta(timed: list[tuple[int, int, object]]) -> list[object]:
    out = []
    previous = 0
    for tick, _order, message in sorted(timed, key=lambda e: (e[0], e[1])):
        out.append(message.copy(time=tick - previous))
        previous = tick
    return out


def _last_tick(timed: list[tuple[int, int, object]]) -> int:
    return max(tick for tick, _order, _message in timed)


def main(argv: list[str] | None = None) -> int:
    target = Path(argv[0]) if argv else Path(__file__).with_name("example.mid")
    build_example().save(str(target))
    print(target)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
