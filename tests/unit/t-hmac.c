#include "tap.h"
#include "../../lib/hmac.h"
#include "../../lib/log.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
	return done_testing();
}
