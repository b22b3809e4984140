#include "sha256.h"

#include <string.h>

static const uint32_t K[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static uint32_t ror(uint32_t x, unsigned int n)
{
	return x >> n | x << (32 - n);
}

static uint32_t load_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void store_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

/* The message schedule of FIPS 180-4 6.2.2 step 1. */
static void sha256_schedule(uint32_t w[64], const unsigned char *p)
{
	int i;

	for (i = 0; i < 16; i++)
		w[i] = load_be32(p + 4 * i);
	for (; i < 64; i++) {
		uint32_t s0 = ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ w[i - 15] >> 3;
		uint32_t s1 = ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ w[i - 2] >> 10;

		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
}

static void sha256_block(uint32_t st[8], const unsigned char *p)
{
	uint32_t w[64], a, b, c, d, e, f, g, h;
	int i;

	sha256_schedule(w, p);
	a = st[0];
	b = st[1];
	c = st[2];
	d = st[3];
	e = st[4];
	f = st[5];
	g = st[6];
	h = st[7];
	for (i = 0; i < 64; i++) {
		uint32_t t1 = h + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) +
			      ((e & f) ^ (~e & g)) + K[i] + w[i];
		uint32_t t2 = (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) +
			      ((a & b) ^ (a & c) ^ (b & c));

		h = g;
		g = f;
		f = e;
		e = d + t1;
		d = c;
		c = b;
		b = a;
		a = t1 + t2;
	}
	st[0] += a;
	st[1] += b;
	st[2] += c;
	st[3] += d;
	st[4] += e;
	st[5] += f;
	st[6] += g;
	st[7] += h;
	/* When the block is an HMAC key pad, w starts with the key. */
	explicit_bzero(w, sizeof(w));
}

void sha256_init(struct sha256 *c)
{
	static const uint32_t iv[8] = {
		0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
		0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
	};

	memcpy(c->state, iv, sizeof(iv));
	c->len = 0;
	c->nbuf = 0;
}

void sha256_update(struct sha256 *c, const void *data, size_t len)
{
	const unsigned char *p = data;

	if (!len)
		return;
	c->len += len;
	if (c->nbuf) {
		size_t n = SHA256_BLOCK_SIZE - c->nbuf;

		if (n > len)
			n = len;
		memcpy(c->buf + c->nbuf, p, n);
		c->nbuf += n;
		p += n;
		len -= n;
		if (c->nbuf < SHA256_BLOCK_SIZE)
			return;
		sha256_block(c->state, c->buf);
		c->nbuf = 0;
	}
	for (; len >= SHA256_BLOCK_SIZE; p += SHA256_BLOCK_SIZE, len -= SHA256_BLOCK_SIZE)
		sha256_block(c->state, p);
	memcpy(c->buf, p, len);
	c->nbuf = len;
}

void sha256_final(struct sha256 *c, unsigned char out[SHA256_DIGEST_SIZE])
{
	uint64_t bits = c->len << 3;
	int i;

	/* A 1 bit, zeros, then the bit length in the last 8 bytes of a block. */
	c->buf[c->nbuf++] = 0x80;
	if (c->nbuf > SHA256_BLOCK_SIZE - 8) {
		memset(c->buf + c->nbuf, 0, SHA256_BLOCK_SIZE - c->nbuf);
		sha256_block(c->state, c->buf);
		c->nbuf = 0;
	}
	memset(c->buf + c->nbuf, 0, SHA256_BLOCK_SIZE - 8 - c->nbuf);
	store_be32(c->buf + SHA256_BLOCK_SIZE - 8, (uint32_t)(bits >> 32));
	store_be32(c->buf + SHA256_BLOCK_SIZE - 4, (uint32_t)bits);
	sha256_block(c->state, c->buf);
	for (i = 0; i < 8; i++)
		store_be32(out + 4 * i, c->state[i]);
	explicit_bzero(c, sizeof(*c));
}

/* The key as one block, zero-padded; hashed first when longer (RFC 2104). */
static void hmac_block_key(unsigned char k[SHA256_BLOCK_SIZE], const void *key, size_t keylen)
{
	struct sha256 c;

	memset(k, 0, SHA256_BLOCK_SIZE);
	if (keylen > SHA256_BLOCK_SIZE) {
		sha256_init(&c);
		sha256_update(&c, key, keylen);
		sha256_final(&c, k);
	} else if (keylen) {
		memcpy(k, key, keylen);
	}
}

/* Starts c with the key XORed with pad: 0x36 for the inner hash, 0x5c for the outer. */
static void hmac_start(struct sha256 *c, const unsigned char k[SHA256_BLOCK_SIZE],
		       unsigned char pad)
{
	unsigned char block[SHA256_BLOCK_SIZE];
	int i;

	for (i = 0; i < SHA256_BLOCK_SIZE; i++)
		block[i] = (unsigned char)(k[i] ^ pad);
	sha256_init(c);
	sha256_update(c, block, sizeof(block));
	explicit_bzero(block, sizeof(block));
}

void sha256_hmac(const void *key, size_t keylen, const struct hmac_part *parts,
		 size_t nparts, unsigned char out[SHA256_DIGEST_SIZE])
{
	unsigned char k[SHA256_BLOCK_SIZE], inner[SHA256_DIGEST_SIZE];
	struct sha256 c;
	size_t i;

	hmac_block_key(k, key, keylen);
	hmac_start(&c, k, 0x36);
	for (i = 0; i < nparts; i++)
		sha256_update(&c, parts[i].data, parts[i].len);
	sha256_final(&c, inner);
	hmac_start(&c, k, 0x5c);
	sha256_update(&c, inner, sizeof(inner));
	sha256_final(&c, out);
	explicit_bzero(k, sizeof(k));
	explicit_bzero(inner, sizeof(inner));
}
