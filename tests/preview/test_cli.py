"""``barlight preview`` on the command line: its options, and one-line errors before any window opens."""

from __future__ import annotations

import pytest

from barlight.cli import build_parser, main


def test_preview_is_a_command_with_the_documented_options():
    args = build_parser().parse_args(["preview", "--listen", "0.0.0.0:9000", "--allow", "192.168.1.0/24",
                                      "--preset", "ink", "--backend", "embedded", "--size", "320x192",
                                      "--latency-ms", "25", "--no-record", "--fullscreen", "1"])
    assert (args.listen, args.allow, args.preset, args.size, args.latency_ms) == (
        "0.0.0.0:9000", "192.168.1.0/24", "ink", "320x192", 25.0)
    assert args.no_record and args.fullscreen == 1
    assert build_parser().parse_args(["preview", "--fullscreen"]).fullscreen == -1  # this screen


@pytest.mark.parametrize("argv, where", [
    (["--listen", "nowhere"], "--listen"),
    (["--allow", "not-an-ip", "--listen", "0.0.0.0:9000"], "--allow"),
    (["--latency-ms", "9999"], "--latency-ms"),
    (["--seconds", "0"], "--seconds"),
])
def test_bad_options_are_one_line_errors(argv, where, capsys):
    assert main(["preview", *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("barlight preview: error:") and where in err[0]


def test_no_display_says_how_to_run_offscreen(monkeypatch, capsys):
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    assert main(["preview"]) == 2
    assert "QT_QPA_PLATFORM=offscreen" in capsys.readouterr().err


def test_an_unknown_preset_is_a_one_line_error(capsys):
    assert main(["preview", "--preset", "no-such-preset"]) == 2
    assert "no such preset" in capsys.readouterr().err
