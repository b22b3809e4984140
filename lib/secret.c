/*
 * secret.c - the half of hmac.h that needs no OpenSSL: hex and base64,
 * secrets read from files, and signing a generic event with sha256.c.
 * tidegate-post-receive links only this half, so it never loads
 * libcrypto; verifying stays in hmac.c.
 */
#include "hmac.h"
#include "log.h"
#include "sha256.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void hex_encode(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int hex_decode(const char *hex, size_t hexlen, unsigned char *out, size_t outmax)
{
	size_t i;

	if (hexlen % 2 || hexlen / 2 > outmax || hexlen / 2 > (size_t)0x7fffffff)
		return -1;
	for (i = 0; i < hexlen / 2; i++) {
		int hi = hexval((unsigned char)hex[2 * i]);
		int lo = hexval((unsigned char)hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return (int)(hexlen / 2);
}

static const char b64chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void base64_encode(const unsigned char *in, size_t n, char *out)
{
	size_t i, o = 0;

	for (i = 0; i + 2 < n; i += 3) {
		unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];

		out[o++] = b64chars[v >> 18];
		out[o++] = b64chars[(v >> 12) & 63];
		out[o++] = b64chars[(v >> 6) & 63];
		out[o++] = b64chars[v & 63];
	}
	if (i < n) {
		unsigned v = (unsigned)in[i] << 16;

		if (i + 1 < n)
			v |= (unsigned)in[i + 1] << 8;
		out[o++] = b64chars[v >> 18];
		out[o++] = b64chars[(v >> 12) & 63];
		out[o++] = i + 1 < n ? b64chars[(v >> 6) & 63] : '=';
		out[o++] = '=';
	}
	out[o] = '\0';
}

static int b64val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int base64_decode(const char *in, size_t inlen, unsigned char *out, size_t outmax)
{
	size_t i, o = 0, pad = 0;
	unsigned acc = 0;
	int bits = 0;

	while (inlen > 0 && in[inlen - 1] == '=' && pad < 2) {
		inlen--;
		pad++;
	}
	if (inlen % 4 == 1 || (pad && (inlen + pad) % 4))
		return -1;
	for (i = 0; i < inlen; i++) {
		int v = b64val((unsigned char)in[i]);

		if (v < 0)
			return -1;
		acc = (acc << 6 | (unsigned)v) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o >= outmax || o >= 0x7fffffff)
				return -1;
			out[o++] = (unsigned char)(acc >> bits);
		}
	}
	return (int)o;
}

int secret_read_file(struct secret *s, const char *path)
{
	unsigned char *data;
	size_t len = 0;
	int fd;

	secret_release(s);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return error_errno("cannot open secret file '%s'", path);
	/* One buffer, one byte past the cap to tell "too big". */
	data = xmalloc(SECRET_MAX_SIZE + 1);
	for (;;) {
		ssize_t n = read(fd, data + len, SECRET_MAX_SIZE + 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;

			close(fd);
			explicit_bzero(data, SECRET_MAX_SIZE + 1);
			free(data);
			errno = e;
			return error_errno("cannot read secret file '%s'", path);
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > SECRET_MAX_SIZE)
			break;
	}
	close(fd);
	if (len > SECRET_MAX_SIZE) {
		explicit_bzero(data, SECRET_MAX_SIZE + 1);
		free(data);
		return error("secret file '%s' is over %d bytes", path, SECRET_MAX_SIZE);
	}
	if (len && data[len - 1] == '\n')
		len--;
	if (len && data[len - 1] == '\r')
		len--;
	if (!len) {
		explicit_bzero(data, SECRET_MAX_SIZE + 1);
		free(data);
		return error("secret file '%s' is empty", path);
	}
	explicit_bzero(data + len, SECRET_MAX_SIZE + 1 - len);
	data[len] = '\0';
	s->data = data;
	s->len = len;
	return 0;
}

void secret_set(struct secret *s, const void *data, size_t len)
{
	secret_release(s);
	s->data = xmalloc(len + 1);
	memcpy(s->data, data, len);
	s->data[len] = '\0';
	s->len = len;
}

int secret_decode_whsec(struct secret *s)
{
	unsigned char *key;
	int n;

	if (s->len < 6 || memcmp(s->data, "whsec_", 6))
		return 0;
	key = xmalloc(s->len);
	n = base64_decode((const char *)s->data + 6, s->len - 6, key, s->len);
	if (n <= 0) {
		explicit_bzero(key, s->len);
		free(key);
		return error("a whsec_ secret is not valid base64");
	}
	secret_release(s);
	s->data = key;
	s->len = (size_t)n;
	return 0;
}

void secret_release(struct secret *s)
{
	if (s->data) {
		explicit_bzero(s->data, s->len);
		free(s->data);
	}
	s->data = NULL;
	s->len = 0;
}

int hmac_sign_generic(const struct secret *s, long long timestamp,
		      const void *body, size_t len, char out[HMAC_GENERIC_SIG_SIZE])
{
	char ts[32];
	struct hmac_part parts[3];
	unsigned char mac[SHA256_DIGEST_SIZE];

	snprintf(ts, sizeof(ts), "%lld", timestamp);
	parts[0].data = ts;
	parts[0].len = strlen(ts);
	parts[1].data = ".";
	parts[1].len = 1;
	parts[2].data = body;
	parts[2].len = len;
	sha256_hmac(s->data, s->len, parts, 3, mac);
	memcpy(out, "sha256=", 7);
	hex_encode(mac, sizeof(mac), out + 7);
	return 0;
}
