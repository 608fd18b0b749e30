#!/usr/bin/env python3
"""trainer.py -- the trainer of tests/trials.sh: a known curve, reported step by step.

usage: trainer.py X [--steps N] [--sleep S] [--channel lines|kv|file|all] [--fail]

Its "accuracy" at step s (0, 1, ... N-1) is X * (s + 1) / 100: straight
lines that never cross, so the test can compute what a pruner decides
from X alone.  The values of X the test uses have no three in
arithmetic progression, so no value ever equals the median of two others
and no decision depends on rounding.  Each step sleeps S seconds (default
0.2: long enough for a pruned trial to be stopped before its next step),
after a first line `training x=X` (the message), then reports the step and its value, flushed at once:
  lines  `step: 3` and `accuracy: 0.04` on stdout (key: value);
  kv     `step=3` and `accuracy=0.04` on stdout (key=value);
  file   {"step": 3, "accuracy": 0.04} appended to $ASSAY_METRICS;
  all    the metrics test: perfdata on the first line (`loss=0.25`), a
         key=value line (`f1=0.5`), a key: value line (`recall: 0.75`),
         the steps in $ASSAY_METRICS, and one bad JSON line there.
--fail exits 2 after its steps (a CRITICAL trial).
"""
import argparse
import json
import os
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("x", type=float)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--sleep", type=float, default=0.2)
    ap.add_argument("--channel", choices=("lines", "kv", "file", "all"), default="lines")
    ap.add_argument("--fail", action="store_true")
    args = ap.parse_args()
    out = sys.stdout
    if args.channel == "all":
        print("trained | loss=0.25")  # the first line: the message and perfdata
        print("f1=0.5")
        print("recall: 0.75", flush=True)
    else:
        print(f"training x={args.x:g}", flush=True)  # the message: not a metric line
    metrics = None
    if args.channel in ("file", "all"):
        metrics = open(os.environ["ASSAY_METRICS"], "a")
    for step in range(args.steps):
        time.sleep(args.sleep)
        value = args.x * (step + 1) / 100
        if metrics:
            metrics.write(json.dumps({"step": step, "accuracy": value}) + "\n")
            if args.channel == "all" and step == 0:
                metrics.write("this is not json\n")
            metrics.flush()
        elif args.channel == "kv":
            out.write(f"step={step}\naccuracy={value!r}\n")
        else:
            out.write(f"step: {step}\naccuracy: {value!r}\n")
        out.flush()
    return 2 if args.fail else 0


if __name__ == "__main__":
    sys.exit(main())
