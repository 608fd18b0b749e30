/* bench-work.h -- the node work of the scheduling benchmark, one
 * definition for every side (bench-nodes.c, sched-tbb.cpp, the serial
 * loop of sched-assay.c), so that each runs exactly the same code. */
#ifndef ASSAY_BENCH_WORK_H
#define ASSAY_BENCH_WORK_H

#include <stdint.h>
#include <time.h>

static inline int64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Busy-wait ns nanoseconds on CLOCK_MONOTONIC: a node that computes for
 * that long, whatever the CPU's speed. */
static inline void bench_spin(int64_t ns)
{
	int64_t end = bench_now_ns() + ns;

	while (bench_now_ns() < end)
		;
}

#endif /* ASSAY_BENCH_WORK_H */
