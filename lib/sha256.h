/*
 * sha256.h - SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104) in plain C.
 *
 * Why this exists next to OpenSSL: tidegate-post-receive runs on every
 * push and signs each event it sends. Linking libcrypto and fetching
 * OpenSSL 3's HMAC (providers, configuration) cost that hook about half
 * of its run time, so the hook signs with this code and never loads
 * libcrypto. tidegated verifies the signatures with OpenSSL (hmac.c).
 * The two must give the same answers: tests/unit/t-hmac.c compares them
 * for every message length over several blocks, for keys around the
 * block size, and with the FIPS 180-4 and RFC 4231 vectors.
 *
 * This is for signing. Verifying and comparing MACs stay in hmac.c,
 * with OpenSSL's constant-time comparison.
 *
 *	struct sha256 c;
 *	unsigned char md[SHA256_DIGEST_SIZE];
 *
 *	sha256_init(&c);
 *	sha256_update(&c, data, len);	(any number of times, any lengths)
 *	sha256_final(&c, md);		(wipes c; init it again to reuse it)
 *
 * No alignment is assumed of any buffer, and the result does not depend
 * on the machine's byte order.
 */
#ifndef TIDEGATE_SHA256_H
#define TIDEGATE_SHA256_H

#include "hmac.h"

#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST_SIZE 32
#define SHA256_BLOCK_SIZE 64

/* A hash in progress; stack-allocate it and sha256_init() it. */
struct sha256 {
	uint32_t state[8];
	uint64_t len;				/* bytes hashed so far */
	unsigned char buf[SHA256_BLOCK_SIZE];	/* a partial block */
	size_t nbuf;				/* bytes in buf, below a block */
};

void sha256_init(struct sha256 *c);
/* Adds len bytes; data may be NULL when len is 0. */
void sha256_update(struct sha256 *c, const void *data, size_t len);
/* Writes the digest to out and wipes c with explicit_bzero(). */
void sha256_final(struct sha256 *c, unsigned char out[SHA256_DIGEST_SIZE]);

/*
 * HMAC-SHA256 of the concatenated parts under key (keylen bytes, any
 * length: a key longer than a block is hashed first; key may be NULL
 * when keylen is 0). Every copy of the key, padded or hashed, is wiped
 * before it returns. It cannot fail.
 */
void sha256_hmac(const void *key, size_t keylen, const struct hmac_part *parts,
		 size_t nparts, unsigned char out[SHA256_DIGEST_SIZE]);

#endif
