#!/usr/bin/env python3
"""`stencil generate` under every schema in examples/schemas: valid JSON for 20 seeds.

For each schema file (an OpenAI tool definition counts by its `parameters`), runs
`stencil generate --output json` with the shared stories260K model at temperature 1.0 for
seeds 0..19 and validates every output with python3-jsonschema, an independent validator
(format checking on; formats the installed jsonschema cannot check are checked here
by hand where the check is small: date-time and time by RFC 3339's grammar). The model
is a tiny story model that likes whitespace and long strings: the outputs must still
be complete and valid within --max-tokens, and `valid` in the record must be true.

usage: generate_schemas_test.py STENCIL_BINARY SCHEMA_DIR MODEL [--seeds N] [--max-tokens M]
Exit 0 when every output validates, 1 otherwise; 77 (CTest's skip code) when the model
or python3-jsonschema is absent.
"""
import argparse
import datetime
import json
import os
import re
import subprocess
import sys

SKIP = 77

try:
    import jsonschema
except ImportError:
    print("SKIP: python3-jsonschema is not installed")
    sys.exit(SKIP)

# RFC 3339 section 5.6; python3-jsonschema needs rfc3339-validator (not in Debian 12) for these.
_TIME = r"(\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-](\d{2}):(\d{2}))"
_DATE_TIME = re.compile(r"(\d{4})-(\d{2})-(\d{2})[Tt]" + _TIME + r"\Z")
_FULL_TIME = re.compile(_TIME + r"\Z")


def _valid_time(hh, mm, ss, oh, om):
    # Leap seconds (60) are only valid at 23:59 UTC; stencil never writes them.
    return int(hh) <= 23 and int(mm) <= 59 and int(ss) <= 59 and (oh is None or (int(oh) <= 23 and int(om) <= 59))


def format_checker():
    checker = jsonschema.FormatChecker()
    if "date-time" not in checker.checkers:
        @checker.checks("date-time")
        def _date_time(value):
            if not isinstance(value, str):
                return True
            m = _DATE_TIME.match(value)
            if not m:
                return False
            try:
                datetime.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            except ValueError:
                return False
            return _valid_time(m.group(4), m.group(5), m.group(6), m.group(9), m.group(10))
    if "time" not in checker.checkers:
        @checker.checks("time")
        def _time(value):
            if not isinstance(value, str):
                return True
            m = _FULL_TIME.match(value)
            return bool(m) and _valid_time(m.group(1), m.group(2), m.group(3), m.group(6), m.group(7))
    return checker


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("stencil")
    ap.add_argument("schema_dir")
    ap.add_argument("model")
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--max-tokens", type=int, default=256)
    args = ap.parse_args()
    if not os.path.exists(args.model):
        print(f"SKIP: model {args.model} is absent")
        return SKIP

    checker = format_checker()
    print("formats checked:", ", ".join(sorted(checker.checkers)))
    files = sorted(f for f in os.listdir(args.schema_dir) if f.endswith(".json"))
    if not files:
        print(f"no schemas in {args.schema_dir}")
        return 1
    failures = 0
    for name in files:
        path = os.path.join(args.schema_dir, name)
        with open(path, encoding="utf-8") as f:
            schema = json.load(f)
        if schema.get("type") == "function" and isinstance(schema.get("function"), dict):
            schema = schema["function"]["parameters"]
        validator = jsonschema.validators.validator_for(schema)(schema, format_checker=checker)
        valid = 0
        tokens = []
        for seed in range(args.seeds):
            cmd = [args.stencil, "generate", "--model", args.model, "--schema", path,
                   "--prompt", "Call the tool with realistic arguments.", "--temperature", "1.0",
                   "--seed", str(seed), "--max-tokens", str(args.max_tokens), "--threads", "1", "--output", "json"]
            run = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
            problem = None
            if run.returncode != 0:
                problem = f"exit {run.returncode}: {run.stderr.strip()[-400:]}"
            else:
                record = json.loads(run.stdout)
                try:
                    doc = json.loads(record["text"])
                except json.JSONDecodeError as e:
                    doc, problem = None, f"not JSON ({e})"
                if problem is None:
                    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(doc)]
                    if errors:
                        problem = "; ".join(errors)
                    elif not record["valid"]:
                        problem = "record says valid=false"
                    elif record["tokens"]["generated"] > args.max_tokens:
                        problem = f"{record['tokens']['generated']} tokens > --max-tokens {args.max_tokens}"
                tokens.append(record["tokens"]["generated"])
            if problem is None:
                valid += 1
            else:
                failures += 1
                print(f"FAIL {name} seed {seed}: {problem}\n  output: {run.stdout.strip()[:600]}")
        mean = sum(tokens) / len(tokens) if tokens else 0
        print(f"{name}: {valid}/{args.seeds} valid (mean {mean:.0f} generated tokens)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
