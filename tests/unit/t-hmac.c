#include "tap.h"
#include "../../lib/hmac.h"
#include "../../lib/log.h"
#include "../../lib/sha256.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#define GH_SECRET "It's a Secret to Everybody"
#define GH_BODY "Hello, World!"
#define GH_SIG "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"

static void test_github_vector(void)
{
	char hex[HMAC_SHA256_HEX_SIZE];
	struct hmac_part body = { GH_BODY, strlen(GH_BODY) };
	char upper[] = GH_SIG;
	size_t i;

	ok(hmac_sha256_hex(GH_SECRET, strlen(GH_SECRET), GH_BODY, strlen(GH_BODY), hex) == 0,
	   "HMAC-SHA256 computes");
	is_str(hex, GH_SIG, "GitHub's documented test vector");
	ok(hmac_verify_hex(HMAC_SHA256, GH_SECRET, strlen(GH_SECRET), &body, 1, GH_SIG, 64),
	   "the vector verifies");
	for (i = 0; upper[i]; i++)
		if (upper[i] >= 'a' && upper[i] <= 'f')
			upper[i] = (char)(upper[i] - 'a' + 'A');
	ok(hmac_verify_hex(HMAC_SHA256, GH_SECRET, strlen(GH_SECRET), &body, 1, upper, 64),
	   "upper-case hex verifies too");
	ok(!hmac_verify_hex(HMAC_SHA256, "It's a Secret to Everybodz", strlen(GH_SECRET),
			    &body, 1, GH_SIG, 64), "a wrong secret does not verify");
	body.len--;
	ok(!hmac_verify_hex(HMAC_SHA256, GH_SECRET, strlen(GH_SECRET), &body, 1, GH_SIG, 64),
	   "a changed body does not verify");
	body.len++;
	ok(!hmac_verify_hex(HMAC_SHA256, GH_SECRET, strlen(GH_SECRET), &body, 1, GH_SIG, 62),
	   "a truncated signature does not verify");
	ok(!hmac_verify_hex(HMAC_SHA256, GH_SECRET, strlen(GH_SECRET), &body, 1, GH_SIG, 63),
	   "an odd-length signature does not verify");
	ok(!hmac_verify_hex(HMAC_SHA256, GH_SECRET, strlen(GH_SECRET), &body, 1,
			    "zz7107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17", 64),
	   "non-hex characters do not verify");
	ok(!hmac_verify_hex(HMAC_SHA256, GH_SECRET, strlen(GH_SECRET), &body, 1, "", 0),
	   "an empty signature does not verify");
}

/* Deterministic bytes (xorshift32), so a failure reproduces. */
static void fill(unsigned char *p, size_t n, uint32_t seed)
{
	size_t i;

	for (i = 0; i < n; i++) {
		seed ^= seed << 13;
		seed ^= seed >> 17;
		seed ^= seed << 5;
		p[i] = (unsigned char)(seed >> 24);
	}
}

/* sha256.c in chunks of at most chunk bytes, as hex. */
static void our_sha256_hex(const void *data, size_t len, size_t chunk, char *hex)
{
	const unsigned char *p = data;
	unsigned char md[SHA256_DIGEST_SIZE];
	struct sha256 c;

	sha256_init(&c);
	while (len) {
		size_t n = len < chunk ? len : chunk;

		sha256_update(&c, p, n);
		p += n;
		len -= n;
	}
	sha256_final(&c, md);
	hex_encode(md, sizeof(md), hex);
}

static void test_sha256_vs_openssl(void)
{
	static unsigned char data[1101];
	unsigned char md[SHA256_DIGEST_SIZE], ref[SHA256_DIGEST_SIZE];
	unsigned int reflen;
	size_t len, bad = 0, badsplit = 0;
	struct sha256 c;

	fill(data, sizeof(data), 0x7469de);
	for (len = 0; len < sizeof(data); len++) {
		size_t cut = len * 7 % (len + 1);

		if (!EVP_Digest(data, len, ref, &reflen, EVP_sha256(), NULL))
			abort();
		sha256_init(&c);
		sha256_update(&c, data, len);
		sha256_final(&c, md);
		bad += memcmp(md, ref, sizeof(md)) != 0;
		sha256_init(&c);
		sha256_update(&c, data, cut);
		sha256_update(&c, data + cut, len - cut);
		sha256_final(&c, md);
		badsplit += memcmp(md, ref, sizeof(md)) != 0;
	}
	ok(bad == 0, "SHA-256 equals OpenSSL's for every length 0..1100 (%zu differ)", bad);
	ok(badsplit == 0, "and when fed in two pieces (%zu differ)", badsplit);
	sha256_init(&c);
	sha256_update(&c, NULL, 0);
	sha256_final(&c, md);
	ok(md[0] == 0xe3 && md[31] == 0x55, "a NULL, empty update is the empty message");
}

static void test_sha256_nist(void)
{
	static const char two[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	char hex[2 * SHA256_DIGEST_SIZE + 1];
	unsigned char md[SHA256_DIGEST_SIZE];
	struct sha256 c;
	char *a = malloc(1000000);
	size_t done = 0, step = 0;

	our_sha256_hex("abc", 3, 3, hex);
	is_str(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
	       "FIPS 180-4 \"abc\"");
	our_sha256_hex(two, strlen(two), 5, hex);
	is_str(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
	       "the 448-bit two-block message, 5 bytes at a time");
	if (!a)
		abort();
	memset(a, 'a', 1000000);
	/* Uneven chunks, so every offset within a block is crossed. */
	sha256_init(&c);
	while (done < 1000000) {
		static const size_t sizes[] = { 1, 63, 64, 65, 7, 128, 1000, 3, 4096, 129 };
		size_t n = sizes[step++ % (sizeof(sizes) / sizeof(sizes[0]))];

		if (n > 1000000 - done)
			n = 1000000 - done;
		sha256_update(&c, a + done, n);
		done += n;
	}
	sha256_final(&c, md);
	hex_encode(md, sizeof(md), hex);
	is_str(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
	       "one million 'a' in uneven chunks");
	free(a);
}

/* Splits len bytes into nparts parts at points that move with len. */
static size_t split(const unsigned char *body, size_t len, size_t nparts,
		    struct hmac_part *parts)
{
	size_t a = nparts > 1 ? len * 5 % (len + 1) : len;
	size_t b = nparts > 2 ? a + (len - a) * 2 / 3 : len;

	parts[0].data = body;
	parts[0].len = a;
	parts[1].data = body + a;
	parts[1].len = b - a;
	parts[2].data = body + b;
	parts[2].len = len - b;
	return nparts;
}

static void test_hmac_vs_openssl(void)
{
	static const size_t keylens[] = { 0, 1, 63, 64, 65, 200 };
	unsigned char key[200], body[300];
	unsigned char mac[SHA256_DIGEST_SIZE], ref[HMAC_MAX_SIZE];
	struct hmac_part parts[3];
	size_t k, len, n, bad = 0, runs = 0;

	fill(key, sizeof(key), 0x5ec7e7);
	fill(body, sizeof(body), 0xb0d1e5);
	for (k = 0; k < sizeof(keylens) / sizeof(keylens[0]); k++) {
		const void *kp = keylens[k] ? key : NULL;

		for (len = 0; len <= sizeof(body); len++) {
			struct hmac_part whole = { body, len };

			if (hmac_digest(HMAC_SHA256, key, keylens[k], &whole, 1, ref) != 32)
				abort();
			for (n = 1; n <= 3; n++) {
				sha256_hmac(kp, keylens[k], parts, split(body, len, n, parts), mac);
				bad += memcmp(mac, ref, sizeof(mac)) != 0;
				runs++;
			}
		}
	}
	ok(bad == 0, "HMAC-SHA256 over 1-3 parts equals OpenSSL's (%zu of %zu differ)", bad, runs);
}

static void check_hmac(const void *key, size_t keylen, const char *msg, const char *want,
		       const char *name)
{
	struct hmac_part part = { msg, strlen(msg) };
	unsigned char mac[SHA256_DIGEST_SIZE];
	char hex[2 * SHA256_DIGEST_SIZE + 1];

	sha256_hmac(key, keylen, &part, 1, mac);
	hex_encode(mac, sizeof(mac), hex);
	is_str(hex, want, "%s", name);
}

static void test_hmac_vectors(void)
{
	unsigned char k20[20], k131[131];

	memset(k20, 0x0b, sizeof(k20));
	memset(k131, 0xaa, sizeof(k131));
	check_hmac(k20, sizeof(k20), "Hi There",
		   "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
		   "RFC 4231 case 1");
	check_hmac("Jefe", 4, "what do ya want for nothing?",
		   "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
		   "RFC 4231 case 2");
	check_hmac(k131, sizeof(k131), "Test Using Larger Than Block-Size Key - Hash Key First",
		   "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
		   "RFC 4231 case 6 (a key longer than a block)");
	check_hmac(k131, sizeof(k131),
		   "This is a test using a larger than block-size key and a larger than "
		   "block-size data. The key needs to be hashed before being used by the "
		   "HMAC algorithm.",
		   "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
		   "RFC 4231 case 7 (and data longer than a block)");
	check_hmac(GH_SECRET, strlen(GH_SECRET), GH_BODY, GH_SIG,
		   "GitHub's documented vector without OpenSSL");
}

/* hmac_sign_generic() (sha256.c) against OpenSSL over "<ts>.<body>". */
static void test_sign_generic_vs_openssl(void)
{
	static const long long stamps[] = { 0, 1, 1700000000, -5, 9223372036854775807LL };
	unsigned char key[100], body[200];
	char sig[HMAC_GENERIC_SIG_SIZE], hex[HMAC_SHA256_HEX_SIZE], want[HMAC_GENERIC_SIG_SIZE];
	char msg[32 + sizeof(body)];
	struct secret s = SECRET_INIT;
	size_t i, keylen, len, bad = 0;

	fill(key, sizeof(key), 0xc0ffee);
	fill(body, sizeof(body), 0xfeed);
	for (i = 0; i < sizeof(stamps) / sizeof(stamps[0]); i++) {
		for (keylen = 1; keylen <= sizeof(key); keylen += 33) {
			for (len = 0; len <= sizeof(body); len += 37) {
				int n = snprintf(msg, 32, "%lld.", stamps[i]);

				memcpy(msg + n, body, len);
				secret_set(&s, key, keylen);
				if (hmac_sign_generic(&s, stamps[i], body, len, sig) < 0 ||
				    hmac_sha256_hex(key, keylen, msg, (size_t)n + len, hex) < 0)
					abort();
				snprintf(want, sizeof(want), "sha256=%s", hex);
				bad += strcmp(sig, want) != 0;
			}
		}
	}
	secret_release(&s);
	ok(bad == 0, "hmac_sign_generic is sha256= + OpenSSL's HMAC of \"<ts>.<body>\" (%zu differ)",
	   bad);
}

static void test_sha1_and_parts(void)
{
	/* RFC 2202 test case 2 (HMAC-SHA1) and RFC 4231 test case 2 (HMAC-SHA256). */
	struct hmac_part whole = { "what do ya want for nothing?", 28 };
	struct hmac_part split[3] = { { "what do ya", 10 }, { "", 0 }, { " want for nothing?", 18 } };
	unsigned char mac[HMAC_MAX_SIZE];
	char hex[2 * HMAC_MAX_SIZE + 1];

	is_int(hmac_digest(HMAC_SHA1, "Jefe", 4, &whole, 1, mac), 20, "SHA-1 MAC is 20 bytes");
	hex_encode(mac, 20, hex);
	is_str(hex, "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79", "RFC 2202 HMAC-SHA1 case 2");
	is_int(hmac_digest(HMAC_SHA256, "Jefe", 4, split, 3, mac), 32, "SHA-256 MAC over parts");
	hex_encode(mac, 32, hex);
	is_str(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
	       "RFC 4231 case 2, the message given in pieces");
	ok(!hmac_verify_hex(HMAC_SHA1, "Jefe", 4, &whole, 1,
			    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843", 64),
	   "a SHA-256 length MAC is not a SHA-1 MAC");
	is_int(hmac_digest(HMAC_SHA256, "", 0, &whole, 1, mac), 32, "an empty key works");
}

static void test_standard_webhooks(void)
{
	/* The Standard Webhooks specification's published vector. */
	struct secret s = SECRET_INIT;
	const char *id = "msg_p5jXN8AQM9LWM0D4loKWxJek", *ts = "1614265330";
	const char *body = "{\"test\": 2432232314}";
	const char *sig = "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
	struct hmac_part parts[5] = {
		{ id, strlen(id) }, { ".", 1 }, { ts, strlen(ts) }, { ".", 1 },
		{ body, strlen(body) },
	};

	secret_set(&s, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", 38);
	ok(secret_decode_whsec(&s) == 0, "a whsec_ secret decodes");
	is_int(s.len, 24, "to 24 key bytes");
	ok(hmac_verify_base64(HMAC_SHA256, s.data, s.len, parts, 5, sig, strlen(sig)),
	   "the Standard Webhooks vector verifies");
	ok(!hmac_verify_base64(HMAC_SHA256, s.data, s.len, parts, 4, sig, strlen(sig)),
	   "without the body it does not");
	ok(!hmac_verify_base64(HMAC_SHA256, s.data, s.len, parts, 5, "g0hM9SsE", 8),
	   "a short signature does not");
	ok(!hmac_verify_base64(HMAC_SHA256, s.data, s.len, parts, 5, "!!!!", 4),
	   "a non-base64 signature does not");
	secret_release(&s);
	ok(s.data == NULL && s.len == 0, "release empties the secret");
	secret_set(&s, "whsec_***", 9);
	ok(secret_decode_whsec(&s) < 0, "a whsec_ secret that is not base64 is refused");
	secret_release(&s);
	secret_set(&s, "plain", 5);
	ok(secret_decode_whsec(&s) == 0 && s.len == 5, "a secret without whsec_ stays as it is");
	secret_release(&s);
}

static void test_codecs(void)
{
	unsigned char out[16];
	char enc[32];
	const char *cases[][2] = {
		{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
		{ "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
	};
	size_t i;
	int all = 1;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int n;

		base64_encode((const unsigned char *)cases[i][0], strlen(cases[i][0]), enc);
		if (strcmp(enc, cases[i][1]))
			all = 0;
		n = base64_decode(cases[i][1], strlen(cases[i][1]), out, sizeof(out));
		if (n != (int)strlen(cases[i][0]) || memcmp(out, cases[i][0], (size_t)n))
			all = 0;
	}
	ok(all, "RFC 4648 base64 vectors encode and decode");
	is_int(base64_decode("Zm9vYg", 6, out, sizeof(out)), 4, "padding is optional");
	is_int(base64_decode("Zm9vY", 5, out, sizeof(out)), -1, "an impossible length is refused");
	is_int(base64_decode("Zm9v", 4, out, 2), -1, "too little room is refused");
	is_int(base64_decode("Zm=v", 4, out, sizeof(out)), -1, "padding in the middle is refused");
	is_int(hex_decode("00ff7F", 6, out, sizeof(out)), 3, "hex decodes");
	ok(out[0] == 0 && out[1] == 0xff && out[2] == 0x7f, "to the right bytes");
	is_int(hex_decode("0g", 2, out, sizeof(out)), -1, "bad hex is refused");
	is_int(hex_decode("0011", 4, out, 1), -1, "hex that does not fit is refused");
}

static void test_compare(void)
{
	ok(hmac_token_equal("token", 5, "token", 5), "equal tokens are equal");
	ok(!hmac_token_equal("token", 5, "tokeN", 5), "one byte different");
	ok(!hmac_token_equal("token", 5, "token2", 6), "a longer token");
	ok(!hmac_token_equal("token", 5, "", 0), "an empty token");
	ok(hmac_mem_equal("abc", "abc", 3) && !hmac_mem_equal("abc", "abd", 3),
	   "constant-time memory comparison");
}

static void write_file(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd < 0 || write(fd, data, len) != (ssize_t)len)
		abort();
	close(fd);
}

static void test_secret_files(void)
{
	char dir[] = "/tmp/t-hmac.XXXXXX";
	char path[256], sig[HMAC_GENERIC_SIG_SIZE];
	struct secret s = SECRET_INIT;
	char *big;

	if (!mkdtemp(dir))
		abort();
	snprintf(path, sizeof(path), "%s/secret", dir);

	write_file(path, "s3cret\n", 7);
	ok(secret_read_file(&s, path) == 0, "a secret file reads");
	ok(s.len == 6 && !memcmp(s.data, "s3cret", 6), "its trailing newline is dropped");
	write_file(path, "s3cret\r\n", 8);
	ok(secret_read_file(&s, path) == 0 && s.len == 6, "a CRLF ending is dropped too");
	write_file(path, "a b\n\n", 5);
	ok(secret_read_file(&s, path) == 0 && s.len == 4, "only one newline is dropped");
	secret_release(&s);

	write_file(path, "\n", 1);
	ok(secret_read_file(&s, path) < 0 && !s.data, "an empty secret is refused");
	big = calloc(1, SECRET_MAX_SIZE + 10);
	memset(big, 'x', SECRET_MAX_SIZE + 9);
	write_file(path, big, SECRET_MAX_SIZE + 9);
	ok(secret_read_file(&s, path) < 0 && !s.data, "an oversized secret is refused");
	write_file(path, big, SECRET_MAX_SIZE);
	ok(secret_read_file(&s, path) == 0 && s.len == SECRET_MAX_SIZE,
	   "a secret of exactly the maximum size reads");
	free(big);
	secret_release(&s);
	unlink(path);
	ok(secret_read_file(&s, path) < 0, "a missing secret file is an error");

	/* The generic event signature: sha256= HMAC over "<timestamp>.<body>". */
	secret_set(&s, GH_SECRET, strlen(GH_SECRET));
	ok(hmac_sign_generic(&s, 1700000000, "{}", 2, sig) == 0, "a generic event signs");
	{
		char hex[HMAC_SHA256_HEX_SIZE];

		hmac_sha256_hex(GH_SECRET, strlen(GH_SECRET), "1700000000.{}", 13, hex);
		ok(!strncmp(sig, "sha256=", 7) && !strcmp(sig + 7, hex),
		   "over \"<timestamp>.<body>\" with the sha256= prefix");
	}
	secret_release(&s);
	rmdir(dir);
}

int main(void)
{
	/* The refusals below log errors on purpose; keep them out of the TAP stream. */
	log_init("t-hmac", LOGL_ERROR, LOG_FORMAT_TEXT);
	log_set_fd(open("/dev/null", O_WRONLY | O_CLOEXEC));
	test_github_vector();
	test_sha1_and_parts();
	test_standard_webhooks();
	test_codecs();
	test_compare();
	test_secret_files();
	test_sha256_vs_openssl();
	test_sha256_nist();
	test_hmac_vs_openssl();
	test_hmac_vectors();
	test_sign_generic_vs_openssl();
	return done_testing();
}
