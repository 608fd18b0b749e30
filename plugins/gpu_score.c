/* gpu_score.c -- how good a device is for the next grant: the score
 * 0.6 x free-memory share + 0.4 x (1 - utilisation) (DESIGN.md), and the
 * order candidates are tried in.
 *
 * Memory weighs more because running out of it fails a job, while a busy
 * device only slows it.  Where NVML cannot give the utilisation (a MIG
 * unit always; some boards) memory alone is the score, rather than a
 * guessed utilisation that would rank those devices arbitrarily.  Equal
 * scores are broken by PCI bus id, so that the same state always gives
 * the same choice (a test, and an operator reading `assay gpus`, can
 * predict it). */
#include <stdlib.h>
#include <string.h>

#include "gpu.h"

double gpu_score(const gpu_device *d, uint64_t free_bytes)
{
	double mem, util;

	if (d->memory_total == 0)
		return 0.0;
	if (free_bytes > d->memory_total)
		free_bytes = d->memory_total;
	mem = (double)free_bytes / (double)d->memory_total;
	if (d->utilization < 0)
		return mem;
	util = d->utilization > 100 ? 1.0 : d->utilization / 100.0;
	return 0.6 * mem + 0.4 * (1.0 - util);
}

/* <0 when a goes before b. */
static int rank_cmp(const gpu_rank *a, const gpu_rank *b, gpu_foreign foreign)
{
	int c;

	if (foreign == GPU_FOREIGN_COUNT && a->foreign != b->foreign)
		return a->foreign < b->foreign ? -1 : 1;
	if (a->score != b->score)
		return a->score > b->score ? -1 : 1;
	c = strcmp(a->pci, b->pci);
	if (c)
		return c;
	return a->mig_index < b->mig_index ? -1 : a->mig_index > b->mig_index;
}

void gpu_rank_sort(gpu_rank *r, size_t n, gpu_foreign foreign)
{
	/* An insertion sort: a machine has a few devices (a few dozen MIG
	 * units at most), and qsort's comparator could not see `foreign`
	 * without a global that several threads would share. */
	for (size_t i = 1; i < n; i++) {
		gpu_rank x = r[i];
		size_t j = i;

		while (j > 0 && rank_cmp(&r[j - 1], &x, foreign) > 0) {
			r[j] = r[j - 1];
			j--;
		}
		r[j] = x;
	}
}
