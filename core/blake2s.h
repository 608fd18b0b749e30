/* blake2s.h -- BLAKE2s (RFC 7693), keyed, with a digest of 1..32 bytes:
 * the keyed hash of the node keys (nodekey.h).  Chosen over SipHash for
 * the 32-byte key the state dir keeps and for being a cryptographic hash:
 * nobody without the key can test a guess of a secret against a key in
 * the journal, and nobody with it can make two definitions collide. */
#ifndef ASSAY_BLAKE2S_H
#define ASSAY_BLAKE2S_H

#include <stddef.h>
#include <stdint.h>

#define BLAKE2S_BLOCK 64
#define BLAKE2S_KEY_MAX 32
#define BLAKE2S_OUT_MAX 32

typedef struct blake2s {
	uint32_t h[8];
	uint32_t t[2];            /* bytes compressed so far */
	uint8_t buf[BLAKE2S_BLOCK];
	size_t n_buf;
	size_t out_len;
} blake2s;

/* Start a hash of out_len bytes (1..32) keyed with key[0 .. key_len)
 * (0..32 bytes; 0: unkeyed). */
void blake2s_init(blake2s *b, size_t out_len, const void *key, size_t key_len);
void blake2s_update(blake2s *b, const void *data, size_t len);
/* The digest, out_len bytes, into out; b is spent. */
void blake2s_final(blake2s *b, void *out);

#endif /* ASSAY_BLAKE2S_H */
