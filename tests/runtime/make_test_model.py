#!/usr/bin/env python3
"""Writes a small random-weight Llama-family model for the runtime tests, plus a reference bundle.

usage: make_test_model.py SHARED_DIR OUT_DIR NAME --arch llama|qwen2 --type f32|f16|bf16|q8_0|q4_0|q4_k|q6_k
                          [--format gguf|safetensors] [--dims d,heads,kv_heads,ff,layers,vocab]
                          [--tied] [--llama3-rope] [--rope-base B] [--seed S]

Weights are drawn in Hugging Face layout (q/k rows in rotate_half order). The GGUF "llama" file gets
q/k rows permuted to the interleaved layout exactly as llama.cpp's convert_hf_to_gguf.py does; qwen2
and safetensors keep the HF layout. The reference bundle NAME.ref.json + NAME.ref.bin holds the
weights *as the runtime will see them after dequantisation*, in HF layout, as float32, so a plain
reference forward pass (NEOX rope, no quantisation) in the test must reproduce the runtime's logits.
Quantised weights (Q8_0, Q4_0) are quantised here with ggml's rounding rules; K-quant files are made
of random valid blocks and dequantised here (a second, independent reading of the block layout).
Needs numpy. Uses SHARED_DIR/tools/gguf_min.py as the GGUF writer.
"""
import argparse
import json
import math
import os
import struct
import sys

import numpy as np

TYPE_IDS = {"f32": 0, "f16": 1, "q4_0": 2, "q8_0": 8, "q4_k": 12, "q6_k": 14, "bf16": 30}


def f16_round(a):
    return a.astype(np.float16).astype(np.float32)


def bf16_bits(a):
    u = np.ascontiguousarray(a, dtype=np.float32).view(np.uint32).astype(np.uint64)
    return ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)


def bf16_value(bits):
    return (bits.astype(np.uint32) << 16).view(np.float32)


def quant_q8_0(w):
    b = w.reshape(-1, 32).astype(np.float32)
    amax = np.abs(b).max(axis=1)
    d = amax / np.float32(127)
    inv = np.where(d > 0, np.float32(1) / np.where(d > 0, d, 1), 0).astype(np.float32)
    q = np.round(b * inv[:, None]).astype(np.int8)
    dh = d.astype(np.float16)
    raw = np.empty(b.shape[0], dtype=[("d", "<f2"), ("qs", "i1", (32,))])
    raw["d"] = dh
    raw["qs"] = q
    deq = (q.astype(np.float32) * dh.astype(np.float32)[:, None]).reshape(w.shape)
    return raw.tobytes(), deq


def quant_q4_0(w):
    b = w.reshape(-1, 32).astype(np.float32)
    idx = np.abs(b).argmax(axis=1)
    mx = b[np.arange(b.shape[0]), idx]
    d = mx / np.float32(-8)
    inv = np.where(d != 0, np.float32(1) / np.where(d != 0, d, 1), 0).astype(np.float32)
    q = np.minimum(15, np.trunc(b * inv[:, None] + np.float32(8.5))).astype(np.uint8)
    dh = d.astype(np.float16)
    raw = np.empty(b.shape[0], dtype=[("d", "<f2"), ("qs", "u1", (16,))])
    raw["d"] = dh
    raw["qs"] = q[:, :16] | (q[:, 16:] << 4)
    deq = ((q.astype(np.float32) - 8) * dh.astype(np.float32)[:, None]).reshape(w.shape)
    return raw.tobytes(), deq


def random_q4_k(rng, rows, cols):
    """Random valid Q4_K super-blocks and their dequantisation (ggml's block_q4_K layout)."""
    nb = rows * cols // 256
    d = (rng.random(nb) * 0.002).astype(np.float16)
    dmin = (rng.random(nb) * 0.002).astype(np.float16)
    sc = rng.integers(0, 64, (nb, 8)).astype(np.uint8)  # 6-bit scales
    mn = rng.integers(0, 64, (nb, 8)).astype(np.uint8)  # 6-bit mins
    packed = np.zeros((nb, 12), dtype=np.uint8)
    packed[:, 0:4] = sc[:, 0:4] | ((sc[:, 4:8] >> 4) << 6)
    packed[:, 4:8] = mn[:, 0:4] | ((mn[:, 4:8] >> 4) << 6)
    packed[:, 8:12] = (sc[:, 4:8] & 0xF) | ((mn[:, 4:8] & 0xF) << 4)
    q = rng.integers(0, 16, (nb, 256)).astype(np.uint8)  # element order within the super-block
    # qs byte l of 32-byte group g holds element 64g+l (low nibble) and 64g+32+l (high nibble).
    qs = np.zeros((nb, 128), dtype=np.uint8)
    for g in range(4):
        qs[:, 32 * g:32 * g + 32] = q[:, 64 * g:64 * g + 32] | (q[:, 64 * g + 32:64 * g + 64] << 4)
    raw = np.empty(nb, dtype=[("d", "<f2"), ("dmin", "<f2"), ("scales", "u1", (12,)), ("qs", "u1", (128,))])
    raw["d"], raw["dmin"], raw["scales"], raw["qs"] = d, dmin, packed, qs
    sub = np.repeat(np.arange(8), 32)  # sub-block of each element
    deq = d.astype(np.float32)[:, None] * sc[:, sub] * q - dmin.astype(np.float32)[:, None] * mn[:, sub]
    return raw.tobytes(), deq.reshape(rows, cols).astype(np.float32)


def random_q6_k(rng, rows, cols):
    """Random valid Q6_K super-blocks and their dequantisation (ggml's block_q6_K layout)."""
    nb = rows * cols // 256
    q = rng.integers(0, 64, (nb, 256)).astype(np.uint8)
    scales = rng.integers(-128, 128, (nb, 16)).astype(np.int8)
    d = (rng.random(nb) * 0.0005).astype(np.float16)
    ql = np.zeros((nb, 128), dtype=np.uint8)
    qh = np.zeros((nb, 64), dtype=np.uint8)
    for half in range(2):  # 128 elements each
        e = q[:, 128 * half:128 * half + 128]
        l = np.arange(32)
        ql[:, 64 * half + l] = (e[:, l] & 0xF) | ((e[:, l + 64] & 0xF) << 4)
        ql[:, 64 * half + 32 + l] = (e[:, l + 32] & 0xF) | ((e[:, l + 96] & 0xF) << 4)
        qh[:, 32 * half + l] = (e[:, l] >> 4) | ((e[:, l + 32] >> 4) << 2) | ((e[:, l + 64] >> 4) << 4) | ((e[:, l + 96] >> 4) << 6)
    raw = np.empty(nb, dtype=[("ql", "u1", (128,)), ("qh", "u1", (64,)), ("scales", "i1", (16,)), ("d", "<f2")])
    raw["ql"], raw["qh"], raw["scales"], raw["d"] = ql, qh, scales, d
    sub = np.arange(256) // 16  # scale index of each element
    deq = d.astype(np.float32)[:, None] * scales[:, sub].astype(np.float32) * (q.astype(np.float32) - 32)
    return raw.tobytes(), deq.reshape(rows, cols).astype(np.float32)


def permute_rows(w, n_head):
    """HF rotate_half row order -> interleaved (convert_hf_to_gguf.py's LlamaModel.permute)."""
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def llama3_factors(n_rot, base, factor, low, high, orig):
    out = []
    for i in range(0, n_rot, 2):
        freq = 1.0 / base ** (i / n_rot)
        wavelen = 2 * math.pi / freq
        if wavelen < orig / high:
            out.append(1.0)
        elif wavelen > orig / low:
            out.append(factor)
        else:
            smooth = (orig / wavelen - low) / (high - low)
            out.append(1 / ((1 - smooth) / factor + smooth))
    return np.array(out, dtype=np.float32)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("shared")
    ap.add_argument("out_dir")
    ap.add_argument("name")
    ap.add_argument("--arch", default="llama", choices=["llama", "qwen2"])
    ap.add_argument("--type", default="f32", choices=sorted(TYPE_IDS))
    ap.add_argument("--format", default="gguf", choices=["gguf", "safetensors"])
    ap.add_argument("--dims", default="64,4,2,128,2,96")
    ap.add_argument("--tied", action="store_true")
    ap.add_argument("--llama3-rope", action="store_true")
    ap.add_argument("--rope-base", type=float, default=10000.0)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    sys.path.insert(0, os.path.join(a.shared, "tools"))
    import gguf_min as G

    d, nh, nkv, ff, nl, nv = (int(x) for x in a.dims.split(","))
    hd = d // nh
    eps = 1e-5 if a.arch == "llama" else 1e-6
    rng = np.random.Generator(np.random.PCG64(a.seed))
    bias = a.arch == "qwen2"
    rope = None
    if a.llama3_rope:
        rope = {"factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 64}

    # HF-layout float32 weights.
    hf = {}
    def mat(name, rows, cols, std=0.08):
        hf[name] = (rng.standard_normal((rows, cols)) * std).astype(np.float32)
    def vec(name, n, around=1.0, std=0.1):
        hf[name] = (around + rng.standard_normal(n) * std).astype(np.float32)
    mat("model.embed_tokens.weight", nv, d, 0.5)
    vec("model.norm.weight", d)
    if not a.tied:
        mat("lm_head.weight", nv, d)
    for i in range(nl):
        p = "model.layers.%d." % i
        vec(p + "input_layernorm.weight", d)
        mat(p + "self_attn.q_proj.weight", nh * hd, d)
        mat(p + "self_attn.k_proj.weight", nkv * hd, d)
        mat(p + "self_attn.v_proj.weight", nkv * hd, d)
        if bias:
            vec(p + "self_attn.q_proj.bias", nh * hd, 0.0, 0.3)
            vec(p + "self_attn.k_proj.bias", nkv * hd, 0.0, 0.3)
            vec(p + "self_attn.v_proj.bias", nkv * hd, 0.0, 0.3)
        mat(p + "self_attn.o_proj.weight", d, nh * hd)
        vec(p + "post_attention_layernorm.weight", d)
        mat(p + "mlp.gate_proj.weight", ff, d)
        mat(p + "mlp.up_proj.weight", ff, d)
        mat(p + "mlp.down_proj.weight", d, ff)

    ref = {}  # HF name -> float32 weights as the runtime sees them (HF layout)
    os.makedirs(a.out_dir, exist_ok=True)

    def encode(w):
        """Float32 2-D matrix -> (type id, raw bytes, dequantised float32)."""
        t = a.type
        if t == "f32":
            return 0, w.astype("<f4").tobytes(), w
        if t == "f16":
            return 1, w.astype("<f2").tobytes(), f16_round(w)
        if t == "bf16":
            bits = bf16_bits(w)
            return 30, bits.tobytes(), bf16_value(bits).reshape(w.shape)
        if t == "q8_0":
            raw, deq = quant_q8_0(w)
            return 8, raw, deq
        if t == "q4_0":
            raw, deq = quant_q4_0(w)
            return 2, raw, deq
        if t == "q4_k":
            raw, deq = random_q4_k(rng, *w.shape)
            return 12, raw, deq
        raw, deq = random_q6_k(rng, *w.shape)
        return 14, raw, deq

    if a.format == "gguf":
        g = G.GGUFWriter()
        g.add_str("general.architecture", a.arch)
        g.add_str("general.name", a.name)
        g.add_u32(a.arch + ".context_length", 512)
        g.add_u32(a.arch + ".embedding_length", d)
        g.add_u32(a.arch + ".block_count", nl)
        g.add_u32(a.arch + ".feed_forward_length", ff)
        g.add_u32(a.arch + ".rope.dimension_count", hd)
        g.add_u32(a.arch + ".attention.head_count", nh)
        g.add_u32(a.arch + ".attention.head_count_kv", nkv)
        g.add_f32(a.arch + ".attention.layer_norm_rms_epsilon", eps)
        g.add_f32(a.arch + ".rope.freq_base", a.rope_base)
        g.add_u32(a.arch + ".vocab_size", nv)
        g.add_str("tokenizer.chat_template", "{{ messages }}")

        def put(gname, hfname, permute_heads=None):
            w = hf[hfname]
            if w.ndim == 1:
                g.add_tensor(gname, w, G.GGML_F32)
                ref[hfname] = w
                return
            stored = permute_rows(w, permute_heads) if permute_heads else w
            tid, raw, deq = encode(stored)
            g.tensors.append((gname, list(reversed(stored.shape)), tid, raw))
            # Undo the permutation for the reference (the inverse of the pair swap is the same reshape backwards).
            if permute_heads:
                deq = deq.reshape(permute_heads, deq.shape[0] // permute_heads // 2, 2, -1).swapaxes(1, 2).reshape(w.shape)
            ref[hfname] = deq

        put("token_embd.weight", "model.embed_tokens.weight")
        put("output_norm.weight", "model.norm.weight")
        if not a.tied:
            put("output.weight", "lm_head.weight")
        if rope:
            f = llama3_factors(hd, a.rope_base, rope["factor"], rope["low_freq_factor"], rope["high_freq_factor"],
                               rope["original_max_position_embeddings"])
            g.add_tensor("rope_freqs.weight", f, G.GGML_F32)
        perm = a.arch == "llama"
        for i in range(nl):
            p, b = "model.layers.%d." % i, "blk.%d." % i
            put(b + "attn_norm.weight", p + "input_layernorm.weight")
            put(b + "attn_q.weight", p + "self_attn.q_proj.weight", nh if perm else None)
            put(b + "attn_k.weight", p + "self_attn.k_proj.weight", nkv if perm else None)
            put(b + "attn_v.weight", p + "self_attn.v_proj.weight")
            if bias:
                put(b + "attn_q.bias", p + "self_attn.q_proj.bias")
                put(b + "attn_k.bias", p + "self_attn.k_proj.bias")
                put(b + "attn_v.bias", p + "self_attn.v_proj.bias")
            put(b + "attn_output.weight", p + "self_attn.o_proj.weight")
            put(b + "ffn_norm.weight", p + "post_attention_layernorm.weight")
            put(b + "ffn_gate.weight", p + "mlp.gate_proj.weight")
            put(b + "ffn_up.weight", p + "mlp.up_proj.weight")
            put(b + "ffn_down.weight", p + "mlp.down_proj.weight")
        g.write(os.path.join(a.out_dir, a.name + ".gguf"))
    else:
        assert a.type in ("f32", "f16", "bf16"), "safetensors holds float types only"
        folder = os.path.join(a.out_dir, a.name)
        os.makedirs(folder, exist_ok=True)
        cfg = {"model_type": a.arch, "hidden_size": d, "intermediate_size": ff, "num_hidden_layers": nl,
               "num_attention_heads": nh, "num_key_value_heads": nkv, "vocab_size": nv, "rms_norm_eps": eps,
               "rope_theta": a.rope_base, "max_position_embeddings": 512, "tie_word_embeddings": a.tied}
        if rope:
            cfg["rope_scaling"] = dict(rope, rope_type="llama3")
        json.dump(cfg, open(os.path.join(folder, "config.json"), "w"), indent=1)
        header, blobs, off = {}, [], 0
        for name, w in hf.items():
            if w.ndim == 1 or a.type == "f32":
                raw, deq, dt = w.astype("<f4").tobytes(), w, "F32"
            elif a.type == "f16":
                raw, deq, dt = w.astype("<f2").tobytes(), f16_round(w), "F16"
            else:
                bits = bf16_bits(w)
                raw, deq, dt = bits.tobytes(), bf16_value(bits).reshape(w.shape), "BF16"
            header[name] = {"dtype": dt, "shape": list(w.shape), "data_offsets": [off, off + len(raw)]}
            blobs.append(raw)
            off += len(raw)
            ref[name] = deq
        header["__metadata__"] = {"format": "pt"}
        hb = json.dumps(header).encode()
        hb += b" " * ((-len(hb)) % 8)
        with open(os.path.join(folder, "model.safetensors"), "wb") as f:
            f.write(struct.pack("<Q", len(hb)))
            f.write(hb)
            for blob in blobs:
                f.write(blob)

    if a.tied:
        ref["lm_head.weight"] = ref["model.embed_tokens.weight"]
    factors = llama3_factors(hd, a.rope_base, rope["factor"], rope["low_freq_factor"], rope["high_freq_factor"],
                             rope["original_max_position_embeddings"]).tolist() if rope else []
    index, off = [], 0
    with open(os.path.join(a.out_dir, a.name + ".ref.bin"), "wb") as f:
        for name, w in ref.items():
            w = np.ascontiguousarray(w, dtype="<f4")
            index.append({"name": name, "shape": list(w.shape), "offset": off})
            f.write(w.tobytes())
            off += w.size
    meta = {"n_embd": d, "n_head": nh, "n_head_kv": nkv, "n_ff": ff, "n_layer": nl, "n_vocab": nv, "eps": eps,
            "rope_base": a.rope_base, "rope_factors": factors, "bias": bias, "tensors": index}
    json.dump(meta, open(os.path.join(a.out_dir, a.name + ".ref.json"), "w"))


if __name__ == "__main__":
    main()
