"""The preview window (PySide6): paints each frame when it is due, and the HUD, and handles input.

Everything that takes time runs elsewhere (the render worker, the receiver, the recorder);
the GUI thread only calls :meth:`PreviewSession.tick` at each refresh, which hands the frame
due to the window's frame sink (:class:`renderer.sinks.window.WindowSink`: a QImage), and
paints what changed: a new frame, the HUD (:data:`HUD_HZ`), a state message. Keys: H HUD,
F fullscreen (Esc leaves), B blackout, P freeze, S screenshot, [ and ] latency offset -/+ 5 ms,
C controls bar.
"""

from __future__ import annotations

import math
import os
import time
from collections import deque
from pathlib import Path

from PySide6.QtCore import QFileSystemWatcher, QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QFont, QFontMetrics, QGuiApplication, QImage, QKeyEvent, QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from bridge.errors import BarlightError
from bridge.files import atomic_output
from renderer.preview.hud import Hud, Meter
from renderer.preview.session import PreviewSession
from renderer.preview.status import REFUSING, STOPPED, WAITING, PreviewStatus
from renderer.sinks import open_sink

#: Range of the latency offset slider, in milliseconds.
LATENCY_RANGE_MS = (-500, 500)
#: How long a note (screenshot path, reload result) stays on the HUD, in seconds.
NOTE_SECONDS = 6.0
#: How often the HUD's text and meters are refreshed, Hz. The frame is painted when a new one is due, and
#: only then: repainting an unchanged frame at every refresh cost the GUI process a fifth of a core, and a
#: process that uses more than its share of a busy machine is woken later for its next refresh.
HUD_HZ = 12.0


class FrameView(QWidget):
    """Paints the current frame (aspect kept, black around it), the state message and the HUD."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.image: QImage | None = None
        self.hud: Hud | None = None  #: set through :meth:`replace_hud`, which also places it
        self._hud_box = QRectF()  #: where :attr:`hud` is painted (empty without one)
        self.status: PreviewStatus | None = None
        self.hud_visible = True
        self.blackout = False
        self.idle_dim = 0.0  #: 0..1 darkening while the transport is stopped (breathes gently)
        self.paints = 0
        self.paint_seconds: deque[float] = deque(maxlen=2000)  #: CPU seconds of each paint (GUI thread work)
        self.setMinimumSize(160, 120)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)

    def paintEvent(self, event: QPaintEvent) -> None:
        started = time.thread_time()
        self.paints += 1
        painter = QPainter(self)
        painter.fillRect(self.rect(), Qt.GlobalColor.black)
        if self.image is not None and not self.blackout:
            area = self.rect()
            scale = min(area.width() / self.image.width(), area.height() / self.image.height())
            w, h = self.image.width() * scale, self.image.height() * scale
            target = QRectF((area.width() - w) / 2, (area.height() - h) / 2, w, h)
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
            painter.drawImage(target, self.image)
            if self.idle_dim > 0:
                painter.fillRect(target, QColor(0, 0, 0, int(255 * self.idle_dim)))
        if self.status is not None and self.status.headline:
            self._message(painter, self.status)
        if self.hud_visible and self.hud is not None:
            self._hud(painter)
        painter.end()
        self.paint_seconds.append(time.thread_time() - started)

    def _message(self, painter: QPainter, status: PreviewStatus) -> None:
        lines = (status.headline, *status.detail)
        font = QFont(self.font())
        font.setPointSizeF(max(10.0, min(18.0, self.width() / 60)))
        painter.setFont(font)
        metrics = painter.fontMetrics()
        width = max(metrics.horizontalAdvance(line) for line in lines) + 32
        height = metrics.height() * len(lines) + 24
        box = QRectF((self.width() - width) / 2, self.height() * 0.62 - height / 2, width, height)
        painter.fillRect(box, QColor(0, 0, 0, 170))
        painter.setPen(QColor(255, 255, 255) if status.state != STOPPED else QColor(200, 200, 200))
        for i, line in enumerate(lines):
            painter.drawText(QRectF(box.left(), box.top() + 12 + i * metrics.height(), width, metrics.height()),
                             Qt.AlignmentFlag.AlignHCenter, line)

    @staticmethod
    def hud_font() -> QFont:
        font = QFont("monospace")
        font.setStyleHint(QFont.StyleHint.Monospace)
        font.setPointSizeF(9.5)
        return font

    def hud_box(self, hud: Hud) -> QRectF:
        """Where ``hud`` is painted: its box grows with its longest line and its number of lines."""
        metrics = QFontMetrics(self.hud_font())
        width = max([metrics.horizontalAdvance(line) for line in hud.lines] + [300]) + 20
        return QRectF(8, 8, width, metrics.height() * len(hud.lines) + 3 * (metrics.height() + 30) + 16)

    def replace_hud(self, hud: Hud | None) -> None:
        """Show ``hud`` from the next paint on, and ask for a repaint of the HUD's box (the old one's and the new
        one's: the frame under the HUD is redrawn there only)."""
        old = self._hud_box
        self.hud, self._hud_box = hud, QRectF() if hud is None else self.hud_box(hud)
        dirty = old.united(self._hud_box)
        if not dirty.isEmpty():
            self.update(dirty.toAlignedRect().adjusted(-1, -1, 1, 1))

    def _hud(self, painter: QPainter) -> None:
        """Paint :attr:`hud` into the box :meth:`replace_hud` placed it in."""
        hud = self.hud
        painter.setFont(self.hud_font())
        metrics = painter.fontMetrics()
        line_h = metrics.height()
        box = self._hud_box
        width = box.width()
        rows = (hud.features, hud.bands, hud.macros)
        painter.fillRect(box, QColor(0, 0, 0, 160))
        painter.setPen(QColor(235, 235, 235))
        y = 14.0
        for line in hud.lines:
            painter.drawText(QRectF(18, y, width - 20, line_h), Qt.AlignmentFlag.AlignLeft, line)
            y += line_h
        for title, row in zip(("features", "bands", "macros"), rows):
            y += 6
            painter.setPen(QColor(170, 170, 170))
            painter.drawText(QRectF(18, y, 80, line_h), Qt.AlignmentFlag.AlignLeft, title)
            self._meters(painter, row, 100.0, y, width - 110.0, line_h + 24)
            y += line_h + 24

    @staticmethod
    def _meters(painter: QPainter, meters: tuple[Meter, ...], x: float, y: float, width: float, height: float) -> None:
        if not meters:
            return
        slot = width / len(meters)
        bar_h = height - 14
        for i, meter in enumerate(meters):
            left = x + i * slot
            painter.fillRect(QRectF(left, y, slot - 4, bar_h), QColor(60, 60, 60, 200))
            filled = bar_h * min(max(meter.value, 0.0), 1.0)
            painter.fillRect(QRectF(left, y + bar_h - filled, slot - 4, filled), QColor(80, 220, 160))
            painter.setPen(QColor(200, 200, 200))
            painter.drawText(QRectF(left, y + bar_h, slot - 4, 14), Qt.AlignmentFlag.AlignHCenter, meter.label)


class PreviewWindow(QWidget):
    """The frame view plus a controls bar: preset, latency offset, freeze, blackout, screenshot, fullscreen, HUD.

    ``presets`` lists the names (or paths) offered; ``preset_file`` (the current preset's file) is
    watched and hot-reloaded when it changes.
    """

    def __init__(self, session: PreviewSession, presets: list[str], current_preset: str,
                 preset_file: Path | None = None) -> None:
        super().__init__()
        self.session = session
        self.setWindowTitle("Barlight preview")
        self.view = FrameView(self)
        self.note = ""
        self._note_until = 0.0
        self.preset_file = preset_file
        #: the window as one of the session's frame sinks (the screen's latency is the preview's display latency)
        self.sink = session.outputs.add(open_sink("window", view=self.view,
                                                  latency_seconds=session.options.display_latency_seconds))
        self.tick_seconds: deque[float] = deque(maxlen=2000)  #: CPU seconds of each tick's work
        self._next_slow = 0.0  #: when the HUD and the idle breath are next refreshed (monotonic seconds)

        self.presets = QComboBox()
        self.presets.addItems(presets)
        self.presets.setCurrentText(current_preset)
        self.presets.currentTextChanged.connect(self.choose_preset)
        self.latency = QSlider(Qt.Orientation.Horizontal)
        self.latency.setRange(*LATENCY_RANGE_MS)
        self.latency.setValue(round(session.latency_ms))
        self.latency.setFixedWidth(180)
        self.latency_label = QLabel()
        self.latency.valueChanged.connect(self.set_latency_ms)
        self.freeze_button = QPushButton("Freeze (P)", checkable=True)
        self.freeze_button.toggled.connect(self.set_frozen)
        self.blackout_button = QPushButton("Blackout (B)", checkable=True)
        self.blackout_button.toggled.connect(self.set_blackout)
        shot = QPushButton("Screenshot (S)")
        shot.clicked.connect(self.screenshot)
        self.hud_button = QPushButton("HUD (H)", checkable=True, checked=True)
        self.hud_button.toggled.connect(self.set_hud)
        self.fullscreen_button = QToolButton(text="Fullscreen (F)")
        self.fullscreen_button.setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup)
        self.fullscreen_button.clicked.connect(lambda: self.toggle_fullscreen())
        menu = QMenu(self.fullscreen_button)
        for index, screen in enumerate(QGuiApplication.screens()):
            action = menu.addAction(f"Fullscreen on {index}: {screen.name()} ({screen.size().width()}x"
                                    f"{screen.size().height()})")
            action.triggered.connect(lambda _=False, i=index: self.show_fullscreen(i))
        self.fullscreen_button.setMenu(menu)

        self.controls = QWidget()
        row = QHBoxLayout(self.controls)
        row.setContentsMargins(6, 4, 6, 4)
        for widget in (QLabel("Preset"), self.presets, QLabel("Offset"), self.latency, self.latency_label,
                       self.freeze_button, self.blackout_button, shot, self.hud_button, self.fullscreen_button):
            widget.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys go to the window (H, F, B, P, S…)
            row.addWidget(widget)
        row.addStretch(1)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.controls)
        self._show_latency(session.latency_ms)

        self.watcher = QFileSystemWatcher(self)
        self.watcher.fileChanged.connect(self._preset_file_changed)
        self._reload_timer = QTimer(self, singleShot=True, interval=150)
        self._reload_timer.timeout.connect(self.reload_preset)
        self._watch(preset_file)

        self.timer = QTimer(self)
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(max(1, round(session.period_seconds * 1000)))
        self.timer.timeout.connect(self.on_tick)
        self.resize(960, 640)

    # -- the tick ------------------------------------------------------------------------------

    def start(self) -> None:
        self.timer.start()

    def on_tick(self) -> None:
        started = time.thread_time()
        now = time.monotonic()
        tick = self.session.tick(now)  # a frame due now reaches the view through self.sink
        status = tick.status
        if self.session.frozen:
            status = PreviewStatus(status.state, "Frozen (P resumes)", (), status.sender)
        status = status if status.headline else None
        changed = tick.frame is not None or status != self.view.status
        self.view.status = status
        slow_due = now >= self._next_slow
        if slow_due:  # the HUD's words and meters and the idle breath change at a readable rate, not per refresh
            self._next_slow = now + 1.0 / HUD_HZ
            idle = tick.status.state == STOPPED and self.view.image is not None
            dim = 0.25 + 0.1 * math.sin(now * 1.5) if idle else 0.0  # idles gently: a slow breath
            changed |= dim != self.view.idle_dim
            self.view.idle_dim = dim
            if self.view.hud_visible or tick.status.state in (WAITING, REFUSING):
                self.view.replace_hud(self.session.hud(now, self.note if now < self._note_until else ""))
        if changed:
            self.view.update()
        self.tick_seconds.append(time.thread_time() - started)

    def say(self, note: str) -> None:
        """Show ``note`` on the HUD for a few seconds."""
        self.note, self._note_until = note, time.monotonic() + NOTE_SECONDS

    # -- controls ------------------------------------------------------------------------------

    def choose_preset(self, name: str) -> None:
        try:
            self.session.set_preset(name)
        except BarlightError as err:
            self.say(f"preset not loaded: {err}")
            return
        from renderer.presets import preset_path

        self._watch(preset_path(name))
        self.say(f"preset {self.session.preset_name}")

    def _watch(self, path: Path | None) -> None:
        if self.watcher.files():
            self.watcher.removePaths(self.watcher.files())
        self.preset_file = Path(path) if path is not None else None
        if self.preset_file is not None and self.preset_file.is_file():
            self.watcher.addPath(os.fspath(self.preset_file))

    def _preset_file_changed(self, _path: str) -> None:
        self._reload_timer.start()  # editors write in bursts (and some replace the file): settle first

    def reload_preset(self) -> None:
        """Load the watched preset file again (hot reload); a broken file keeps the current preset."""
        if self.preset_file is None:
            return
        if self.preset_file.is_file() and os.fspath(self.preset_file) not in self.watcher.files():
            self.watcher.addPath(os.fspath(self.preset_file))  # replaced by an editor: watch the new file
        try:
            name = self.session.set_preset(self.preset_file)
        except BarlightError as err:
            self.say(f"preset not reloaded: {err}")
            return
        self.say(f"reloaded preset {name} from {self.preset_file.name}")

    def set_latency_ms(self, value: int) -> None:
        self.session.set_latency_ms(value)
        self._show_latency(value)

    def _show_latency(self, value: float) -> None:
        self.latency_label.setText(f"{value:+.0f} ms")

    def set_frozen(self, on: bool) -> None:
        self.session.frozen = bool(on)

    def set_blackout(self, on: bool) -> None:
        self.view.blackout = bool(on)
        self.view.update()

    def set_hud(self, on: bool) -> None:
        self.view.hud_visible = bool(on)
        self.view.update()

    def screenshot(self) -> Path | None:
        path = self.session.screenshot()
        self.say(f"screenshot saved: {path}" if path else "no frame to save yet")
        return path

    def save_grab(self) -> Path:
        """Save a picture of the whole window (frame, HUD, controls) into the screenshots folder, atomically."""
        folder = Path(self.session.options.screenshots_folder)
        folder.mkdir(parents=True, exist_ok=True)
        self.grabs = getattr(self, "grabs", 0) + 1
        path = folder / f"window-{os.getpid()}-{self.grabs:04d}.png"
        with atomic_output(path) as tmp:
            if not self.grab().save(os.fspath(tmp), "PNG"):
                raise OSError(f"cannot write {tmp}")
        return path

    def show_fullscreen(self, screen_index: int | None = None) -> None:
        """Fullscreen on screen ``screen_index`` (QGuiApplication.screens() order; None: this one)."""
        screens = QGuiApplication.screens()
        if screen_index is not None:
            if not 0 <= screen_index < len(screens):
                raise IndexError(f"screen {screen_index} (there are {len(screens)})")
            screen = screens[screen_index]
            self.setGeometry(screen.geometry())
            if self.windowHandle() is not None:
                self.windowHandle().setScreen(screen)
        self.controls.hide()
        self.showFullScreen()

    def toggle_fullscreen(self) -> None:
        if self.isFullScreen():
            self.showNormal()
            self.controls.show()
        else:
            self.show_fullscreen()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key == Qt.Key.Key_H:
            self.hud_button.toggle()
        elif key == Qt.Key.Key_F:
            self.toggle_fullscreen()
        elif key == Qt.Key.Key_Escape and self.isFullScreen():
            self.toggle_fullscreen()
        elif key == Qt.Key.Key_B:
            self.blackout_button.toggle()
        elif key == Qt.Key.Key_P:
            self.freeze_button.toggle()
        elif key == Qt.Key.Key_S:
            self.screenshot()
        elif key == Qt.Key.Key_C:
            self.controls.setVisible(not self.controls.isVisible())
        elif key in (Qt.Key.Key_BracketLeft, Qt.Key.Key_BracketRight):
            self.latency.setValue(self.latency.value() + (5 if key == Qt.Key.Key_BracketRight else -5))
        else:
            super().keyPressEvent(event)

    def closeEvent(self, event) -> None:
        self.timer.stop()
        super().closeEvent(event)
