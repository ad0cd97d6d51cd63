/* b64url.c - strict base64url decoder. */
#include <stdlib.h>

#include "b64url.h"

/* 0-63 for alphabet characters, 64 for everything else. A table, not
 * branches: token decoding sits on the validation hot path. */
static const unsigned char table[256] = {
	64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64,
	64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64,
	64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 62, 64, 64,
	52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 64, 64, 64, 64, 64, 64,
	64,  0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14,
	15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 64, 64, 64, 64, 63,
	64, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
	41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 64, 64, 64, 64, 64,
	64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64,
	64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64,
	64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64,
	64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64,
	64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64,
	64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64,
	64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64,
	64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64,
};

static unsigned char val(unsigned char c)
{
	return table[c];
}

int b64url_is_alphabet(const char *in, size_t inlen)
{
	for (size_t i = 0; i < inlen; i++)
		if (val((unsigned char)in[i]) == 64)
			return 0;
	return 1;
}

int b64url_decode(const char *in, size_t inlen, unsigned char *out, size_t outcap, size_t *ret_len)
{
	size_t rem = inlen % 4, o = 0, i;
	unsigned char q[4];

	if (rem == 1)
		return EL_ERR_INVAL;
	if (!b64url_is_alphabet(in, inlen))
		return EL_ERR_INVAL;
	if (outcap < B64URL_DECODED_LEN(inlen))
		return EL_ERR_RANGE;
	for (i = 0; i + 4 <= inlen; i += 4) {
		for (int k = 0; k < 4; k++)
			q[k] = val((unsigned char)in[i + k]);
		out[o++] = (unsigned char)(q[0] << 2 | q[1] >> 4);
		out[o++] = (unsigned char)(q[1] << 4 | q[2] >> 2);
		out[o++] = (unsigned char)(q[2] << 6 | q[3]);
	}
	if (rem == 2) {
		q[0] = val((unsigned char)in[i]);
		q[1] = val((unsigned char)in[i + 1]);
		if (q[1] & 0x0f)	/* non-canonical: trailing bits set */
			return EL_ERR_INVAL;
		out[o++] = (unsigned char)(q[0] << 2 | q[1] >> 4);
	} else if (rem == 3) {
		q[0] = val((unsigned char)in[i]);
		q[1] = val((unsigned char)in[i + 1]);
		q[2] = val((unsigned char)in[i + 2]);
		if (q[2] & 0x03)
			return EL_ERR_INVAL;
		out[o++] = (unsigned char)(q[0] << 2 | q[1] >> 4);
		out[o++] = (unsigned char)(q[1] << 4 | q[2] >> 2);
	}
	*ret_len = o;
	return 0;
}

int b64url_decode_alloc(const char *in, size_t inlen, unsigned char **ret_out, size_t *ret_len)
{
	unsigned char *buf = NULL;
	size_t n = 0;
	int r;

	buf = malloc(B64URL_DECODED_LEN(inlen) + 1);
	if (!buf)
		return EL_ERR_NOMEM;
	r = b64url_decode(in, inlen, buf, B64URL_DECODED_LEN(inlen), &n);
	if (r < 0)
		goto out;
	buf[n] = '\0';
	*ret_out = buf;
	*ret_len = n;
	buf = NULL;
out:
	free(buf);
	return r;
}
