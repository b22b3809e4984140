/*
 * hmac.c - the half of hmac.h that uses OpenSSL: computing, verifying and
 * comparing MACs, for tidegated and the tests. The codecs, the secrets
 * and hmac_sign_generic() are in secret.c, which tidegate-post-receive
 * links without libcrypto; keep OpenSSL out of that file.
 */
#include "hmac.h"
#include "log.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

size_t hmac_size(enum hmac_alg alg)
{
	return alg == HMAC_SHA1 ? 20 : 32;
}

int hmac_digest(enum hmac_alg alg, const void *key, size_t keylen,
		const struct hmac_part *parts, size_t nparts, unsigned char *out)
{
	static const unsigned char nokey[1];
	EVP_MAC *mac;
	EVP_MAC_CTX *ctx = NULL;
	OSSL_PARAM params[2];
	size_t outlen = 0, i;
	int ret = -1;

	mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	if (!mac)
		return error("hmac: OpenSSL has no HMAC");
	ctx = EVP_MAC_CTX_new(mac);
	if (!ctx)
		goto out;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
			(char *)(alg == HMAC_SHA1 ? "SHA1" : "SHA256"), 0);
	params[1] = OSSL_PARAM_construct_end();
	/* An empty key is legal HMAC; OpenSSL wants a non-NULL pointer. */
	if (!EVP_MAC_init(ctx, keylen ? key : nokey, keylen, params))
		goto out;
	for (i = 0; i < nparts; i++)
		if (parts[i].len && !EVP_MAC_update(ctx, parts[i].data, parts[i].len))
			goto out;
	if (!EVP_MAC_final(ctx, out, &outlen, HMAC_MAX_SIZE))
		goto out;
	ret = (int)outlen;
out:
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	if (ret < 0)
		return error("hmac: computing the MAC failed");
	return ret;
}

int hmac_sha256_hex(const void *key, size_t keylen, const void *data, size_t len,
		    char out[HMAC_SHA256_HEX_SIZE])
{
	struct hmac_part part = { data, len };
	unsigned char mac[HMAC_MAX_SIZE];
	int n = hmac_digest(HMAC_SHA256, key, keylen, &part, 1, mac);

	if (n < 0)
		return -1;
	hex_encode(mac, (size_t)n, out);
	return 0;
}

int hmac_mem_equal(const void *a, const void *b, size_t len)
{
	return CRYPTO_memcmp(a, b, len) == 0;
}

int hmac_token_equal(const void *a, size_t alen, const void *b, size_t blen)
{
	unsigned char da[32], db[32];
	unsigned int la = 0, lb = 0;
	int eq;

	if (!EVP_Digest(a, alen, da, &la, EVP_sha256(), NULL) ||
	    !EVP_Digest(b, blen, db, &lb, EVP_sha256(), NULL))
		return 0;
	eq = CRYPTO_memcmp(da, db, sizeof(da)) == 0;
	/* Equal digests of unequal lengths would be a SHA-256 collision. */
	return eq & (alen == blen);
}

static int verify_raw(enum hmac_alg alg, const void *key, size_t keylen,
		      const struct hmac_part *parts, size_t nparts,
		      const unsigned char *given, int givenlen)
{
	unsigned char mac[HMAC_MAX_SIZE];
	int n;

	if (givenlen != (int)hmac_size(alg))
		return 0;
	n = hmac_digest(alg, key, keylen, parts, nparts, mac);
	if (n != givenlen)
		return 0;
	return CRYPTO_memcmp(mac, given, (size_t)n) == 0;
}

int hmac_verify_hex(enum hmac_alg alg, const void *key, size_t keylen,
		    const struct hmac_part *parts, size_t nparts,
		    const char *hex, size_t hexlen)
{
	unsigned char given[HMAC_MAX_SIZE];
	int n = hex_decode(hex, hexlen, given, sizeof(given));

	if (n < 0)
		return 0;
	return verify_raw(alg, key, keylen, parts, nparts, given, n);
}

int hmac_verify_base64(enum hmac_alg alg, const void *key, size_t keylen,
		       const struct hmac_part *parts, size_t nparts,
		       const char *b64, size_t b64len)
{
	unsigned char given[HMAC_MAX_SIZE];
	int n = base64_decode(b64, b64len, given, sizeof(given));

	if (n < 0)
		return 0;
	return verify_raw(alg, key, keylen, parts, nparts, given, n);
}
