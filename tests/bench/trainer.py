#!/usr/bin/env python3
"""trainer.py -- a stand-in for a training script, for tests/bench/trials.

usage: trainer.py --lr LR --width W [--steps N] [--sleep SECONDS] [--metrics-file PATH]

Its "accuracy" follows a known curve per parameter and step, so that a
benchmark can run the same sweep under assay and under Optuna and know
what the right answer is:

    final(lr, width) = 0.95 - 0.08 * (log10(lr) + 3)^2 - 0.01 * |log2(width / 64)|
    accuracy(step)   = final * (1 - exp(-(step + 1) / 4))

The curves of two points never cross (each is its final value times the
same rising factor), so a pruner that compares trials at a step ranks
them as their final values would.  Each step sleeps --sleep seconds (the
"work"), then reports the step and its value, flushed at once:

    step: 3
    accuracy: 0.6717...

on stdout (the key: value lines assay reads and the Optuna driver of
tests/bench/trials reads the same way), or with --metrics-file as a JSON
line {"step": 3, "accuracy": ...} appended to that file (assay's
$ASSAY_METRICS channel).  The last line, `final accuracy 0.93...`, is not a
metric line: the last intermediate value is the final one.  SIGTERM
stops it at once (Python's default), as a pruner wants.
"""
import argparse
import json
import math
import sys
import time


def final(lr, width):
    return 0.95 - 0.08 * (math.log10(lr) + 3) ** 2 - 0.01 * abs(math.log2(width / 64))


def accuracy(lr, width, step):
    return final(lr, width) * (1 - math.exp(-(step + 1) / 4))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lr", type=float, required=True)
    ap.add_argument("--width", type=int, required=True)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--sleep", type=float, default=0.05)
    ap.add_argument("--metrics-file")
    args = ap.parse_args()
    out = open(args.metrics_file, "a") if args.metrics_file else None
    value = 0.0
    for step in range(args.steps):
        time.sleep(args.sleep)
        value = accuracy(args.lr, args.width, step)
        if out:
            out.write(json.dumps({"step": step, "accuracy": value}) + "\n")
            out.flush()
        else:
            sys.stdout.write(f"step: {step}\naccuracy: {value!r}\n")
            sys.stdout.flush()
    print(f"final accuracy {value!r}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
