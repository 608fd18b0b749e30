/* sample.c -- the random search's draws (see sample.h): xoshiro256**
 * (Blackman and Vigna) seeded by splitmix64, and log and exp of our own so
 * that a loguniform draw is the same bits whatever the C library. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <math.h>

#include "sample.h"

uint64_t sample_mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15u;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9u;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebu;
	return x ^ (x >> 31);
}

uint64_t sample_hash(const char *name)
{
	uint64_t h = 1469598103934665603u;

	while (*name)
		h = (h ^ (unsigned char)*name++) * 1099511628211u;
	return h;
}

void sample_seed(sample_rng *r, uint64_t seed)
{
	int i;

	/* splitmix64's stream: the state of x advances by the golden gamma. */
	for (i = 0; i < 4; i++) {
		r->s[i] = sample_mix(seed);
		seed += 0x9e3779b97f4a7c15u;
	}
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t sample_next(sample_rng *r)
{
	uint64_t *s = r->s, out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return out;
}

double sample_unit(sample_rng *r)
{
	return (double)(sample_next(r) >> 11) * 0x1p-53;
}

/* x kept inside [lo, hi): rounding may land a draw on hi, or a hair
 * below lo. */
static double clamp_open(double x, double lo, double hi)
{
	if (x < lo)
		return lo;
	if (x >= hi)
		return nextafter(hi, lo);
	return x;
}

double sample_uniform(sample_rng *r, double lo, double hi)
{
	double u = sample_unit(r);

	/* Not lo + u * (hi - lo): hi - lo overflows for the widest ranges. */
	return clamp_open(lo * (1 - u) + hi * u, lo, hi);
}

double sample_loguniform(sample_rng *r, double lo, double hi)
{
	double a = sample_log(lo), b = sample_log(hi), u = sample_unit(r);

	return clamp_open(sample_exp(a * (1 - u) + b * u), lo, hi);
}

int64_t sample_int(sample_rng *r, int64_t lo, int64_t hi)
{
	uint64_t span = (uint64_t)hi - (uint64_t)lo + 1, x, limit;

	if (span == 0) /* the whole of int64 */
		return (int64_t)sample_next(r);
	/* Reject the top values that would favour the low ones. */
	limit = UINT64_MAX - UINT64_MAX % span;
	do
		x = sample_next(r);
	while (x >= limit);
	return (int64_t)((uint64_t)lo + x % span);
}

int64_t sample_int_log(sample_rng *r, int64_t lo, int64_t hi)
{
	double x = floor(sample_loguniform(r, (double)lo, (double)hi + 1));

	if (x < (double)lo)
		return lo;
	if (x >= (double)hi)
		return hi;
	return (int64_t)x;
}

/* ln 2 in two parts (fdlibm's): k * LN2_HI is exact for |k| < 2^11. */
#define LN2_HI 6.93147180369123816490e-01
#define LN2_LO 1.90821492927058770002e-10
#define SQRT1_2 0.70710678118654752440

double sample_log(double x)
{
	double m, s, s2, p;
	int e, k;

	/* x = m 2^e with m in [sqrt(1/2), sqrt(2)); frexp is exact. */
	m = frexp(x, &e);
	if (m < SQRT1_2) {
		m *= 2;
		e--;
	}
	/* log m = 2 atanh(s) = 2 (s + s^3/3 + s^5/5 ...), |s| < 0.172: the
	 * terms past s^25 are below 2^-60 of the sum. */
	s = (m - 1) / (m + 1);
	s2 = s * s;
	p = 0;
	for (k = 25; k >= 1; k -= 2)
		p = p * s2 + 1.0 / k;
	return (e * LN2_LO + 2 * s * p) + e * LN2_HI;
}

double sample_exp(double x)
{
	double k, r, p;
	int i;

	if (x > 709.78)
		return HUGE_VAL;
	if (x < -745.2)
		return 0;
	/* x = k ln 2 + r, |r| <= ln 2 / 2: Taylor to r^17 is within 2^-60. */
	k = floor(x / (LN2_HI + LN2_LO) + 0.5);
	r = (x - k * LN2_HI) - k * LN2_LO;
	p = 1;
	for (i = 17; i >= 1; i--)
		p = 1 + p * r / i;
	return ldexp(p, (int)k);
}
