"""Musical time: the TempoMap value and the sources it is read from.

- :mod:`bridge.timeline.tempo_map` — :class:`TempoMap`, :class:`TempoPoint`, :class:`Meter`, :class:`Marker`
- :mod:`bridge.timeline.phase` — phase within a quantum, the cycle start before a beat
- :mod:`bridge.timeline.sources` — ``load_timeline(source)``: MIDI files, Ableton sets, recordings, constant BPM
"""

from bridge.timeline.sources import load_timeline, parse_meter
from bridge.timeline.tempo_map import Bar, BarPosition, Marker, Meter, TempoMap, TempoPoint

__all__ = ["Bar", "BarPosition", "Marker", "Meter", "TempoMap", "TempoPoint", "load_timeline", "parse_meter"]
