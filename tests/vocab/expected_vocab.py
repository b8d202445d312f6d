#!/usr/bin/env python3
"""Computes the expected numbers that tests/vocab/vocabulary_test.cc asserts.

An independent (Python, written from the file formats, not from the C++ code)
decoding of every shared tokenizer: per id its kind and exact bytes, the counts
by kind, the EOS ids by the documented policy, and an FNV-1a 64 digest over
(kind byte, u32 little-endian length, bytes) for every id in order.

Usage: expected_vocab.py DATA_DIR   (DATA_DIR/tokenizers/<name>/tokenizer.json ...)
"""
import json
import os
import re
import struct
import sys


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {chr(c): b for b, c in zip(bs, cs)}


UNICODE_TO_BYTE = bytes_to_unicode()
BYTE_TOKEN = re.compile(r"^<0x([0-9A-Fa-f]{2})>$")
WELL_KNOWN_EOS = ["<|eot_id|>", "<|eom_id|>", "<|end_of_text|>", "<|endoftext|>", "<|im_end|>", "<end_of_turn>",
                  "<eos>", "</s>", "<｜end▁of▁sentence｜>"]
NORMAL, SPECIAL, UNUSED = 0, 1, 2


def byte_level(tok):
    try:
        return bytes(UNICODE_TO_BYTE[c] for c in tok)
    except KeyError:
        return tok.encode("utf-8")


def spm(tok, byte_fallback=True):
    m = BYTE_TOKEN.match(tok)
    if m and byte_fallback:
        return bytes([int(m.group(1), 16)])
    return tok.replace("\u2581", " ").encode("utf-8")


def digest(kinds, byts):
    h = 0xcbf29ce484222325
    for k, b in zip(kinds, byts):
        for x in bytes([k]) + struct.pack("<I", len(b)) + b:
            h = ((h ^ x) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


def from_json(folder):
    j = json.load(open(os.path.join(folder, "tokenizer.json"), encoding="utf-8"))
    dec = json.dumps(j.get("decoder")) + json.dumps(j.get("pre_tokenizer"))
    family = "byte_level_bpe" if '"ByteLevel"' in dec else (
        "sentencepiece" if ("\u2581" in json.dumps(j.get("decoder"), ensure_ascii=False) or "ByteFallback" in dec
                            or j["model"].get("byte_fallback")) else "tokens")
    names = {}
    for tok, i in j["model"]["vocab"].items():
        names[i] = tok
    special = set()
    for a in j["added_tokens"]:
        names[a["id"]] = a["content"]
        if a["special"]:
            special.add(a["id"])
    size = max(names) + 1
    added_normal = {a["id"] for a in j["added_tokens"] if not a["special"]}
    kinds, byts = [], []
    for i in range(size):
        if i not in names:
            kinds.append(UNUSED); byts.append(b"")
        elif i in special:
            kinds.append(SPECIAL); byts.append(b"")
        else:
            kinds.append(NORMAL)
            t = names[i]
            if family == "byte_level_bpe":
                byts.append(t.encode("utf-8") if i in added_normal else byte_level(t))
            elif family == "sentencepiece":
                byts.append(spm(t))
            else:
                byts.append(t.encode("utf-8"))
    by_name = {names[i]: i for i in sorted(names, reverse=True)}
    eos = set()
    cfg_path = os.path.join(folder, "tokenizer_config.json")
    if os.path.exists(cfg_path):
        e = json.load(open(cfg_path, encoding="utf-8")).get("eos_token")
        if isinstance(e, dict):
            e = e["content"]
        if e is not None:
            eos.add(by_name[e])
    for n in WELL_KNOWN_EOS:
        if n in by_name and by_name[n] in special:
            eos.add(by_name[n])
    return family, kinds, byts, sorted(eos)


def from_gguf(path):
    sys.path.insert(0, os.path.dirname(__file__))
    d = open(path, "rb").read()
    p = 0

    def u(fmt):
        nonlocal p
        v = struct.unpack_from("<" + fmt, d, p)[0]
        p += struct.calcsize("<" + fmt)
        return v

    def s():
        nonlocal p
        n = u("Q")
        v = d[p:p + n].decode("utf-8")
        p += n
        return v
    fmts = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}

    def val(t):
        if t in fmts:
            return u(fmts[t])
        if t == 8:
            return s()
        et = u("I")
        return [val(et) for _ in range(u("Q"))]
    assert d[:4] == b"GGUF"
    p = 4
    u("I"); u("Q")
    kv = {}
    for _ in range(u("Q")):
        k = s()
        kv[k] = val(u("I"))
    model = kv["tokenizer.ggml.model"]
    family = {"llama": "sentencepiece", "gpt2": "byte_level_bpe"}.get(model, "tokens")
    toks = kv["tokenizer.ggml.tokens"]
    types = kv.get("tokenizer.ggml.token_type", [1] * len(toks))
    kinds, byts = [], []
    for t, ty in zip(toks, types):
        if ty in (2, 3):
            kinds.append(SPECIAL); byts.append(b"")
        elif ty == 5:
            kinds.append(UNUSED); byts.append(b"")
        else:
            kinds.append(NORMAL)
            if ty == 6:
                byts.append(bytes([int(BYTE_TOKEN.match(t).group(1), 16)]))
            elif family == "sentencepiece":
                byts.append(t.replace("\u2581", " ").encode("utf-8"))
            elif family == "byte_level_bpe" and ty != 4:
                byts.append(byte_level(t))
            else:
                byts.append(t.encode("utf-8"))
    eos = sorted({kv[k] for k in ("tokenizer.ggml.eos_token_id", "tokenizer.ggml.eot_token_id",
                                  "tokenizer.ggml.eom_token_id") if k in kv})
    return family, kinds, byts, eos


def report(name, family, kinds, byts, eos, show):
    print(f"{name}: family={family} size={len(kinds)} normal={kinds.count(NORMAL)} special={kinds.count(SPECIAL)} "
          f"unused={kinds.count(UNUSED)} eos={eos} digest=0x{digest(kinds, byts):016x}")
    for i in show:
        print(f"   {i}: kind={kinds[i]} bytes={byts[i]!r}")


if __name__ == "__main__":
    root = os.path.join(sys.argv[1], "tokenizers")
    show = [int(x) for x in sys.argv[3:]]
    name = sys.argv[2] if len(sys.argv) > 2 else None
    for n in sorted(os.listdir(root)):
        if name and not n.startswith(name.split(".")[0]):
            continue
        folder = os.path.join(root, n)
        if os.path.exists(os.path.join(folder, "tokenizer.json")) and (not name or "gguf" not in name):
            report(n, *from_json(folder), show)
        for f in sorted(os.listdir(folder)):
            if f.endswith(".gguf") and (not name or "gguf" in name):
                report(n + "/" + f, *from_gguf(os.path.join(folder, f)), show)
