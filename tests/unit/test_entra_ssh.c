/* test_entra_ssh.c - entra-ssh's req_cnf (as `az ssh cert` builds it) and the words
 * it prints for Entra's AADSTS refusals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>

#include "../../cli/entra_ssh/es.h"

/* base64url with padding, the Azure CLI's way (urlsafe_b64encode keeps '='). */
static size_t unb64url(const char *in, unsigned char *out)
{
	char std[1024];
	size_t i, n = strlen(in);
	int len;

	assert_true(n < sizeof(std));
	for (i = 0; i < n; i++)
		std[i] = in[i] == '-' ? '+' : in[i] == '_' ? '/' : in[i];
	std[n] = '\0';
	assert_null(strpbrk(in, "+/"));
	len = EVP_DecodeBlock(out, (unsigned char *)std, (int)n);
	assert_true(len > 0);
	while (n > 0 && in[n - 1] == '=') {	/* DecodeBlock counts the padding as zero bytes */
		len--;
		n--;
	}
	return (size_t)len;
}

static void test_es_req_cnf_as_az_ssh_cert(void **state)
{
	EVP_PKEY *key = EVP_RSA_gen(2048);
	char *cnf = NULL, *kid = NULL, hex[2 * SHA256_DIGEST_LENGTH + 1];
	unsigned char n[400], e[16], ne[420], dg[SHA256_DIGEST_LENGTH];
	size_t n_len, e_len, i;
	json_t *jwk;

	(void)state;
	assert_non_null(key);
	assert_int_equal(es_req_cnf(key, &cnf, &kid), 0);
	jwk = json_loads(cnf, JSON_REJECT_DUPLICATES, NULL);
	assert_non_null(jwk);
	assert_int_equal(json_object_size(jwk), 4);
	assert_string_equal(json_string_value(json_object_get(jwk, "kty")), "RSA");
	assert_string_equal(json_string_value(json_object_get(jwk, "kid")), kid);
	/* e = 65537: the mpint 01 00 01; n: 2048 bits with the top bit set, so the SSH mpint keeps a
	 * leading 00 (257 bytes) and its base64url ends in one '=' */
	assert_string_equal(json_string_value(json_object_get(jwk, "e")), "AQAB");
	assert_non_null(strchr(json_string_value(json_object_get(jwk, "n")), '='));
	n_len = unb64url(json_string_value(json_object_get(jwk, "n")), n);
	e_len = unb64url("AQAB", e);
	assert_int_equal(n_len, 257);
	assert_int_equal(n[0], 0);
	assert_true(n[1] & 0x80);
	memcpy(ne, n, n_len);
	memcpy(ne + n_len, e, e_len);
	SHA256(ne, n_len + e_len, dg);
	for (i = 0; i < sizeof(dg); i++)
		snprintf(hex + 2 * i, 3, "%02x", dg[i]);
	assert_string_equal(kid, hex);	/* key_id: lower-hex SHA-256 of n || e */
	json_decref(jwk);
	free(cnf);
	free(kid);
	EVP_PKEY_free(key);
}

static void test_es_aadsts_message_translates(void **state)
{
	static const struct {
		const char *error;
		long code;
		const char *want;
	} cases[] = {
		{ "invalid_grant", 50076, "multi-factor authentication" },
		{ "invalid_grant", 50079, "register for multi-factor" },
		{ "invalid_grant", 53003, "Conditional Access" },
		{ "invalid_grant", 65001, "consent missing" },
		{ "invalid_grant", 700082, "run 'entra-ssh cert' again" },
		{ "invalid_grant", 70008, "run 'entra-ssh cert' again" },
		{ "invalid_grant", 50173, "run 'entra-ssh cert' again" },
		{ "invalid_grant", 50058, "not signed in" },
		{ "invalid_grant", 9002313, "no longer accepts your sign-in: run 'entra-ssh cert' again" },
		{ "interaction_required", 1, "sign in interactively" },
		{ "temporarily_unavailable", 90006, "refused" },
		{ NULL, 0, "refused" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (!strstr(es_aadsts_message(cases[i].error, cases[i].code), cases[i].want))
			fail_msg("AADSTS%ld: '%s' lacks '%s'", cases[i].code,
				 es_aadsts_message(cases[i].error, cases[i].code), cases[i].want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_es_req_cnf_as_az_ssh_cert),
		cmocka_unit_test(test_es_aadsts_message_translates),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
