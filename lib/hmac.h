/*
 * hmac.h - message authentication for webhooks: HMAC-SHA256 (and the
 * legacy HMAC-SHA1), hex and base64 forms, constant-time comparison,
 * and secrets read from files.
 *
 * Signing a generic tidegate event (what tidegate-post-receive sends):
 *
 *	struct secret s = SECRET_INIT;
 *	char sig[HMAC_GENERIC_SIG_SIZE];
 *	if (secret_read_file(&s, path) < 0)
 *		return -1;
 *	hmac_sign_generic(&s, timestamp, body, body_len, sig);
 *	secret_release(&s);
 *	-> sig is "sha256=<64 hex>", the X-Tidegate-Signature header value.
 *
 * Verifying: hmac_verify_hex() and hmac_verify_base64() recompute the
 * MAC over the parts given and compare it with CRYPTO_memcmp(); they
 * never return early on a mismatching byte. hmac_token_equal() compares
 * two plaintext tokens (GitLab's X-Gitlab-Token) without leaking where
 * they differ or, beyond a hash, their lengths.
 *
 * Secrets: a struct secret owns its bytes and wipes them with
 * explicit_bzero() on release. Secrets are never logged; error
 * messages name the file, never its contents.
 *
 * Two files implement this header. hmac.c (hmac_size() to
 * hmac_token_equal()) uses OpenSSL. secret.c (hex_encode() to the end)
 * does not: it signs with sha256.c, so tidegate-post-receive, which
 * only signs, runs without loading libcrypto.
 */
#ifndef TIDEGATE_HMAC_H
#define TIDEGATE_HMAC_H

#include <stddef.h>

enum hmac_alg {
	HMAC_SHA256 = 0,
	HMAC_SHA1,
};

#define HMAC_MAX_SIZE 32			/* bytes of the largest MAC (SHA-256) */
#define HMAC_SHA256_HEX_SIZE 65			/* 64 hex digits and a NUL */
#define HMAC_GENERIC_SIG_SIZE (7 + 64 + 1)	/* "sha256=" + hex + NUL */
#define SECRET_MAX_SIZE 4096			/* longest secret file accepted */

/* One piece of the message; the MAC covers the pieces in order. */
struct hmac_part {
	const void *data;
	size_t len;
};

/* Bytes of the MAC for alg (32 or 20). */
size_t hmac_size(enum hmac_alg alg);

/*
 * Computes the MAC of the concatenated parts into out (HMAC_MAX_SIZE
 * bytes of room). Returns the MAC length, or -1 on an OpenSSL failure.
 */
int hmac_digest(enum hmac_alg alg, const void *key, size_t keylen,
		const struct hmac_part *parts, size_t nparts, unsigned char *out);

/*
 * HMAC-SHA256 of data as 64 lowercase hex digits and a NUL in out.
 * Returns 0, or -1 on an OpenSSL failure.
 */
int hmac_sha256_hex(const void *key, size_t keylen, const void *data, size_t len,
		    char out[HMAC_SHA256_HEX_SIZE]);

/*
 * 1 when hex (hexlen characters, either case) is the MAC of the parts,
 * 0 otherwise (including malformed hex or a wrong length).
 */
int hmac_verify_hex(enum hmac_alg alg, const void *key, size_t keylen,
		    const struct hmac_part *parts, size_t nparts,
		    const char *hex, size_t hexlen);
/* The same for a standard base64 MAC (Standard Webhooks' "v1,<base64>"). */
int hmac_verify_base64(enum hmac_alg alg, const void *key, size_t keylen,
		       const struct hmac_part *parts, size_t nparts,
		       const char *b64, size_t b64len);

/* Constant-time equality of two equal-length byte strings (CRYPTO_memcmp). */
int hmac_mem_equal(const void *a, const void *b, size_t len);
/*
 * Constant-time equality of two tokens of any length: both are hashed
 * with SHA-256 and the digests compared, so neither the position of a
 * difference nor the length of the expected token leaks. 1 when equal.
 */
int hmac_token_equal(const void *a, size_t alen, const void *b, size_t blen);

/* Writes 2*n lowercase hex digits and a NUL to out. */
void hex_encode(const unsigned char *in, size_t n, char *out);
/*
 * Decodes hexlen hex digits (either case) into out (room for outmax).
 * Returns the number of bytes, or -1 on an odd length, a non-hex
 * character or too little room.
 */
int hex_decode(const char *hex, size_t hexlen, unsigned char *out, size_t outmax);
/* Standard base64 with padding, NUL-terminated; out needs 4*((n+2)/3)+1 bytes. */
void base64_encode(const unsigned char *in, size_t n, char *out);
/*
 * Decodes standard base64 (padding optional, no whitespace) into out.
 * Returns the number of bytes, or -1 on a bad character or too little room.
 */
int base64_decode(const char *in, size_t inlen, unsigned char *out, size_t outmax);

/* A secret key; owns data, which is wiped on release. */
struct secret {
	unsigned char *data;
	size_t len;
};
#define SECRET_INIT { NULL, 0 }

/*
 * Reads a secret from path: the whole file, one trailing newline (LF or
 * CRLF) removed. Refuses an empty file or one over SECRET_MAX_SIZE.
 * The read goes into one fixed buffer (no realloc leaves stray copies).
 * Returns 0, or -1 with an error logged that names path only.
 */
int secret_read_file(struct secret *s, const char *path);
/* Takes a copy of len bytes. */
void secret_set(struct secret *s, const void *data, size_t len);
/*
 * Turns a Standard Webhooks secret ("whsec_" + base64) into its key
 * bytes in place. A secret without the prefix is left as it is.
 * Returns 0, or -1 when the part after "whsec_" is not base64.
 */
int secret_decode_whsec(struct secret *s);
/* Wipes and frees the bytes; s is empty and reusable. */
void secret_release(struct secret *s);

/*
 * The X-Tidegate-Signature value for a generic event:
 * "sha256=" + hex HMAC-SHA256(secret, "<timestamp>.<body>"), computed
 * by sha256.c without OpenSSL. Returns 0: it cannot fail.
 */
int hmac_sign_generic(const struct secret *s, long long timestamp,
		      const void *body, size_t len, char out[HMAC_GENERIC_SIG_SIZE]);

#endif
