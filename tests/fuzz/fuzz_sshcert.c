/* fuzz_sshcert - the SSH certificate parser and policy checks (common/net/sshcert.c).
 *
 * The input is a raw certificate blob. Properties checked, not just "no crash":
 *  - sshcert_parse returns 0 or one of its documented codes, never another;
 *  - on success every pointer it hands out lies inside the blob, the signed
 *    part ends before the signature, and a blob cut one byte short or given
 *    one trailing byte is refused (TRUNCATED / TRAILING or an earlier code);
 *  - base64 of the input through sshcert_parse_b64 gives the same answer
 *    (the empty string is not base64: BASE64, where the empty blob is TRUNCATED);
 *  - sshcert_check answers 0 or an EL_ERR_CERT_* code, and 0 only with one
 *    principal whose lower-case form is a directory name of the fixed config;
 *  - the signature check under a fixed CA key never accepts (the fuzzer
 *    cannot forge RSA), whatever the input claims.
 */
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "el_limits.h"
#include "fuzz_common.h"
#include "names.h"
#include "sshcert.h"

static struct el_config *cfg;
static EVP_PKEY *ca;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char text[] = "tenant_id = " FUZZ_TENANT "\nclient_id = " FUZZ_CLIENT
				   "\ndomains = contoso.com\nssh_service_principals = yes\n";
	char err[256];

	(void)argc;
	(void)argv;
	if (cfg_parse("fuzz", text, sizeof(text) - 1, &cfg, err, sizeof(err)) < 0)
		abort();
	ca = EVP_RSA_gen(2048);
	if (!ca)
		abort();
	return 0;
}

static bool parse_code_ok(int r)
{
	return r == 0 || r == EL_ERR_CERT_TOO_BIG || r == EL_ERR_CERT_KEY_TYPE || r == EL_ERR_CERT_TRUNCATED ||
	       r == EL_ERR_CERT_TRAILING || r == EL_ERR_CERT_FORMAT || r == EL_ERR_CERT_USER_KEY;
}

static bool inside(const struct sshcert *c, const unsigned char *p, size_t n)
{
	return p >= c->blob && n <= c->len && (size_t)(p - c->blob) <= c->len - n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sshcert *c = NULL, *c2 = NULL;
	char *b64 = NULL, name[EL_NAME_MAX + 1];
	unsigned char *more;
	int r, r2;

	r = sshcert_parse(data, size, &c);
	FUZZ_CHECK(parse_code_ok(r));
	if (sshcert_b64_encode(data, size, &b64) == 0) {
		r2 = sshcert_parse_b64(b64, strlen(b64), &c2);
		FUZZ_CHECK(r2 == r || (r2 == EL_ERR_CERT_TOO_BIG && size > SSHCERT_BLOB_MAX) ||
			   (r2 == EL_ERR_CERT_BASE64 && size == 0));
		sshcert_free(c2);
		free(b64);
	}
	if (r < 0)
		return 0;
	FUZZ_CHECK(c->len == size && c->signed_len < size);
	FUZZ_CHECK(inside(c, c->ca_blob, c->ca_len) && c->ca_blob + c->ca_len == c->blob + c->signed_len);
	FUZZ_CHECK(inside(c, c->sig, c->sig_len));
	FUZZ_CHECK(c->user_key_bits >= SSHCERT_USER_KEY_MIN_BITS);
	/* one byte short / one byte more */
	c2 = NULL;
	FUZZ_CHECK(sshcert_parse(data, size - 1, &c2) < 0);
	more = malloc(size + 1);
	if (!more)
		abort();
	memcpy(more, data, size);
	more[size] = 0;
	r2 = sshcert_parse(more, size + 1, &c2);
	FUZZ_CHECK(r2 == EL_ERR_CERT_TRAILING || (r2 == EL_ERR_CERT_TOO_BIG && size + 1 > SSHCERT_BLOB_MAX));
	free(more);

	r = sshcert_check(cfg, c, NULL, FUZZ_NOW, name);
	if (r == 0) {
		FUZZ_CHECK(c->n_principals == 1 && c->principal_ok && c->type == 1 && c->n_critical == 0);
		FUZZ_CHECK(name_is_ours(cfg, name));
		FUZZ_CHECK(!strpbrk(name, "\", \n"));
	} else {
		FUZZ_CHECK(r <= EL_ERR_CERT_BASE64 && r >= EL_ERR_CERT_NO_ROLE_SOURCE);
	}
	r = sshcert_verify_sig(c, ca);
	FUZZ_CHECK(r == EL_ERR_CERT_SIG_ALG || r == EL_ERR_CERT_SIGNATURE || r == EL_ERR_NOMEM);
	sshcert_free(c);
	return 0;
}
