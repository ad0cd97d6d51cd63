/* b64url.c - strict base64url decoder. */
#include <stdlib.h>

#include "b64url.h"

/* 0-63 for alphabet characters, 64 for everything else. */
static unsigned char val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return (unsigned char)(c - 'A');
	if (c >= 'a' && c <= 'z')
		return (unsigned char)(c - 'a' + 26);
	if (c >= '0' && c <= '9')
		return (unsigned char)(c - '0' + 52);
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return 64;
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
