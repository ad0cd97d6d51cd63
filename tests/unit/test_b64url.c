/* test_b64url.c - the strict base64url decoder: RFC 4648 vectors, and
 * everything a lenient decoder would let through. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "b64url.h"

static void expect_ok(const char *in, const char *want, size_t wantlen)
{
	unsigned char buf[64];
	unsigned char *heap = NULL;
	size_t len = 99, hlen = 99;

	if (b64url_decode(in, strlen(in), buf, sizeof(buf), &len) != 0)
		fail_msg("refused '%s'", in);
	assert_int_equal(len, wantlen);
	assert_memory_equal(buf, want, wantlen);
	assert_int_equal(b64url_decode_alloc(in, strlen(in), &heap, &hlen), 0);
	assert_int_equal(hlen, wantlen);
	assert_memory_equal(heap, want, wantlen);
	assert_int_equal(heap[hlen], 0);
	free(heap);
}

static void expect_bad(const char *in, size_t inlen)
{
	unsigned char buf[64];
	unsigned char *heap = (unsigned char *)"untouched";
	size_t len = 99;

	if (b64url_decode(in, inlen, buf, sizeof(buf), &len) != EL_ERR_INVAL)
		fail_msg("accepted '%.*s'", (int)inlen, in);
	assert_int_equal(len, 99);	/* outputs untouched on failure */
	assert_int_equal(b64url_decode_alloc(in, inlen, &heap, &len), EL_ERR_INVAL);
	assert_string_equal((char *)heap, "untouched");
}

static void test_b64url_decode_rfc4648_vectors(void **state)
{
	(void)state;
	expect_ok("", "", 0);
	expect_ok("Zg", "f", 1);
	expect_ok("Zm8", "fo", 2);
	expect_ok("Zm9v", "foo", 3);
	expect_ok("Zm9vYg", "foob", 4);
	expect_ok("Zm9vYmE", "fooba", 5);
	expect_ok("Zm9vYmFy", "foobar", 6);
}

static void test_b64url_decode_url_alphabet(void **state)
{
	(void)state;
	expect_ok("-_-_", "\xfb\xff\xbf", 3);	/* '+/+/' in standard base64 */
	expect_ok("AAEC", "\x00\x01\x02", 3);
}

static void test_b64url_decode_rejects_padding(void **state)
{
	(void)state;
	expect_bad("Zg==", 4);
	expect_bad("Zm8=", 4);
	expect_bad("Zg=", 3);
	expect_bad("=", 1);
}

static void test_b64url_decode_rejects_standard_alphabet(void **state)
{
	(void)state;
	expect_bad("+/+/", 4);
	expect_bad("ab+c", 4);
	expect_bad("ab/c", 4);
}

static void test_b64url_decode_rejects_whitespace(void **state)
{
	(void)state;
	expect_bad("Zm9v\n", 5);
	expect_bad("Zm 9v", 5);
	expect_bad(" Zm9v", 5);
	expect_bad("Zm9v\r", 5);
	expect_bad("Zm\t9v", 5);
}

static void test_b64url_decode_rejects_nul_and_high_bytes(void **state)
{
	(void)state;
	expect_bad("Zm\0v", 4);
	expect_bad("Zm\xc3\xa9", 4);
	expect_bad("Zm9.", 4);
}

static void test_b64url_decode_rejects_impossible_length(void **state)
{
	(void)state;
	expect_bad("Z", 1);
	expect_bad("Zm9vY", 5);
}

static void test_b64url_decode_rejects_noncanonical_bits(void **state)
{
	(void)state;
	/* "f" is Zg; Zh..Zv decode to "f" too in a lax decoder. */
	expect_bad("Zh", 2);
	expect_bad("Zv", 2);
	/* "fo" is Zm8; Zm9 sets a bit the last byte cannot hold. */
	expect_bad("Zm9", 3);
	expect_bad("Zm-", 3);
}

static void test_b64url_decode_output_too_small(void **state)
{
	unsigned char buf[2];
	size_t len = 0;

	(void)state;
	assert_int_equal(b64url_decode("Zm9v", 4, buf, sizeof(buf), &len), EL_ERR_RANGE);
	assert_int_equal(b64url_decode("Zm8", 3, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, 2);
}

static void test_b64url_decoded_len_exact(void **state)
{
	(void)state;
	assert_int_equal(B64URL_DECODED_LEN(0), 0);
	assert_int_equal(B64URL_DECODED_LEN(2), 1);
	assert_int_equal(B64URL_DECODED_LEN(3), 2);
	assert_int_equal(B64URL_DECODED_LEN(4), 3);
	assert_int_equal(B64URL_DECODED_LEN(342), 256);	/* an RSA-2048 signature */
}

static void test_b64url_decode_all_bytes_roundtrip(void **state)
{
	/* Every byte value, encoded by hand here, comes back. */
	static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	unsigned char raw[256], out[256];
	char enc[400];
	size_t e = 0, len = 0;

	(void)state;
	for (int i = 0; i < 256; i++)
		raw[i] = (unsigned char)i;
	for (int i = 0; i + 3 <= 255; i += 3) {
		unsigned v = (unsigned)raw[i] << 16 | (unsigned)raw[i + 1] << 8 | raw[i + 2];

		enc[e++] = al[v >> 18 & 63], enc[e++] = al[v >> 12 & 63];
		enc[e++] = al[v >> 6 & 63], enc[e++] = al[v & 63];
	}
	enc[e++] = al[raw[255] >> 2];
	enc[e++] = al[(raw[255] & 3) << 4];
	assert_int_equal(b64url_decode(enc, e, out, sizeof(out), &len), 0);
	assert_int_equal(len, 256);
	assert_memory_equal(out, raw, 256);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_b64url_decode_rfc4648_vectors),
		cmocka_unit_test(test_b64url_decode_url_alphabet),
		cmocka_unit_test(test_b64url_decode_rejects_padding),
		cmocka_unit_test(test_b64url_decode_rejects_standard_alphabet),
		cmocka_unit_test(test_b64url_decode_rejects_whitespace),
		cmocka_unit_test(test_b64url_decode_rejects_nul_and_high_bytes),
		cmocka_unit_test(test_b64url_decode_rejects_impossible_length),
		cmocka_unit_test(test_b64url_decode_rejects_noncanonical_bits),
		cmocka_unit_test(test_b64url_decode_output_too_small),
		cmocka_unit_test(test_b64url_decoded_len_exact),
		cmocka_unit_test(test_b64url_decode_all_bytes_roundtrip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
