// sched-tbb.cpp -- the peer of sched-assay.c for tests/bench/sched: the same
// DAG file (tests/bench/dag-gen.py's format) run as a oneTBB flow graph.
//
// usage: sched-tbb [--work noop|spin] [--reps R | --serve] [--threads T] DAGFILE
//
// Build: g++ -std=c++17 -O2 sched-tbb.cpp -ltbb (libtbb-dev).
//
// One tbb::flow::continue_node<continue_msg> per node with TBB's default
// policy, make_edge from each predecessor, try_put to every node without
// predecessors, wait_for_all; tbb::global_control caps the parallelism at
// T threads (the main thread included; default 2).  The node work is
// bench-work.h's, as on assay's side.  After one warm-up repetition that
// also checks the run (every node ran once, none before its
// predecessors), each timed repetition prints one line
//
//     run_seconds 0 0 run_seconds 0
//
// where run_seconds covers building the graph (nodes and edges), the
// try_puts and wait_for_all; destroying the graph is not timed.  (The
// form is sched-assay's: total, plan, build, run, run_new; all of TBB's
// time is its run.)  --reps R
// runs R at once; --serve prints "ready" after the warm-up, then runs one
// per "run" line on standard input until end of file, as sched-assay does.
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <tbb/flow_graph.h>
#include <tbb/global_control.h>

extern "C" {
#include "bench-work.h"
}

namespace flow = tbb::flow;
using node_t = flow::continue_node<flow::continue_msg>;

[[noreturn]] static void die(const char *what)
{
	std::fprintf(stderr, "sched-tbb: %s\n", what);
	std::exit(1);
}

struct dag {
	std::vector<uint32_t> pred_at, pred; // compressed rows, like assay's graph
};

static dag read_dag(const char *path)
{
	std::ifstream in(path);
	std::string line;
	dag d;
	size_t n = 0;

	if (!in || !std::getline(in, line) || std::sscanf(line.c_str(), "%zu", &n) != 1 || !n)
		die("cannot read the DAG file's node count");
	d.pred_at.reserve(n + 1);
	d.pred_at.push_back(0);
	for (size_t i = 0; i < n; i++) {
		if (!std::getline(in, line))
			die("the DAG file has fewer lines than nodes");
		std::istringstream fields(line);
		unsigned long p;

		while (fields >> p) {
			if (p >= i)
				die("a predecessor index is not below its node's");
			d.pred.push_back((uint32_t)p);
		}
		d.pred_at.push_back((uint32_t)d.pred.size());
	}
	return d;
}

// Build, start and wait; returns the seconds that took.  The nodes are
// destroyed after the clock stopped.
template <typename Body>
static double run_once(const dag &d, Body body)
{
	size_t n = d.pred_at.size() - 1;
	int64_t t0 = bench_now_ns(), t1;
	{
		flow::graph g;
		std::vector<std::unique_ptr<node_t>> nodes;

		nodes.reserve(n);
		for (size_t i = 0; i < n; i++)
			nodes.emplace_back(new node_t(g, [&body, i](const flow::continue_msg &) {
				body(i);
				return flow::continue_msg();
			}));
		for (size_t i = 0; i < n; i++)
			for (uint32_t k = d.pred_at[i]; k < d.pred_at[i + 1]; k++)
				flow::make_edge(*nodes[d.pred[k]], *nodes[i]);
		for (size_t i = 0; i < n; i++)
			if (d.pred_at[i] == d.pred_at[i + 1])
				nodes[i]->try_put(flow::continue_msg());
		g.wait_for_all();
		t1 = bench_now_ns();
	}
	return (double)(t1 - t0) / 1e9;
}

static unsigned parse_uint(const char *s, const char *what)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = std::strtoul(s, &end, 10);
	if (errno || *end || end == s || v == 0 || v > 1000000)
		die(what);
	return (unsigned)v;
}

int main(int argc, char **argv)
{
	const char *work = "noop", *path = nullptr;
	unsigned reps = 10, threads = 2;
	bool serve = false;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : nullptr;

		if (!std::strcmp(a, "--work") && v)
			work = v, i++;
		else if (!std::strcmp(a, "--reps") && v)
			reps = parse_uint(v, "--reps takes a number"), i++;
		else if (!std::strcmp(a, "--serve"))
			serve = true;
		else if (!std::strcmp(a, "--threads") && v)
			threads = parse_uint(v, "--threads takes a number"), i++;
		else if (a[0] != '-' && !path)
			path = a;
		else
			die("usage: sched-tbb [--work noop|spin] [--reps R | --serve] [--threads T] DAGFILE");
	}
	if (!path)
		die("a DAG file is required");
	bool spin = !std::strcmp(work, "spin");
	if (!spin && std::strcmp(work, "noop"))
		die("--work is noop or spin");

	tbb::global_control limit(tbb::global_control::max_allowed_parallelism, threads);
	dag d = read_dag(path);
	size_t n = d.pred_at.size() - 1;

	// The warm-up: every node runs once, after all of its predecessors.
	{
		std::unique_ptr<std::atomic<int>[]> ran(new std::atomic<int>[n]);
		std::atomic<bool> bad(false);

		for (size_t i = 0; i < n; i++)
			ran[i].store(0, std::memory_order_relaxed);
		run_once(d, [&](size_t i) {
			for (uint32_t k = d.pred_at[i]; k < d.pred_at[i + 1]; k++)
				if (ran[d.pred[k]].load() != 1)
					bad = true;
			if (spin)
				bench_spin(1000);
			ran[i].fetch_add(1);
		});
		for (size_t i = 0; i < n; i++)
			if (ran[i].load() != 1)
				bad = true;
		if (bad)
			die("the warm-up run missed a node, ran one twice, or broke an edge");
	}
	if (serve) {
		std::printf("ready\n");
		std::fflush(stdout);
	}
	char line[64];
	for (unsigned rep = 0; serve ? std::fgets(line, sizeof line, stdin) != nullptr : rep < reps;
	     rep++) {
		if (serve && std::strcmp(line, "run\n"))
			die("--serve reads \"run\" lines");
		double s = spin ? run_once(d, [](size_t) { bench_spin(1000); })
				: run_once(d, [](size_t) {});
		std::printf("%.9f 0 0 %.9f 0\n", s, s);
		std::fflush(stdout);
	}
	return 0;
}
