"""``barlight preview`` — a window showing the visuals locked to the DAW, live, recording the session."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from bridge.protocol.spec import DEFAULT_HOST, DEFAULT_PORT

HELP = "open the live preview: visuals rendered ahead of the DAW's transport, recorded for export"
#: The refresh a headless preview ticks at unless --fps says otherwise, Hz.
HEADLESS_FPS = 60.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--listen", default=f"{DEFAULT_HOST}:{DEFAULT_PORT}", metavar="HOST:PORT",
                        help=f"where senders reach this preview (default {DEFAULT_HOST}:{DEFAULT_PORT}; "
                             "0.0.0.0:9420 for a DAW on another machine)")
    parser.add_argument("--allow", metavar="IP[,IP…]",
                        help="with a non-loopback --listen, who may send (IPs or networks, or 'any'; "
                             "default: loopback, private and link-local addresses)")
    parser.add_argument("--preset", help="preset name or .toml path (hot-reloaded when the file changes)")
    parser.add_argument("--backend", help="override the preset's backend (embedded, diffusers)")
    parser.add_argument("--model", help="override the preset's model: a short name from `barlight models` "
                        "(sd-turbo), a diffusers folder or Hub id")
    parser.add_argument("--device", help="cpu, cuda, mps (default: the best available)")
    parser.add_argument("--size", help="render WIDTHxHEIGHT, multiples of 8 (default: the preset's)")
    parser.add_argument("--latency-ms", type=float, default=0.0, metavar="MS",
                        help="latency offset: positive shows the visuals later (default 0; a slider in the window)")
    parser.add_argument("--display-latency-ms", type=float, default=0.0, metavar="MS",
                        help="how long the screen or projector takes to show a frame (default 0)")
    parser.add_argument("--no-record", action="store_true",
                        help="don't record the session (default: record into $BARLIGHT_SESSIONS or ./sessions)")
    parser.add_argument("--fullscreen", nargs="?", const=-1, type=int, metavar="SCREEN",
                        help="start fullscreen (on screen number SCREEN: 0 is the primary)")
    parser.add_argument("--screenshots", default="screenshots", metavar="DIR",
                        help="where the S key saves frames (default ./screenshots)")
    parser.add_argument("--fps", type=float, metavar="HZ", help="display refresh (default: the screen's, else 60)")
    parser.add_argument("--seconds", type=float, metavar="S", help="close after S seconds (scripted runs)")
    parser.add_argument("--grab-every", type=float, metavar="S",
                        help="also save a picture of the whole window every S seconds into --screenshots")
    parser.add_argument("--video-out", action="append", default=[], metavar="OUT[:NAME]",
                        help="also send the frames to VJ software: ndi, syphon (macOS) or spout (Windows), "
                             "announced as NAME (default Barlight); repeatable")
    parser.add_argument("--headless", action="store_true",
                        help="no window: render locked to the DAW and feed the --video-out outputs only")
    parser.add_argument("--no-standby", action="store_true",
                        help="keep no second, warm render process (half the memory; a crashed renderer then "
                             "takes a model load to come back)")


def _check_outputs(args: argparse.Namespace) -> None:
    """The output rule, before the renderer loads: the sessions folder (unless --no-record) and --screenshots."""
    from bridge.outputs import Output, check_outputs
    from bridge.recording import sessions_dir

    outputs = [Output.folder("--screenshots", args.screenshots, ("barlight-*.png", "window-*.png"))]
    if not args.no_record:
        outputs.append(Output.folder("the sessions folder", sessions_dir(), ("*.jsonl", "*.jsonl.part")))
    check_outputs(outputs, {"--preset": args.preset})


def _spec(args: argparse.Namespace):
    """What the render process builds (its preset is read now: a bad one fails before any process starts)."""
    from bridge.errors import InputError
    from renderer.export.timing import parse_size
    from renderer.presets import DEFAULT_PRESET
    from renderer.preview.child import RendererSpec

    size = None
    if args.size:
        size = parse_size(args.size)
        if any(v % 8 for v in size):
            raise InputError("--size", f"width and height must be multiples of 8, got {args.size}")
    return RendererSpec(os.fspath(args.preset or DEFAULT_PRESET), backend=args.backend, size=size,
                        device=args.device, model=args.model)


def _check_arguments(args: argparse.Namespace) -> tuple[tuple[str, int], tuple[str, ...] | None]:
    """One-line errors for the options, before anything starts; the listen address and allow list."""
    from bridge.errors import InputError
    from bridge.receiver import parse_allow, parse_listen

    listen = parse_listen(args.listen)
    allow = parse_allow(args.allow)
    for name, value in (("--seconds", args.seconds), ("--grab-every", args.grab_every), ("--fps", args.fps)):
        if value is not None and not value > 0:
            raise InputError(name, f"must be positive, got {value:g}")
    if not -2000.0 <= args.latency_ms <= 2000.0:
        raise InputError("--latency-ms", f"must be -2000..2000, got {args.latency_ms:g}")
    if args.headless and (args.fullscreen is not None or args.grab_every is not None):
        raise InputError("--headless", "has no window to make fullscreen or grab")
    return listen, allow


def _open_session(args: argparse.Namespace, listen, allow, refresh_hz: float):
    """The video outputs and the session, its render process loaded (the banner printed meanwhile)."""
    import contextlib

    from bridge.recording import sessions_dir
    from renderer.preview.session import PreviewOptions, PreviewSession
    from renderer.preview.status import send_command
    from renderer.sinks import open_video_out

    spec = _spec(args)
    options = PreviewOptions(listen=listen, allow=allow, latency_ms=args.latency_ms, record=not args.no_record,
                             screenshots_folder=Path(args.screenshots), refresh_hz=float(refresh_hz),
                             display_latency_seconds=args.display_latency_ms / 1000.0, standby=not args.no_standby)
    with contextlib.ExitStack() as undo:
        sinks = []
        for out in args.video_out:
            sinks.append(open_video_out(out, refresh_hz))
            undo.callback(sinks[-1].close)
        session = PreviewSession(spec, options, sinks=sinks)
        undo.callback(session.stop)
        session.start()
        host, port = session.listen
        print(f"preview listening on {host}:{port} — start a sender: {send_command(host, port)} (or the Live device)",
              file=sys.stderr)
        for out in args.video_out:
            print(f"sending video out: {out}", file=sys.stderr)
        if session.recorder is not None:
            print(f"recording to {session.recorder.part_path} (in {sessions_dir()})", file=sys.stderr)
        print("loading the renderer (in a process of its own)…", file=sys.stderr, flush=True)
        session.wait_ready()
        undo.pop_all()
    return session


def _finish(session) -> None:
    path = session.stop()
    if path is not None:
        print(f"recorded the session to {path}\n"
              f"export it: barlight export AUDIO --session latest --out DIR", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    listen, allow = _check_arguments(args)
    if not args.headless:
        from renderer.preview.qt_platform import check_window

        check_window()
    _check_outputs(args)
    if args.headless:
        return _run_headless(args, listen, allow)
    return _run_window(args, listen, allow)


def _run_headless(args: argparse.Namespace, listen, allow) -> int:
    from renderer.preview.headless import run_headless

    if not args.video_out:
        print("headless without --video-out: frames are rendered but go nowhere"
              + ("" if args.no_record else " (the session is still recorded)"), file=sys.stderr)
    session = _open_session(args, listen, allow, args.fps or HEADLESS_FPS)
    try:
        run_headless(session, args.seconds)
    finally:
        _finish(session)
    return 0


def _run_window(args: argparse.Namespace, listen, allow) -> int:
    import signal

    from barlight.signals import STOP_SIGNALS
    from bridge.errors import InputError
    from PySide6.QtCore import QTimer
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication

    from renderer.presets import DEFAULT_PRESET, builtin_presets, preset_path
    from renderer.preview.window import PreviewWindow

    app = QApplication.instance() or QApplication(["barlight preview"])
    screens = QGuiApplication.screens()
    if args.fullscreen is not None and args.fullscreen != -1 and not 0 <= args.fullscreen < len(screens):
        raise InputError("--fullscreen", f"no screen {args.fullscreen}: there {'is' if len(screens) == 1 else 'are'} "
                                         f"{len(screens)} (0..{len(screens) - 1})")
    session = _open_session(args, listen, allow, args.fps or (screens[0].refreshRate() if screens else 0.0) or 60.0)
    shipped = list(builtin_presets())
    current = args.preset or DEFAULT_PRESET
    preset_file = preset_path(current)
    try:
        window = PreviewWindow(session, shipped if current in shipped else [current, *shipped], current,
                               preset_file if preset_file.is_file() else None)
        if args.fullscreen is not None:
            window.show_fullscreen(None if args.fullscreen == -1 else args.fullscreen)
        else:
            window.show()
        window.start()
        for signum in (signal.SIGINT, *STOP_SIGNALS):  # Ctrl-C, kill, a closed terminal: close and keep the recording
            signal.signal(signum, lambda *_: app.quit())
        wake = QTimer(window, interval=200)  # lets Python see Ctrl-C while Qt waits
        wake.timeout.connect(lambda: None)
        wake.start()
        if args.seconds is not None:
            QTimer.singleShot(int(args.seconds * 1000), app.quit)
        if args.grab_every is not None:
            grabber = QTimer(window, interval=int(args.grab_every * 1000))
            grabber.timeout.connect(lambda: print(f"saved {window.save_grab()}", file=sys.stderr))
            grabber.start()
        app.exec()
        window.close()
    finally:
        _finish(session)
    return 0
