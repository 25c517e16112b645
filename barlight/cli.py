"""``barlight`` — dispatches to the subcommand modules in :mod:`barlight.commands`.

Errors the user can fix (:class:`bridge.errors.BarlightError`) print one line
and exit with status 2; repaired input (:class:`bridge.errors.InputWarning`) prints one
warning line; Ctrl-C exits with 130, SIGTERM and SIGHUP stop a command the same way
(:mod:`barlight.signals`) and exit with 143 and 129; output cut short by a closed pipe
(``| head``) exits with 141, as SIGPIPE would. None prints a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import typing
import warnings
from collections.abc import Sequence

from barlight import __version__
from barlight.signals import Stopped, stop_signals_interrupt
from bridge.errors import BarlightError, InputWarning

#: Subcommand name -> module under ``barlight.commands``, in the order ``--help`` lists them.
COMMANDS: tuple[tuple[str, str], ...] = (
    ("demo", "demo"),
    ("timeline", "timeline"),
    ("analyze", "analyze"),
    ("record", "record"),
    ("send", "send"),
    ("preview", "preview"),
    ("export", "export"),
    ("bench", "bench"),
    ("models", "models"),
    ("train", "train"),
    ("looks", "looks"),
    ("m4l", "m4l"),
)


class _Parser(argparse.ArgumentParser):
    """argparse exits with status 2 on usage errors already; make its message one line like every other
    error (``barlight CMD: error: argument --x: ...``), pointing at ``--help`` instead of printing the usage."""

    def error(self, message: str) -> typing.NoReturn:
        self.exit(2, f"{self.prog}: error: {' '.join(message.split())} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="barlight", description="Audio-conditioned diffusion visuals locked to your DAW.")
    parser.add_argument("--version", action="version", version=f"barlight {__version__}")
    add_command_modules(parser.add_subparsers(dest="command", metavar="COMMAND"), COMMANDS, "_run")
    return parser


def add_command_modules(subparsers, table: Sequence[tuple[str, str]], run_key: str) -> None:
    """One subcommand per ``(name, module)`` under ``barlight.commands`` (``HELP``, ``add_arguments``, ``run``),
    its ``run`` stored as ``run_key``. ``barlight`` and ``barlight send`` use it.

    Every module is imported now and a failure is raised, never skipped: a command must not vanish
    from ``--help`` over a typo. Modules import optional packages inside ``run``, so a missing extra
    is a one-line install hint when that command is used, not a broken CLI."""
    for name, module_name in table:
        module = importlib.import_module(f"barlight.commands.{module_name}")
        command = subparsers.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(command)
        command.set_defaults(**{run_key: module.run})


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help()
        return 2
    try:
        with stop_signals_interrupt(), warnings.catch_warnings():
            warnings.simplefilter("always", InputWarning)
            warnings.showwarning = _warning_line(args.command)
            return int(args._run(args) or 0)
    except BarlightError as err:
        print(f"barlight {args.command}: error: {err}", file=sys.stderr)
        return 2
    except Stopped as stop:
        print(f"barlight {args.command}: stopped by {stop.name}", file=sys.stderr)
        return 128 + stop.signum
    except KeyboardInterrupt:
        print(f"barlight {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader went away (`barlight timeline … | head`): stop quietly, like any pipeline tool
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # Python's final flush finds nowhere to fail
        return 141


def _warning_line(command: str):
    """``warnings.showwarning`` printing an :class:`InputWarning` as one line (others as Python would)."""
    default = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None) -> None:
        if issubclass(category, InputWarning):
            print(f"barlight {command}: warning: {message}", file=file or sys.stderr)
        else:
            default(message, category, filename, lineno, file, line)

    return show
