/* fuzz_b64url - the strict base64url decoder (common/net/b64url.c).
 *
 * Properties checked, not just "no crash":
 *  - decode and decode_alloc agree;
 *  - success means every byte is in the alphabet, the length is not 1 mod 4,
 *    and re-encoding the output gives back exactly the input (one encoding
 *    per byte string: no padding, no whitespace, no stray low bits);
 *  - an output buffer one byte short is refused (RANGE) or the input is
 *    invalid, and nothing is written past it (ASan: exact-size heap buffers);
 *  - encoding the input as bytes and decoding that round-trips.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "b64url.h"
#include "fuzz_common.h"

#define encode fuzz_b64url_encode

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* The input as text, in a heap block of exactly its size (no NUL). */
	char *in = malloc(size ? size : 1);
	size_t cap = B64URL_DECODED_LEN(size), n = 0, n2 = 0, elen = 0;
	unsigned char *out = malloc(cap ? cap : 1), *alloc = NULL;
	char *enc;
	int r, r2;

	if (!in || !out)
		abort();
	memcpy(in, data, size);
	r = b64url_decode(in, size, out, cap, &n);
	r2 = b64url_decode_alloc(in, size, &alloc, &n2);
	FUZZ_CHECK(r == 0 || r == EL_ERR_INVAL);
	FUZZ_CHECK((r == 0) == (r2 == 0));
	if (r == 0) {
		FUZZ_CHECK(size % 4 != 1);
		FUZZ_CHECK(b64url_is_alphabet(in, size));
		FUZZ_CHECK(n == cap && n2 == n);
		FUZZ_CHECK(memcmp(out, alloc, n) == 0 && alloc[n] == '\0');
		enc = encode(out, n, &elen);
		FUZZ_CHECK(elen == size && memcmp(enc, in, size) == 0);
		free(enc);
		if (cap > 0) {
			unsigned char *small = malloc(cap - 1 ? cap - 1 : 1);

			if (!small)
				abort();
			FUZZ_CHECK(b64url_decode(in, size, small, cap - 1, &n) == EL_ERR_RANGE);
			free(small);
		}
	}
	free(alloc);
	alloc = NULL;

	/* The other direction: any bytes encode to something that decodes back. */
	enc = encode(data, size, &elen);
	free(out);
	out = malloc(B64URL_DECODED_LEN(elen) ? B64URL_DECODED_LEN(elen) : 1);
	if (!out)
		abort();
	FUZZ_CHECK(b64url_decode(enc, elen, out, B64URL_DECODED_LEN(elen), &n) == 0);
	FUZZ_CHECK(n == size && memcmp(out, data, size) == 0);
	free(enc);
	free(out);
	free(in);
	return 0;
}
