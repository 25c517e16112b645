"""``barlight record [OUT]`` — record what senders stream (protocol v1) into a session file, headless."""

from __future__ import annotations

import argparse
import sys
import time

from bridge.protocol.spec import DEFAULT_HOST, DEFAULT_PORT

HELP = "record protocol v1 from DAW senders into a .jsonl session until Ctrl-C"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("out", nargs="?", metavar="OUT",
                        help="the .jsonl file to write (default: a new file in $BARLIGHT_SESSIONS or ./sessions)")
    parser.add_argument("--listen", default=f"{DEFAULT_HOST}:{DEFAULT_PORT}", metavar="HOST:PORT",
                        help=f"where to listen (default {DEFAULT_HOST}:{DEFAULT_PORT}; port 0 picks a free one)")
    parser.add_argument("--allow", metavar="IP[,IP…]",
                        help="with a non-loopback --listen, who may send (IPs or networks, or 'any'; "
                             "default: loopback, private and link-local addresses)")
    parser.add_argument("--seconds", type=float, metavar="S", help="stop after S seconds (default: at Ctrl-C)")


def status_line(receiver, recorder) -> str:
    stats = receiver.stats()
    snapshot = receiver.snapshot()
    live = sum(1 for s in stats.sessions if not s.ended)
    if snapshot.valid:
        position = snapshot.position_at(time.monotonic())
        where = f"{position.label}  {snapshot.bpm:.2f} BPM {'playing' if snapshot.playing else 'stopped'}"
    else:
        where = "waiting for a sender"
    return (f"{recorder.messages} messages  {live} session{'s' if live != 1 else ''}  {where}"
            f"  dropped {stats.dropped_total}")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from bridge.errors import InputError
    from bridge.outputs import Output, check_outputs
    from bridge.protocol.endpoints import format_host_port
    from bridge.receiver import Receiver, parse_allow, parse_listen
    from bridge.recording import Recorder, new_session_path

    host, port = parse_listen(args.listen)
    if args.seconds is not None and not args.seconds > 0:
        raise InputError("--seconds", f"must be a number of seconds > 0, got {args.seconds:g}")
    out = Path(args.out) if args.out else new_session_path()
    if out.is_dir():
        raise InputError(out, "OUT is a folder; give the .jsonl file to write")
    check_outputs([Output.folder("OUT", out.parent, (out.name, f"{out.name}.part"))])  # before listening
    receiver = Receiver(host, port, allow=parse_allow(args.allow)).start()
    tty = sys.stderr.isatty()
    try:
        recorder = Recorder(out).attach(receiver)
    except BaseException:
        receiver.stop()
        raise
    listening = format_host_port(receiver.host, receiver.port)
    print(f"recording to {recorder.path} — listening on {listening} (Ctrl-C stops)",
          file=sys.stderr, flush=True)
    started = time.monotonic()
    last_print = 0.0
    try:
        while args.seconds is None or time.monotonic() - started < args.seconds:
            time.sleep(0.1)
            now = time.monotonic()
            if tty and now - last_print >= 0.25:
                print(f"\r  {status_line(receiver, recorder)}   ", end="", file=sys.stderr, flush=True)
                last_print = now
            elif not tty and now - last_print >= 5.0:
                print(f"  {status_line(receiver, recorder)}", file=sys.stderr, flush=True)
                last_print = now
    except KeyboardInterrupt:
        pass
    finally:
        receiver.stop()
        path = recorder.close()
        if tty:
            print(file=sys.stderr)
    print(f"recorded {recorder.messages} messages from {len(recorder.sessions)} session"
          f"{'s' if len(recorder.sessions) != 1 else ''} to {path}", file=sys.stderr)
    return 0
