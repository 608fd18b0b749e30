#!/usr/bin/env python3
"""dag-gen.py -- the benchmark DAGs of tests/bench/sched and tests/bench/procs.

usage: tests/bench/dag-gen.py SHAPE N [-o FILE] [--seed S]
       tests/bench/dag-gen.py --shapes

Writes one DAG in the file format every harness reads (sched-assay.c,
sched-tbb.cpp, and the Makefile/build.ninja/assay.toml writers of procs):

    line 1        N, the number of nodes
    line 2+i      the predecessors of node i: indices, separated by spaces
                  (an empty line for a node that waits for nothing)

Every predecessor index is smaller than its node's, so index order is a
topological order.  The shapes (N must be a perfect square for layered and
grid):

    chain        i after i-1                          (no parallelism)
    independent  no edges                             (all parallel)
    fan          0 -> 1..N-2 -> N-1                   (1 -> N -> 1)
    tree         binary out-tree: i after (i-1)/2     (spreads from the root)
    layered      layers of width sqrt(N); each node after 1..3 distinct random
                 nodes of the layer before (fixed seed)
    grid         sqrt(N) x sqrt(N); (r,c) after (r,c-1) and (r-1,c)
                 (a wavefront)

Imported by the bench scripts as a module: dag(shape, n, seed) returns the
predecessor lists.
"""
import argparse
import math
import random
import sys

SHAPES = ("chain", "independent", "fan", "tree", "layered", "grid")


def _side(n, shape):
    s = math.isqrt(n)
    if s * s != n:
        raise ValueError(f"{shape} needs a square N, not {n}")
    return s


def dag(shape, n, seed=1):
    """The predecessor list of every node of SHAPE with n nodes."""
    if n < 1:
        raise ValueError("N must be at least 1")
    if shape == "chain":
        return [[]] + [[i - 1] for i in range(1, n)]
    if shape == "independent":
        return [[] for _ in range(n)]
    if shape == "fan":
        if n < 3:
            raise ValueError("fan needs N >= 3")
        return [[]] + [[0] for _ in range(1, n - 1)] + [list(range(1, n - 1))]
    if shape == "tree":
        return [[]] + [[(i - 1) // 2] for i in range(1, n)]
    if shape == "layered":
        w = _side(n, shape)
        rng = random.Random(seed)
        preds = [[] for _ in range(w)]
        for layer in range(1, n // w):
            prev = range((layer - 1) * w, layer * w)
            for _ in range(w):
                preds.append(sorted(rng.sample(prev, rng.randint(1, 3))))
        return preds
    if shape == "grid":
        s = _side(n, shape)
        preds = []
        for r in range(s):
            for c in range(s):
                p = []
                if c > 0:
                    p.append(r * s + c - 1)
                if r > 0:
                    p.append((r - 1) * s + c)
                preds.append(p)
        return preds
    raise ValueError(f"unknown shape {shape!r} (one of {', '.join(SHAPES)})")


def write(preds, out):
    out.write(f"{len(preds)}\n")
    out.writelines(" ".join(map(str, p)) + "\n" for p in preds)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("shape", nargs="?", choices=SHAPES)
    ap.add_argument("n", nargs="?", type=int)
    ap.add_argument("-o", "--output", help="file to write (default: standard output)")
    ap.add_argument("--seed", type=int, default=1, help="for layered (default 1)")
    ap.add_argument("--shapes", action="store_true", help="list the shapes")
    args = ap.parse_args()
    if args.shapes:
        print("\n".join(SHAPES))
        return 0
    if args.shape is None or args.n is None:
        ap.error("SHAPE and N are required")
    try:
        preds = dag(args.shape, args.n, args.seed)
    except ValueError as e:
        ap.error(str(e))
    if args.output:
        with open(args.output, "w") as f:
            write(preds, f)
    else:
        write(preds, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
