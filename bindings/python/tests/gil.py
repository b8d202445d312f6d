"""Does a call release the GIL? Measured, not assumed.

A ticker thread records the time between its wake-ups while `fn` runs on the calling thread. A call
that holds the GIL stops the ticker for its whole duration; one that releases it lets the ticker
run every few milliseconds. Returns (duration of fn, longest gap between ticks).
"""

from __future__ import annotations

import threading
import time
from typing import Any, Callable


def longest_stall(fn: Callable[[], Any]) -> tuple[float, float]:
    stop = threading.Event()
    started = threading.Event()
    gaps: list[float] = []

    def tick() -> None:
        last = time.perf_counter()
        started.set()
        while not stop.is_set():
            time.sleep(0.001)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    ticker = threading.Thread(target=tick)
    ticker.start()
    started.wait()
    t0 = time.perf_counter()
    fn()
    duration = time.perf_counter() - t0
    stop.set()
    ticker.join()
    return duration, max(gaps, default=duration)
