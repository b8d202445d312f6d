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


def slow_first_visits(compiler, rows: int):
    """A grammar whose first masks are slow to compute, and the prefix that puts row i in its own state.

    Each row loops in a character class of its own (letters, space and digits, one letter and one
    digit left out), so no two states share mask work and none is a uniform text run: every first
    fill walks much of the vocabulary (about a millisecond each with Llama-3, on the reference machine).
    """
    letters = "abcdefghijklmnopqrstuvwxyz"
    alternatives, rules = [], []
    for i in range(rows):
        chars = letters.replace(letters[i % 26], "") + " " + "0123456789".replace(str(i // 26 % 10), "")
        alternatives.append(f'"k{i}:" r{i}')
        rules.append(f'r{i} ::= [{chars}]* "."')
    grammar = compiler.compile_grammar("root ::= " + " | ".join(alternatives) + "\n" + "\n".join(rules) + "\n")
    return grammar, [f"k{i}:" for i in range(rows)]


# A schema whose compile is long on any machine: 4,000 required characters unroll into ~80,000 states
# (a long maxLength no longer does: the engine counts it, docs/engine.md).
SLOW_COMPILE_SCHEMA = {"type": "string", "minLength": 4000}
