/* sample.h -- the random search's sampler: a PRNG of our own
 * (xoshiro256** seeded by splitmix64) and the draws of a `space`, written
 * with IEEE 754 double arithmetic only (no libm log or exp, whose last
 * bit differs between C libraries), so that one seed gives the same
 * points, and so the same trial ids, on every platform and version. */
#ifndef ASSAY_SAMPLE_H
#define ASSAY_SAMPLE_H

#include <stddef.h>
#include <stdint.h>

typedef struct sample_rng {
	uint64_t s[4];
} sample_rng;

/* splitmix64's finaliser of x: mixes a seed, or combines keys into one. */
uint64_t sample_mix(uint64_t x);

/* A 64-bit hash (FNV-1a) of a name, for sample_mix(). */
uint64_t sample_hash(const char *name);

/* The generator's state from seed (four splitmix64 outputs: never all 0). */
void sample_seed(sample_rng *r, uint64_t seed);

/* The next 64 random bits (xoshiro256**). */
uint64_t sample_next(sample_rng *r);

/* A double in [0, 1): 53 random bits. */
double sample_unit(sample_rng *r);

/* In [lo, hi), lo < hi, both finite: uniform. */
double sample_uniform(sample_rng *r, double lo, double hi);

/* In [lo, hi), 0 < lo < hi: its logarithm uniform. */
double sample_loguniform(sample_rng *r, double lo, double hi);

/* In [lo, hi], lo <= hi, each integer equally likely (no modulo bias). */
int64_t sample_int(sample_rng *r, int64_t lo, int64_t hi);

/* In [lo, hi], 1 <= lo <= hi: the floor of a loguniform draw from
 * [lo, hi + 1), so k comes with probability log((k+1)/k) / log((hi+1)/lo)
 * and every integer of the range can come. */
int64_t sample_int_log(sample_rng *r, int64_t lo, int64_t hi);

/* The natural logarithm (x > 0, finite) and exponential, in basic
 * arithmetic: within a few ulps, and the same bits everywhere. */
double sample_log(double x);
double sample_exp(double x);

#endif /* ASSAY_SAMPLE_H */
