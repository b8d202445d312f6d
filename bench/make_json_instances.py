#!/usr/bin/env python3
"""Writes JSON lines of random JSON documents for `stencil bench --json`.

Deterministic for a seed. Documents look like API payloads a model writes: nested
objects with English keys, strings of words (with some non-ASCII text and escapes),
integers, decimals, exponents, booleans, nulls and arrays. Each document's size is
drawn uniformly from [--min-bytes, --max-bytes] (default 1-10 KB). Output is one
document per line in Python's default separators (", " and ": "), non-ASCII kept as
UTF-8. It does not try to imitate any particular schema.

  bench/make_json_instances.py --count 200 --seed 1 > /tmp/json_docs.jsonl
"""
import argparse
import json
import random
import sys

WORDS = ("the quick brown fox jumps over lazy dog weather forecast city temperature humidity wind "
         "pressure user account order item price quantity status shipped pending delivered address "
         "street postal code country name email phone description summary title author created "
         "updated version release notes error message warning value result total count page").split()
UNICODE = ["café", "naïve", "Zürich", "東京", "München", "Ελλάδα", "Москва", "😀", "señor", "日本語"]
ESCAPES = ["\"quoted\"", "back\\slash", "line\nbreak", "tab\there", "slash/path"]


def word_string(rng):
    n = rng.randint(1, 12)
    parts = []
    for _ in range(n):
        r = rng.random()
        parts.append(rng.choice(UNICODE) if r < 0.05 else rng.choice(ESCAPES) if r < 0.08 else rng.choice(WORDS))
    return " ".join(parts)


def key(rng):
    return rng.choice(WORDS) + ("_" + rng.choice(WORDS) if rng.random() < 0.4 else "")


def number(rng):
    r = rng.random()
    if r < 0.5:
        return rng.randint(-1000, 100000)
    if r < 0.9:
        return round(rng.uniform(-1000, 1000), rng.randint(1, 6))
    return float(f"{rng.uniform(1, 9):.3f}e{rng.randint(-20, 20)}")


def value(rng, depth):
    r = rng.random()
    if depth < 4 and r < 0.15:
        return obj(rng, depth + 1, rng.randint(1, 6))
    if depth < 4 and r < 0.25:
        return [value(rng, depth + 1) for _ in range(rng.randint(0, 6))]
    if r < 0.6:
        return word_string(rng)
    if r < 0.85:
        return number(rng)
    if r < 0.95:
        return rng.random() < 0.5
    return None


def obj(rng, depth, n):
    return {key(rng): value(rng, depth) for _ in range(n)}


def document(rng, target):
    doc = {"id": rng.randint(1, 10**9), "items": []}
    while len(json.dumps(doc, ensure_ascii=False).encode()) < target:
        doc["items"].append(obj(rng, 1, rng.randint(2, 8)))
    # The last item may overshoot the target; drop it when that leaves the document within bounds.
    if len(doc["items"]) > 1:
        last = doc["items"].pop()
        if len(json.dumps(doc, ensure_ascii=False).encode()) < target:
            doc["items"].append(last)
    return doc


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--count", type=int, default=200)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--min-bytes", type=int, default=1024)
    p.add_argument("--max-bytes", type=int, default=10240)
    a = p.parse_args()
    rng = random.Random(a.seed)
    for _ in range(a.count):
        target = rng.randint(a.min_bytes, a.max_bytes)
        sys.stdout.write(json.dumps(document(rng, target), ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
