"""``barlight send SOURCE …`` — act as a DAW: stream protocol v1 from a file, MIDI clock or Ableton Link.

Each source is its own module (``send_file``, ``send_midi``, ``send_link``) with the same
``HELP``/``add_arguments``/``run`` shape as the top-level commands; each must import (optional
packages are imported in ``run``, with an install hint). Sources share :func:`add_target_argument` for ``--to``.
"""

from __future__ import annotations

import argparse

from bridge.protocol.spec import DEFAULT_HOST, DEFAULT_PORT

HELP = "act as a DAW: stream bars, beats, tempo and audio features to a renderer (file, midi, link)"

#: Source name -> module under ``barlight.commands``, in the order ``--help`` lists them.
SOURCES: tuple[tuple[str, str], ...] = (
    ("file", "send_file"),
    ("midi", "send_midi"),
    ("link", "send_link"),
    ("audio", "send_audio"),
    ("plugdata", "send_plugdata"),
)


def add_target_argument(parser: argparse.ArgumentParser) -> None:
    """``--to HOST:PORT`` (default 127.0.0.1:9420); parse it with ``bridge.senders.osc_out.parse_target``."""
    parser.add_argument("--to", default=f"{DEFAULT_HOST}:{DEFAULT_PORT}", metavar="HOST:PORT",
                        help=f"where the renderer listens (default {DEFAULT_HOST}:{DEFAULT_PORT})")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from barlight.cli import add_command_modules

    add_command_modules(parser.add_subparsers(dest="send_source", metavar="SOURCE"), SOURCES, "_send_run")
    parser.set_defaults(_send_parser=parser)


def run(args: argparse.Namespace) -> int:
    send_run = getattr(args, "_send_run", None)
    if send_run is None:
        args._send_parser.print_help()
        return 2
    return int(send_run(args) or 0)
