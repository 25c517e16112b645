"""LoopThread: the loop runs on its named thread until stop, and stop waits for it to end."""

from __future__ import annotations

import threading

from bridge.loop_thread import LoopThread


def test_the_loop_runs_on_its_thread_until_stop() -> None:
    runner = LoopThread("barlight-test-loop", join_seconds=5.0)
    entered, passes, names = threading.Event(), [], []

    def loop() -> None:
        names.append(threading.current_thread().name)
        entered.set()
        while runner.running.is_set():
            passes.append(1)
            runner.running.wait(0.001)
        names.append("ended")

    assert not runner.started and not runner.alive
    runner.start(loop)
    assert entered.wait(5.0)
    assert runner.started and runner.alive
    runner.stop()
    assert names == ["barlight-test-loop", "ended"]  # stop returned after the loop ended
    assert not runner.started and not runner.alive and passes

