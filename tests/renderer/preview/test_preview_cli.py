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


def _xcb_says() -> str:
    """What the hint names when Qt's xcb plugin fails for want of a display: the display, or first the system
    libraries the plugin lacks where this machine lacks some (a bare Debian lacks libxcb-icccm4 and friends)."""
    from renderer.preview.qt_platform import missing_libraries

    missing = missing_libraries()
    return f"its xcb plugin needs {', '.join(missing)} (" if missing else "no display (DISPLAY is not set)"


@pytest.mark.parametrize("env, says", [
    ({"QT_QPA_PLATFORM": "xcb"}, _xcb_says),  # Qt's xcb plugin itself fails, in a probe
    ({"QT_QPA_PLATFORM": "no-such-platform", "DISPLAY": ":0"}, lambda: "no Qt platform plugin 'no-such-platform'"),
], ids=["xcb-without-display", "unknown-platform"])
def test_when_qt_cannot_open_a_window_the_hint_is_one_line_naming_the_way_out(monkeypatch, capsys, env, says):
    says = says()
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(["preview", "--no-record"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and says in err[0], err
    assert err[0].endswith("or run without a window: barlight preview --headless --video-out ndi")


def test_a_missing_system_library_is_named_with_its_package():
    from renderer.preview.qt_platform import debian_package, missing_libraries, window_hint

    ldd = ("\tlibxcb-icccm.so.4 => /lib/x86_64-linux-gnu/libxcb-icccm.so.4 (0x00007f)\n"
           "\tlibxcb-cursor.so.0 => not found\n\tlibxkbcommon-x11.so.0 => not found\n")  # Qt 6.5+ on a bare Debian
    missing = missing_libraries(ldd)
    assert missing == ["libxcb-cursor.so.0", "libxkbcommon-x11.so.0"]
    hint = window_hint("qt.qpa.plugin: Could not load the Qt platform plugin \"xcb\"", missing, {"DISPLAY": ":0"})
    assert "sudo apt install libxcb-cursor0 libxkbcommon-x11-0" in hint and "--headless --video-out ndi" in hint
    assert [debian_package(n) for n in ("libxcb-render-util.so.0", "libEGL.so.1", "libdbus-1.so.3")] == [
        "libxcb-render-util0", "libegl1", "libdbus-1-3"]


def test_video_out_and_headless_options():
    args = build_parser().parse_args(["preview", "--headless", "--video-out", "ndi", "--video-out", "spout:Stage",
                                      "--no-standby"])
    assert args.headless and args.video_out == ["ndi", "spout:Stage"] and args.no_standby


@pytest.mark.parametrize("argv, where", [
    (["--headless", "--fullscreen"], "--headless"),
    (["--headless", "--video-out", "video"], "--video-out"),
    (["--headless", "--video-out", "nid"], "--video-out"),
])
def test_headless_and_video_out_mistakes_are_one_line_errors(argv, where, capsys):
    assert main(["preview", "--no-record", *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and where in err[0], err
