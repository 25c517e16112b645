"""The ``barlight`` dispatcher: every command module is loaded, a broken one fails loudly."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

import pytest

from barlight.cli import COMMANDS, add_command_modules
from barlight.commands.send import SOURCES


def test_a_command_module_that_does_not_import_is_an_error_not_a_missing_command():
    subparsers = argparse.ArgumentParser().add_subparsers()
    with pytest.raises(ModuleNotFoundError, match="barlight.commands.exprot"):
        add_command_modules(subparsers, (("export", "exprot"),), "_run")


# Optional extras blocked (an import of them raises ImportError), as on an install without them.
WITHOUT_EXTRAS = "import sys; sys.modules.update(aalink=None, sounddevice=None, ray=None); "


def test_every_command_loads_without_the_optional_extras():
    code = WITHOUT_EXTRAS + (
        "import json; from barlight.cli import build_parser; "
        "commands = build_parser()._subparsers._group_actions[0].choices; "
        "sources = commands['send']._subparsers._group_actions[0].choices; "
        "print(json.dumps([list(commands), list(sources)]))")
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(shown) == [[name for name, _ in COMMANDS], [name for name, _ in SOURCES]]


def test_an_optional_command_says_what_to_install_when_it_is_used():
    code = WITHOUT_EXTRAS + "from barlight.cli import main; raise SystemExit(main(['send', 'link']))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr.strip() == "barlight send: error: Ableton Link needs the aalink package: pip install 'barlight[link]'"
