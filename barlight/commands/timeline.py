"""``barlight timeline`` — print a timeline's tempo map, meters, markers and bar table."""

from __future__ import annotations

import argparse
import json
import math
import sys

HELP = "print the tempo map, meters, markers and bar table of a .mid, .als or recording (or a constant --bpm)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", nargs="?", help="a .mid/.midi, .als or .jsonl recording; optional with --bpm")
    parser.add_argument("--bpm", type=float,
                        help="constant tempo when there is no SOURCE (fills in a MIDI file's missing tempo)")
    parser.add_argument("--meter", help="meter N/D, e.g. 7/8 (default 4/4)")
    parser.add_argument("--bars", type=int, metavar="N",
                        help="bar table through bar N (default: the last event plus 8 bars, or the recording's end)")
    parser.add_argument("--ramps", choices=("exact", "live"), default="exact",
                        help="Live sets: time tempo ramps exactly (default) or stepped per 16th note "
                             "as Live plays them")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    parser.add_argument("--example", action="store_true", help="use the example timeline shipped with Barlight")


def format_seconds(seconds: float) -> str:
    """``m:ss.mmm`` (``-`` before count-in times)."""
    sign = "-" if seconds < 0 else ""
    millis = round(abs(seconds) * 1000)
    minutes, millis = divmod(millis, 60_000)
    return f"{sign}{minutes}:{millis // 1000:02d}.{millis % 1000:03d}"


def _number(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".") if math.isfinite(value) else str(value)


def render_text(tempo_map, title: str, last_bar: int) -> str:
    """The human-readable report: tempo points, meters, markers, bar table."""
    lines = [title, ""]
    lines.append(f"Tempo ({len(tempo_map.tempo)} point{'s' if len(tempo_map.tempo) != 1 else ''})")
    lines.append(f"  {'position':>10}  {'beat':>9}  {'time':>10}  {'bpm':>9}")
    for i, point in enumerate(tempo_map.tempo):
        ramp = ""
        if point.ramp and i + 1 < len(tempo_map.tempo):
            ramp = f"  ramp to {_number(tempo_map.tempo[i + 1].bpm)}"
        lines.append(f"  {tempo_map.position_at(point.beat).label:>10}  {_number(point.beat):>9}"
                     f"  {format_seconds(tempo_map.seconds_at(point.beat)):>10}  {point.bpm:9.3f}{ramp}")
    lines += ["", "Meters", f"  {'bar':>5}  {'beat':>9}  meter"]
    for meter in tempo_map.meters:
        signature = f"{meter.numerator}/{meter.denominator}"
        lines.append(f"  {tempo_map.bar_at(meter.beat):>5}  {_number(meter.beat):>9}  {signature}")
    lines += ["", "Markers"]
    if not tempo_map.markers:
        lines.append("  (none)")
    else:
        lines.append(f"  {'position':>10}  {'beat':>9}  {'time':>10}  name")
        for marker in tempo_map.markers:
            lines.append(f"  {tempo_map.position_at(marker.beat).label:>10}  {_number(marker.beat):>9}"
                         f"  {format_seconds(tempo_map.seconds_at(marker.beat)):>10}  {_marker_name(marker.name)}")
    header = f"  {'bar':>5}  {'position':>8}  {'beat':>9}  {'time':>10}  {'bpm':>9}  {'meter':>5}  section"
    lines += ["", "Bars", header]
    for row in tempo_map.bars(1, last_bar):
        marker = tempo_map.marker_at(row.beat)
        section = _marker_name(marker.name) if marker is not None else ""
        lines.append(f"  {row.bar:>5}  {f'{row.bar}.1':>8}  {_number(row.beat):>9}  {format_seconds(row.seconds):>10}"
                     f"  {row.bpm:9.3f}  {f'{row.numerator}/{row.denominator}':>5}  {section}")
    return "\n".join(lines)


def _marker_name(name: str) -> str:
    return name if name else "(unnamed)"


def default_last_bar(tempo_map, source, end_beat: float | None) -> int:
    """Where the bar table ends without --bars: a recording's last bar played; else the bar of the last
    tempo/meter/marker event plus 8, or a MIDI file's last bar with notes in it when that is later."""
    from bridge.timeline.sources import is_recording

    after_events = tempo_map.bar_at(tempo_map.last_event_beat) + 8
    if end_beat is None:
        return after_events
    end_bar = tempo_map.bar_at(end_beat)
    if is_recording(source):
        return max(1, end_bar)
    if end_bar > 1 and tempo_map.bar_start_beat(end_bar) == end_beat:
        end_bar -= 1  # music that stops on a bar line ends in the bar before it
    return max(after_events, end_bar)


def run(args: argparse.Namespace) -> int:
    from bridge.errors import InputError
    from bridge.timeline.sources import MAX_BARS, load_timeline, timeline_end_beat

    source = args.source
    if args.example:
        if source is not None:
            raise InputError("--example", "give either SOURCE or --example, not both")
        from bridge.timeline.examples import example_path

        source = example_path()
    if args.bars is not None and not 1 <= args.bars <= MAX_BARS:
        raise InputError("--bars", f"must be a bar number 1..{MAX_BARS} (the longest table printed), got {args.bars}")
    tempo_map = load_timeline(source, args.bpm, args.meter, ramps=args.ramps)

    last_bar = args.bars
    if last_bar is None:
        last_bar = default_last_bar(tempo_map, source, timeline_end_beat(source))
        if last_bar > MAX_BARS:
            raise InputError(source if source is not None else "timeline",
                             f"its last event is in bar {last_bar - 8}, past the {MAX_BARS} bars a table may have: "
                             "pass --bars N for the bars you want")

    if args.json:
        json.dump(tempo_map.to_dict(last_bar), sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        title = str(source) if source is not None else f"constant {_number(tempo_map.tempo[0].bpm)} BPM"
        print(render_text(tempo_map, title, last_bar))
    return 0
