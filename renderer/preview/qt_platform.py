"""Can Qt open a window here? If not, one line that says what to do, instead of Qt's failure.

When Qt cannot load its platform plugin (no display, a missing system library such as the xcb
plugin's ``libxcb-cursor0`` on a minimal Linux, a wrong plugin path), it prints several lines
and aborts the process, which Python cannot catch. So :func:`check_window` first lets a short
child process (``python -c``) create the Qt application; when that fails, it reads why from the
child's output and from ``ldd`` of the xcb plugin (Linux), and raises one
:class:`~bridge.errors.InputError`: the packages to install, the display to start, or
``--headless`` with NDI output.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from bridge.errors import InputError

#: The way round a window: what every hint ends with.
HEADLESS = "or run without a window: barlight preview --headless --video-out ndi"
#: Platforms that draw into memory: they need no display and never fail for want of one.
OFFSCREEN_PLATFORMS = ("offscreen", "minimal")
_PROBE = "from PySide6.QtGui import QGuiApplication; QGuiApplication(['barlight preview'])"
#: Debian/Ubuntu package of a library whose name does not follow "libfoo.so.N -> libfooN".
_PACKAGES = {"libglib-2.0.so.0": "libglib2.0-0", "libGL.so.1": "libgl1", "libEGL.so.1": "libegl1",
             "libOpenGL.so.0": "libopengl0", "libX11.so.6": "libx11-6"}


def check_window(env: Mapping[str, str] | None = None, timeout_seconds: float = 60.0) -> None:
    """Return when Qt can open a window with ``env`` (default: this process's); else an InputError naming
    what to install or start, or ``--headless``."""
    env = dict(os.environ if env is None else env)
    platform = env.get("QT_QPA_PLATFORM", "")
    if platform.split(":")[0] in OFFSCREEN_PLATFORMS:
        return
    if sys.platform.startswith("linux") and not platform and not (env.get("DISPLAY") or env.get("WAYLAND_DISPLAY")):
        raise InputError("display", "no display found (DISPLAY is not set): start a desktop session, "
                                    f"use QT_QPA_PLATFORM=offscreen for an invisible window, {HEADLESS}")
    probe = subprocess.run([sys.executable, "-c", _PROBE], env=env, capture_output=True, text=True,
                           timeout=timeout_seconds)
    if probe.returncode != 0:
        missing = missing_libraries() if platform in ("", "xcb") else []
        raise InputError("display", window_hint(probe.stdout + probe.stderr, missing, env))


def window_hint(qt_output: str, missing: list[str], env: Mapping[str, str]) -> str:
    """One line from what Qt printed when it failed and the libraries its xcb plugin lacks. Pure."""
    if missing:
        packages = " ".join(dict.fromkeys(debian_package(name) for name in missing))
        return (f"Qt cannot open a window: its xcb plugin needs {', '.join(missing)} "
                f"(Debian/Ubuntu: sudo apt install {packages}), {HEADLESS}")
    not_found = re.search(r'Could not find the Qt platform plugin "([^"]*)" in "([^"]*)"', qt_output)
    if not_found:
        return (f"Qt cannot open a window: no Qt platform plugin {not_found[1]!r} in {not_found[2]!r} "
                f"(check QT_QPA_PLATFORM and QT_QPA_PLATFORM_PLUGIN_PATH), {HEADLESS}")
    if "could not connect to display" in qt_output or "Failed to create wl_display" in qt_output:
        shown = env.get("DISPLAY") or env.get("WAYLAND_DISPLAY")
        where = f"no display at {shown!r} answers" if shown else "no display (DISPLAY is not set)"
        return f"Qt cannot open a window: {where}: start the X server or desktop session, {HEADLESS}"
    first = next((line.strip() for line in qt_output.splitlines() if line.strip()), "it aborted")
    return f"Qt cannot open a window ({first}), {HEADLESS}"


def missing_libraries(ldd_output: str | None = None) -> list[str]:
    """Shared libraries the xcb platform plugin and its Qt library need but the system lacks (``ldd``; Linux)."""
    if ldd_output is None:
        ldd_output = _ldd_xcb_plugin()
    return list(dict.fromkeys(re.findall(r"^\s*(\S+) => not found", ldd_output, re.MULTILINE)))


def debian_package(library: str) -> str:
    """The Debian/Ubuntu package that ships ``library`` (``libxcb-cursor.so.0`` -> ``libxcb-cursor0``). Pure."""
    if library in _PACKAGES:
        return _PACKAGES[library]
    stem, _, version = library.partition(".so.")
    version = version.split(".")[0]
    stem = stem.lower()
    return f"{stem}-{version}" if stem[-1:].isdigit() else f"{stem}{version}"


def _ldd_xcb_plugin() -> str:
    if not sys.platform.startswith("linux"):
        return ""
    try:
        import PySide6
    except ImportError:
        return ""
    qt = Path(PySide6.__file__).parent / "Qt"
    files = [qt / "plugins" / "platforms" / "libqxcb.so", *sorted((qt / "lib").glob("libQt6XcbQpa.so*"))[:1]]
    output = []
    for path in files:
        if path.is_file():
            try:
                output.append(subprocess.run(["ldd", os.fspath(path)], capture_output=True, text=True,
                                             timeout=10).stdout)
            except (OSError, subprocess.SubprocessError):
                continue
    return "\n".join(output)
