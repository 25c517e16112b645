"""The Qt binding the preview paints with must not leak or free references it doesn't own.

PySide6 6.12.0 on Python 3.11 decremented None's reference count on every Qt call returning
void, so a window painting its HUD at 60 Hz aborted within a minute; pyproject pins it out.
"""

import gc
import sys

from PySide6.QtGui import QColor, QImage, QPainter


def test_void_qt_calls_leave_nones_reference_count_alone(qapp):
    image = QImage(8, 8, QImage.Format.Format_RGB32)
    painter = QPainter(image)
    gc.collect()
    gc.disable()  # a collection of earlier tests' garbage mid-loop frees thousands of references to None
    try:
        before = sys.getrefcount(None)
        for _ in range(2000):
            painter.fillRect(0, 0, 4, 4, QColor(1, 2, 3))
        after = sys.getrefcount(None)
    finally:
        gc.enable()
        painter.end()
    assert after >= before - 50  # other threads may drop a few references; 6.12.0 dropped 2000
