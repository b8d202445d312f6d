#!/usr/bin/env python3
"""JSONSchemaBench sample-and-validate: random outputs of real schemas, checked independently.

Runs schema_jsonschemabench_sample (tests/schema/jsonschemabench_sample.cc) over every
`--every`-th schema of the JSONSchemaBench dev split: each schema is compiled with default
options against the Llama-3 vocabulary and `--count` random outputs are drawn exactly as
`stencil sample --count N --seed LINE` draws them (checked below against the real command on
a few schemas). Every output is parsed (NaN/Infinity rejected, duplicate keys counted) and
validated with python3-jsonschema: the validator class named by the schema's `$schema`
(Draft 2020-12 when absent), format checking on. A format python3-jsonschema cannot check
without packages Debian 12 lacks is checked here from its RFC's grammar (see FORMATS_HERE).
OpenAPI 3.0 `nullable: true` is spelled for the validator as stencil reads it (see openapi_nullable).
Any invalid output is a soundness bug: the script prints the first few and exits 1.

Prints per subset: schemas, compiled, unsupported, error, skipped (budget: the schema needs
more than --max-tokens tokens; slow: compile over --slow-ms), sampled outputs, valid, invalid, and
unchecked (python3-jsonschema itself raised on the schema, e.g. draft 4 `id` holding an object in
4.10: such outputs are listed and counted neither valid nor invalid).

usage: jsonschemabench_validate.py --sampler BIN --stencil BIN --data jsb_dev.jsonl --tokenizer T
       [--every K] [--offset O] [--count N] [--max-tokens M (1024)] [--slow-ms MS] [--require-env VAR]
Exit 0 all valid, 1 a failure, 77 (CTest's skip code) when data, tokenizer, python3-jsonschema
or the --require-env variable is absent.
"""
import argparse
import collections
import datetime
import json
import os
import re
import subprocess
import sys
import tempfile
import time

SKIP = 77

try:
    import jsonschema
except ImportError:
    print("SKIP: python3-jsonschema is not installed (scripts/setup installs it)")
    sys.exit(SKIP)

# ---- formats checked here (RFC grammars), where python3-jsonschema needs a missing package ----

# RFC 3339 section 5.6. T/Z case-insensitive as the RFC says; a leap second only where the
# UTC time is 23:59 (the JSON-Schema-Test-Suite's reading).
_PARTIAL_TIME = r"(\d{2}):(\d{2}):(\d{2})(\.\d+)?"
_OFFSET = r"([Zz]|([+-])(\d{2}):(\d{2}))"
_FULL_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})\Z")
_DATE_TIME = re.compile(r"(\d{4})-(\d{2})-(\d{2})[Tt]" + _PARTIAL_TIME + _OFFSET + r"\Z")
_FULL_TIME = re.compile(_PARTIAL_TIME + _OFFSET + r"\Z")


def _date_ok(y, m, d):
    try:
        datetime.date(int(y), int(m), int(d))
        return True
    except ValueError:
        return False


def _time_ok(hh, mm, ss, sign, oh, om):
    hh, mm, ss = int(hh), int(mm), int(ss)
    if hh > 23 or mm > 59 or ss > 60:
        return False
    if oh is not None and (int(oh) > 23 or int(om) > 59):
        return False
    if ss == 60:  # leap second: 23:59:60 in UTC
        off = 0 if oh is None else (1 if sign == "+" else -1) * (int(oh) * 60 + int(om))
        utc = (hh * 60 + mm - off) % (24 * 60)
        return utc == 23 * 60 + 59
    return True


def check_date(v):
    m = _FULL_DATE.match(v)
    return bool(m) and _date_ok(*m.groups())


def check_date_time(v):
    m = _DATE_TIME.match(v)
    if not m:
        return False
    g = m.groups()
    return _date_ok(g[0], g[1], g[2]) and _time_ok(g[3], g[4], g[5], g[8], g[9], g[10])


def check_time(v):
    m = _FULL_TIME.match(v)
    if not m:
        return False
    g = m.groups()
    return _time_ok(g[0], g[1], g[2], g[5], g[6], g[7])


# RFC 3339 appendix A (ISO 8601 durations).
_DUR_TIME = r"T(\d+H(\d+M(\d+S)?)?|\d+M(\d+S)?|\d+S)"
_DUR_DATE = r"(\d+D|\d+M(\d+D)?|\d+Y(\d+M(\d+D)?)?)"
_DURATION = re.compile(r"P(" + _DUR_DATE + "(" + _DUR_TIME + r")?|" + _DUR_TIME + r"|\d+W)\Z")


def check_duration(v):
    return bool(_DURATION.match(v))


# RFC 1123 section 2.1 host names (as JSON Schema's "hostname"): dot-separated labels of 1-63
# letters, digits and hyphens, not starting or ending with a hyphen, at most 253 characters;
# labels with "--" in the 3rd and 4th positions are reserved for A-labels (RFC 5891 4.2.3.1)
# and rejected (an A-label would need a punycode check).
_LABEL = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\Z")


def check_hostname(v):
    if not v or len(v) > 253:
        return False
    for label in v.split("."):
        if not _LABEL.match(label) or label[2:4] == "--":
            return False
    return True


# RFC 5322 section 3.4.1 addr-spec without comments/folding or obsolete forms: local part a
# dot-atom or a quoted string, domain a dot-atom or a domain literal. (python3-jsonschema only
# checks that there is an "@".)
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
_DOT_ATOM = _ATEXT + r"+(\." + _ATEXT + r"+)*"
_QUOTED = r'"([\x20\x21\x23-\x5b\x5d-\x7e]|\\[\x20-\x7e])*"'
_DOMAIN_LITERAL = r"\[[\x21-\x5a\x5e-\x7e]*\]"
_EMAIL = re.compile("(" + _DOT_ATOM + "|" + _QUOTED + ")@(" + _DOT_ATOM + "|" + _DOMAIN_LITERAL + r")\Z")


def check_email(v):
    return bool(_EMAIL.match(v))


# RFC 6901 and draft-handrews-relative-json-pointer-01 section 3.
_JSON_POINTER = re.compile(r"(/([^~/]|~[01])*)*\Z", re.S)
_RELATIVE = re.compile(r"(0|[1-9][0-9]*)(#|(/([^~/]|~[01])*)*)\Z", re.S)


def check_json_pointer(v):
    return bool(_JSON_POINTER.match(v))


def check_relative_json_pointer(v):
    return bool(_RELATIVE.match(v))


# Formats checked by this script: name -> (check, why python3-jsonschema does not do it).
FORMATS_HERE = {
    "date-time": (check_date_time, "needs rfc3339-validator (not in Debian 12)"),
    "time": (check_time, "needs rfc3339-validator (not in Debian 12)"),
    "duration": (check_duration, "needs isoduration (not in Debian 12)"),
    "hostname": (check_hostname, "needs fqdn (not in Debian 12)"),
    "json-pointer": (check_json_pointer, "needs jsonpointer (not in Debian 12)"),
    "relative-json-pointer": (check_relative_json_pointer, "needs jsonpointer (not in Debian 12)"),
    "date": (check_date, "python3-jsonschema's date.fromisoformat also takes 20200101 and 2020-W01-1"),
    "email": (check_email, "python3-jsonschema only checks for an '@'"),
}


def format_checker():
    """python3-jsonschema's 2020-12 checkers (all drafts' formats), plus and over them FORMATS_HERE
    (both must pass where both exist)."""
    base = jsonschema.Draft202012Validator.FORMAT_CHECKER
    checker = jsonschema.FormatChecker(formats=())
    checker.checkers = dict(base.checkers)
    for name, (fn, _) in FORMATS_HERE.items():
        theirs = base.checkers.get(name)

        def both(value, fn=fn, theirs=theirs):
            if not isinstance(value, str):
                return True
            if theirs is not None:
                func, raises = theirs
                try:
                    if not func(value):
                        return False
                except raises:
                    return False
            return fn(value)

        checker.checkers[name] = (both, ())
    return checker, sorted(base.checkers), sorted(FORMATS_HERE)


# OpenAPI 3.0's `nullable: true` (not JSON Schema; stencil reads it as "null, or the rest of the
# schema", docs/json-schema.md) spelled for the validator: "null" added to `type` and to `enum`.
# Only schema positions are visited (not enum/const/default/examples data).
_SCHEMA_ONE = ("not", "if", "then", "else", "items", "additionalItems", "prefixItems", "contains",
               "additionalProperties", "propertyNames", "unevaluatedItems", "unevaluatedProperties",
               "allOf", "anyOf", "oneOf")
_SCHEMA_MAP = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas", "dependencies")


def openapi_nullable(schema, depth=0):
    if depth > 200:
        return schema
    if isinstance(schema, list):
        return [openapi_nullable(x, depth + 1) for x in schema]
    if not isinstance(schema, dict):
        return schema
    out = {}
    for k, v in schema.items():
        if k in _SCHEMA_ONE:
            out[k] = openapi_nullable(v, depth + 1)
        elif k in _SCHEMA_MAP and isinstance(v, dict):
            out[k] = {name: openapi_nullable(sub, depth + 1) for name, sub in v.items()}
        else:
            out[k] = v
    if out.get("nullable") is True:
        t = out.get("type")
        if isinstance(t, str) and t != "null":
            out["type"] = [t, "null"]
        elif isinstance(t, list) and "null" not in t:
            out["type"] = t + ["null"]
        if isinstance(out.get("enum"), list) and None not in out["enum"]:
            out["enum"] = out["enum"] + [None]
    return out


def _reject_constant(name):
    raise ValueError(f"{name} is not JSON")


def parse_output(text):
    """json.loads, rejecting NaN/Infinity; returns (value, duplicate key count)."""
    dups = [0]

    def pairs(items):
        keys = [k for k, _ in items]
        dups[0] += len(keys) - len(set(keys))
        return dict(items)

    return json.loads(text, parse_constant=_reject_constant, object_pairs_hook=pairs), dups[0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sampler", required=True)
    ap.add_argument("--stencil", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--tokenizer", required=True)
    ap.add_argument("--every", type=int, default=6)
    ap.add_argument("--offset", type=int, default=0)
    ap.add_argument("--count", type=int, default=3)
    # A budget random outputs seldom reach (EOS is drawn 1 time in 5 where allowed): budget-aware masks
    # in the last tokens of a budget cost up to tens of ms each (docs/performance.md), which at 256
    # made the CI sample take ~10x longer.
    ap.add_argument("--max-tokens", type=int, default=1024)
    ap.add_argument("--slow-ms", type=float, default=0)
    ap.add_argument("--require-env")
    ap.add_argument("--show", type=int, default=10, help="failures shown in full")
    args = ap.parse_args()
    if args.require_env and not os.environ.get(args.require_env):
        print(f"SKIP: opt-in test; set {args.require_env}=1 to run it")
        return SKIP
    for what, path in (("dataset", args.data), ("tokenizer", args.tokenizer)):
        if not os.path.exists(path):
            print(f"SKIP: {what} {path} is absent (run scripts/prepare-data BUILD_DIR)")
            return SKIP

    checker, theirs, here = format_checker()
    print("formats checked by python3-jsonschema:", ", ".join(theirs))
    print("formats checked by this script (RFC grammars):", ", ".join(f"{k} ({FORMATS_HERE[k][1]})" for k in here))
    with open(args.data, encoding="utf-8") as f:
        records = [json.loads(line) for line in f]
    expected = [i for i in range(len(records)) if i % args.every == args.offset]
    print(f"{len(records)} schemas in {args.data}; sampling every {args.every}th: {len(expected)} schemas, "
          f"{args.count} outputs each, --max-tokens {args.max_tokens}"
          + (f", compile limit {args.slow_ms} ms" if args.slow_ms else ""))

    t0 = time.monotonic()
    cmd = [args.sampler, "--tokenizer", args.tokenizer, "--data", args.data, "--every", str(args.every),
           "--offset", str(args.offset), "--count", str(args.count), "--max-tokens", str(args.max_tokens),
           "--slow-ms", str(args.slow_ms)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, encoding="utf-8")

    keys = ("schemas", "compiled", "unsupported", "error", "skipped_budget", "skipped_slow", "sampled", "valid",
            "invalid", "unchecked")
    subsets = collections.OrderedDict()
    failures = []
    unchecked = []  # outputs python3-jsonschema could not check (it raised): listed, not counted as valid
    validators = collections.Counter()
    duplicates = 0
    seen = []
    compile_ms, sample_ms, validate_s = [], 0.0, 0.0
    drift_candidates = []
    for line in proc.stdout:
        rec = json.loads(line)
        seen.append(rec["line"])
        c = subsets.setdefault(rec["subset"], dict.fromkeys(keys, 0))
        c["schemas"] += 1
        status = rec["status"]
        if status in ("unsupported", "error"):
            c[status] += 1
            continue
        if status == "slow":
            c["skipped_slow"] += 1
            continue
        if status == "budget":
            c["skipped_budget"] += 1
            continue
        c["compiled"] += 1
        compile_ms.append(rec["compile_ms"])
        sample_ms += rec.get("sample_ms", 0)
        schema = openapi_nullable(records[rec["line"]]["schema"])
        if status != "compiled":  # stuck / bad_utf8: the sampler itself found a bug
            c["invalid"] += 1
            failures.append((rec, None, f"sampler: {status}: {rec.get('message')}"))
            continue
        if len(drift_candidates) < 3 and rec["outputs"]:
            drift_candidates.append(rec)
        tv = time.monotonic()
        cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
        validators[cls.__name__] += 1
        validator = cls(schema, format_checker=checker)
        for out in rec["outputs"]:
            c["sampled"] += 1
            try:
                doc, dups = parse_output(out)
            except ValueError as e:
                c["invalid"] += 1
                failures.append((rec, out, f"not JSON: {e}"))
                continue
            duplicates += dups
            try:
                errors = list(validator.iter_errors(doc))
            except Exception as e:  # the validator itself fails on this schema: the output stays unchecked
                c["unchecked"] += 1
                unchecked.append(f"line {rec['line']} {rec['id']}: python3-jsonschema raised {type(e).__name__}: "
                                 f"{str(e)[:200]}")
                continue
            if errors:
                c["invalid"] += 1
                msg = "; ".join(f"/{'/'.join(map(str, e.absolute_path))}: {e.message[:300]}" for e in errors[:3])
                failures.append((rec, out, msg))
            else:
                c["valid"] += 1
        validate_s += time.monotonic() - tv
    rc = proc.wait()
    total_s = time.monotonic() - t0

    # The sampler must be `stencil sample`: same outputs for the same schema, seed and budget.
    drift = []
    for rec in drift_candidates:
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, encoding="utf-8") as tf:
            json.dump(records[rec["line"]]["schema"], tf, ensure_ascii=False)
        try:
            run = subprocess.run([args.stencil, "sample", "--schema", tf.name, "--tokenizer", args.tokenizer,
                                  "--count", str(args.count), "--seed", str(rec["line"]),
                                  "--max-tokens", str(args.max_tokens)], capture_output=True, text=True, timeout=300)
        finally:
            os.unlink(tf.name)
        got = [json.loads(x) for x in run.stdout.splitlines()] if run.returncode == 0 else run.stderr.strip()
        if got != rec["outputs"]:
            drift.append(f"line {rec['line']} ({rec['id']}): stencil sample gave {str(got)[:300]!r}, "
                         f"the sampler {str(rec['outputs'])[:300]!r}")

    total = dict.fromkeys(keys, 0)
    print(f"{'subset':<18}" + "".join(f"{k:>15}" for k in keys))
    for name, c in subsets.items():
        print(f"{name:<18}" + "".join(f"{c[k]:>15}" for k in keys))
        for k in keys:
            total[k] += c[k]
    print(f"{'TOTAL':<18}" + "".join(f"{total[k]:>15}" for k in keys))
    compile_ms.sort()
    p = (lambda q: compile_ms[min(len(compile_ms) - 1, int(q * (len(compile_ms) - 1) + 0.5))]) if compile_ms else (
        lambda q: 0)
    print(f"validators: {dict(validators)}; outputs with duplicate keys: {duplicates} keys (last one wins)")
    print(f"time: {total_s:.1f} s in all; compile (Llama-3 vocabulary) p50 {p(0.5):.2f} ms p99 {p(0.99):.1f} ms "
          f"max {p(1.0):.0f} ms, sum {sum(compile_ms) / 1000:.1f} s; sampling {sample_ms / 1000:.1f} s; "
          f"validation {validate_s:.1f} s")

    for u in unchecked:
        print(f"UNCHECKED (validator error, not a stencil output problem): {u}")
    ok = True
    if rc != 0:
        print(f"FAIL: the sampler exited {rc}")
        ok = False
    if seen != expected:
        print(f"FAIL: the sampler reported {len(seen)} schemas, expected {len(expected)}")
        ok = False
    if total["compiled"] == 0 or total["sampled"] == 0:
        print("FAIL: nothing was sampled")
        ok = False
    for d in drift:
        print(f"FAIL: sampler differs from stencil sample: {d}")
        ok = False
    if failures:
        ok = False
        print(f"FAIL: {len(failures)} invalid outputs (soundness bugs); the first {min(args.show, len(failures))}:")
        for rec, out, msg in failures[:args.show]:
            print(f"  line {rec['line']} {rec['id']} ({rec['subset']}): {msg}")
            if out is not None:
                print(f"    output: {out[:500]!r}")
        ids = sorted({rec["id"] for rec, _, _ in failures})
        print(f"  schemas with invalid outputs ({len(ids)}): {', '.join(ids[:60])}")
    print("PASS" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
