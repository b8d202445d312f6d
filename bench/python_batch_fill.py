"""Batched mask fill from Python, the same workload as bench/batch_fill_bench.cc.

64 sequences under one JSON Schema; each step is one fill call for the whole batch, timed two ways:
stencil.MatcherBatch.fill_next_token_bitmask(bitmask) (the batch gathered once; line "python
MatcherBatch") and stencil.BatchFiller.fill(matchers, bitmask) (a list of Matcher objects; line
"python BatchFiller"). The walk is the C++ program's (row i at step s takes the allowed non-EOS
token of index (i * 7919 + s * 104729) mod count), recorded once untimed, then replayed REPLAYS
times (default 5, --replays N) with each fill timed, so the figures differ from the C++ ones only
by what the binding adds: the call, the argument checks, the GIL release.

    PYTHONPATH=<build>/bindings/python:bindings/python python3 bench/python_batch_fill.py \
        TOKENIZER SCHEMA [THREADS...] [--replays N] [--api batch|filler|both]
"""

from __future__ import annotations

import statistics
import sys
import time

import numpy as np

import stencil

BATCH = 64
STEPS = 200
REPLAYS = 5
RESET = -1


def record_walk(grammar: stencil.CompiledGrammar, filler: stencil.BatchFiller) -> list[list[int]]:
    """The walk, untimed: per step, the token each row accepts (RESET: the row restarts)."""
    vocab = grammar.vocabulary
    eos = np.array(vocab.eos_ids, dtype=np.int64)
    matchers = [stencil.Matcher(grammar) for _ in range(BATCH)]
    bitmask = stencil.allocate_token_bitmask(BATCH, vocab.size)
    actions = []
    for step in range(STEPS):
        filler.fill(matchers, bitmask)
        bits = np.unpackbits(bitmask.view(np.uint8), axis=1, bitorder="little")[:, : vocab.size]
        chosen = []
        for i, matcher in enumerate(matchers):
            allowed = np.setdiff1d(np.flatnonzero(bits[i]), eos)
            if allowed.size == 0:
                chosen.append(RESET)
                matcher.reset()
                continue
            chosen.append(int(allowed[(i * 7919 + step * 104729) % allowed.size]))
            matcher.accept_token(chosen[-1])
        actions.append(chosen)
    return actions


def replay_batch(grammar: stencil.CompiledGrammar, threads: int, actions: list[list[int]]) -> list[float]:
    """Replays the recorded walk on a stencil.MatcherBatch; each step's fill time in microseconds."""
    batch = stencil.MatcherBatch(grammar, BATCH, threads=threads)
    bitmask = stencil.allocate_token_bitmask(BATCH, grammar.vocabulary.size)
    steps = [(np.array(chosen, dtype=np.int32), [i for i, t in enumerate(chosen) if t == RESET]) for chosen in actions]
    fill = batch.fill_next_token_bitmask
    times = []
    for tokens, resets in steps:
        t0 = time.perf_counter()
        fill(bitmask)
        times.append((time.perf_counter() - t0) * 1e6)
        batch.accept_tokens(tokens)  # RESET (-1) is rejected: those rows restart below
        for i in resets:
            batch[i].reset()
    return times


def replay(grammar: stencil.CompiledGrammar, filler: stencil.BatchFiller, actions: list[list[int]]) -> list[float]:
    """Replays the recorded walk on a list of Matchers; each step's fill time in microseconds.

    Tokens go in with one stencil.accept_tokens call per step, as a serving loop would: a Python
    loop of 64 accept_token calls runs enough interpreter code between two fills to evict part of
    the mask data from the caches, which then shows in the next fill (about 1 us at 64 rows).
    """
    matchers = [stencil.Matcher(grammar) for _ in range(BATCH)]
    bitmask = stencil.allocate_token_bitmask(BATCH, grammar.vocabulary.size)
    steps = [(np.array(chosen, dtype=np.int32), [i for i, t in enumerate(chosen) if t == RESET]) for chosen in actions]
    times = []
    for tokens, resets in steps:
        t0 = time.perf_counter()
        filler.fill(matchers, bitmask)
        times.append((time.perf_counter() - t0) * 1e6)
        stencil.accept_tokens(matchers, tokens)  # RESET (-1) is rejected: those rows restart below
        for i in resets:
            matchers[i].reset()
    return times


def report(label: str, threads: int, times: list[float]) -> None:
    times = sorted(times)
    print(f"{label} batch {BATCH}, threads {threads}: batch fill min {times[0]:6.1f} us, "
          f"p50 {times[len(times) // 2]:6.1f} us, mean {statistics.fmean(times):6.1f} us, "
          f"p99 {times[len(times) * 99 // 100]:6.1f} us ({len(times)} fills)", flush=True)


def main() -> None:
    args = sys.argv[1:]
    replays, api = REPLAYS, "both"
    if "--replays" in args:
        at = args.index("--replays")
        replays = int(args[at + 1])
        del args[at : at + 2]
    if "--api" in args:
        at = args.index("--api")
        api = args[at + 1]
        del args[at : at + 2]
    if len(args) < 2 or api not in ("batch", "filler", "both"):
        sys.exit("usage: python_batch_fill.py TOKENIZER SCHEMA [THREADS...] [--replays N] [--api batch|filler|both]")
    vocab = stencil.Vocabulary.from_file(args[0])
    grammar = stencil.Compiler(vocab).compile_json_schema(open(args[1]).read())
    for threads in [int(a) for a in args[2:]] or [1, 2]:
        filler = stencil.BatchFiller(threads)
        actions = record_walk(grammar, filler)  # pays first visits too
        # Replays alternate between the two APIs, so that both see the same load on a shared machine.
        batch_times: list[float] = []
        filler_times: list[float] = []
        for _ in range(replays):
            if api in ("batch", "both"):
                batch_times += replay_batch(grammar, threads, actions)
            if api in ("filler", "both"):
                filler_times += replay(grammar, filler, actions)
        if batch_times:
            report("python MatcherBatch", threads, batch_times)
        if filler_times:
            report("python BatchFiller ", threads, filler_times)
        print(f"python walk token sum {sum(sum(chosen) for chosen in actions)}")  # the C++ program's, if the same walk

if __name__ == "__main__":
    main()
