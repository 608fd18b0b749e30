/* blake2s.c -- BLAKE2s as RFC 7693 specifies it (sequential mode, no salt
 * or personalisation). */
#include <string.h>

#include "blake2s.h"

static const uint32_t blake2s_iv[8] = {
	0x6A09E667, 0xBB67AE85, 0x3C6EF372, 0xA54FF53A,
	0x510E527F, 0x9B05688C, 0x1F83D9AB, 0x5BE0CD19,
};

static const uint8_t blake2s_sigma[10][16] = {
	{ 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 },
	{ 14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3 },
	{ 11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4 },
	{ 7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8 },
	{ 9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13 },
	{ 2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9 },
	{ 12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11 },
	{ 13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10 },
	{ 6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5 },
	{ 10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0 },
};

static uint32_t blake2s_rotr(uint32_t x, unsigned n)
{
	return (x >> n) | (x << (32 - n));
}

static uint32_t blake2s_load32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

#define G(a, b, c, d, x, y)                           \
	do {                                          \
		v[a] = v[a] + v[b] + (x);             \
		v[d] = blake2s_rotr(v[d] ^ v[a], 16); \
		v[c] = v[c] + v[d];                   \
		v[b] = blake2s_rotr(v[b] ^ v[c], 12); \
		v[a] = v[a] + v[b] + (y);             \
		v[d] = blake2s_rotr(v[d] ^ v[a], 8);  \
		v[c] = v[c] + v[d];                   \
		v[b] = blake2s_rotr(v[b] ^ v[c], 7);  \
	} while (0)

static void blake2s_compress(blake2s *b, const uint8_t *block, int last)
{
	uint32_t m[16], v[16];
	int i;

	for (i = 0; i < 16; i++)
		m[i] = blake2s_load32(block + 4 * i);
	for (i = 0; i < 8; i++) {
		v[i] = b->h[i];
		v[i + 8] = blake2s_iv[i];
	}
	v[12] ^= b->t[0];
	v[13] ^= b->t[1];
	if (last)
		v[14] = ~v[14];
	for (i = 0; i < 10; i++) {
		const uint8_t *s = blake2s_sigma[i];

		G(0, 4, 8, 12, m[s[0]], m[s[1]]);
		G(1, 5, 9, 13, m[s[2]], m[s[3]]);
		G(2, 6, 10, 14, m[s[4]], m[s[5]]);
		G(3, 7, 11, 15, m[s[6]], m[s[7]]);
		G(0, 5, 10, 15, m[s[8]], m[s[9]]);
		G(1, 6, 11, 12, m[s[10]], m[s[11]]);
		G(2, 7, 8, 13, m[s[12]], m[s[13]]);
		G(3, 4, 9, 14, m[s[14]], m[s[15]]);
	}
	for (i = 0; i < 8; i++)
		b->h[i] ^= v[i] ^ v[i + 8];
}

static void blake2s_count(blake2s *b, size_t n)
{
	b->t[0] += (uint32_t)n;
	if (b->t[0] < n)
		b->t[1]++;
}

void blake2s_init(blake2s *b, size_t out_len, const void *key, size_t key_len)
{
	int i;

	memset(b, 0, sizeof *b);
	for (i = 0; i < 8; i++)
		b->h[i] = blake2s_iv[i];
	/* The parameter block: digest length, key length, fanout 1, depth 1. */
	b->h[0] ^= 0x01010000u ^ (uint32_t)(key_len << 8) ^ (uint32_t)out_len;
	b->out_len = out_len;
	if (key_len) {
		/* The key is the first block, padded with zeros. */
		memcpy(b->buf, key, key_len);
		b->n_buf = BLAKE2S_BLOCK;
	}
}

void blake2s_update(blake2s *b, const void *data, size_t len)
{
	const uint8_t *in = data;

	while (len) {
		size_t take;

		/* A full buffer is compressed only once more comes: the last
		 * block is compressed by blake2s_final(), flagged last. */
		if (b->n_buf == BLAKE2S_BLOCK) {
			blake2s_count(b, BLAKE2S_BLOCK);
			blake2s_compress(b, b->buf, 0);
			b->n_buf = 0;
		}
		take = BLAKE2S_BLOCK - b->n_buf;
		if (take > len)
			take = len;
		memcpy(b->buf + b->n_buf, in, take);
		b->n_buf += take;
		in += take;
		len -= take;
	}
}

void blake2s_final(blake2s *b, void *out)
{
	uint8_t digest[BLAKE2S_OUT_MAX];
	int i;

	blake2s_count(b, b->n_buf);
	memset(b->buf + b->n_buf, 0, BLAKE2S_BLOCK - b->n_buf);
	blake2s_compress(b, b->buf, 1);
	for (i = 0; i < 8; i++) {
		digest[4 * i] = (uint8_t)b->h[i];
		digest[4 * i + 1] = (uint8_t)(b->h[i] >> 8);
		digest[4 * i + 2] = (uint8_t)(b->h[i] >> 16);
		digest[4 * i + 3] = (uint8_t)(b->h[i] >> 24);
	}
	memcpy(out, digest, b->out_len);
}
