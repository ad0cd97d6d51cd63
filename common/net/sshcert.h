/* sshcert.h - Entra-issued OpenSSH user certificates: strict parser and verifier.
 *
 * Why our own reader of the wire format (PROTOCOL.certkeys): OpenSSH has no
 * library API (its sshkey.c is internal to the ssh binaries), and libssh's
 * certificate support is partial (it imports certificates but neither
 * exposes extensions nor verifies the CA signature for a server-side
 * caller). The format is small and fixed, so we read exactly one shape:
 *
 *   string  "ssh-rsa-cert-v01@openssh.com"
 *   string  nonce
 *   mpint   e, n                 user key (RSA, 2048..16384 bits)
 *   uint64  serial
 *   uint32  type                 1 = user (host certificates refused)
 *   string  key id               "<oid>@<tid>", both GUIDs
 *   string  principals           packed strings: exactly one
 *   uint64  valid after, valid before
 *   string  critical options     must be empty
 *   string  extensions           packed (name, data) pairs, data wraps the value
 *                                in one more SSH string; exactly one oid@ and
 *                                one tid@sshservice.azure.net
 *   string  reserved
 *   string  signature key        "ssh-rsa", mpint e, mpint n (the CA)
 *   string  signature            string "rsa-sha2-256|512", string bytes
 *
 * Caps: the blob is at most SSHCERT_BLOB_MAX bytes (Entra's are ~1.5 KB; a
 * 64 KiB blob is refused before it is decoded), every string is bounded by
 * what remains, counts of principals/extensions by SSHCERT_LIST_MAX, key id
 * and principal by SSHCERT_FIELD_MAX. mpints must be positive and minimal
 * (one encoding per number), so a CA key compares byte for byte. Trailing
 * bytes after the signature are refused, as are trailing bytes inside the
 * nested fields.
 *
 * Every refusal has its own EL_ERR_CERT_* code. Stateless, thread-safe,
 * no logging, no I/O.
 */
#ifndef EL_SSHCERT_H
#define EL_SSHCERT_H

#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "conf.h"
#include "err.h"

#define SSHCERT_TYPE "ssh-rsa-cert-v01@openssh.com"
#define SSHCERT_BLOB_MAX (16 * 1024)
#define SSHCERT_B64_MAX ((SSHCERT_BLOB_MAX + 2) / 3 * 4)
#define SSHCERT_FIELD_MAX 256		/* key id, one principal, one extension name */
#define SSHCERT_LIST_MAX 64		/* principals, extensions, critical options */
#define SSHCERT_EXT_OID "oid@sshservice.azure.net"
#define SSHCERT_EXT_TID "tid@sshservice.azure.net"
#define SSHCERT_USER_KEY_MIN_BITS 2048
#define SSHCERT_CA_MIN_BITS 2048

struct sshcert {
	unsigned char *blob;		/* owned copy of the decoded certificate */
	size_t len;
	size_t signed_len;		/* bytes covered by the signature */
	uint64_t serial;
	uint32_t type;
	char key_id[SSHCERT_FIELD_MAX + 1];
	bool key_id_ok;			/* printable, no NUL, within the cap */
	char principal[SSHCERT_FIELD_MAX + 1];	/* the first principal */
	bool principal_ok;		/* no NUL, within the cap */
	size_t n_principals;
	uint64_t valid_after, valid_before;
	size_t n_critical;
	size_t n_oid, n_tid;		/* extensions seen with these names */
	char oid[64], tid[64];		/* unwrapped values (first of each) */
	bool oid_wrapped, tid_wrapped;	/* value was exactly one SSH string */
	const unsigned char *ca_blob;	/* into blob: the signature key */
	size_t ca_len;
	char sig_alg[32];
	const unsigned char *sig;	/* into blob */
	size_t sig_len;
	int user_key_bits;
};

/* Strict standard base64 (with '=' padding, no whitespace) of at most
 * SSHCERT_B64_MAX characters, then sshcert_parse. Returns its codes plus
 * EL_ERR_CERT_BASE64, EL_ERR_CERT_TOO_BIG. */
int sshcert_parse_b64(const char *b64, size_t len, struct sshcert **ret_cert) EL_MUST_CHECK;

/* Structure only (no policy). Returns 0, EL_ERR_CERT_TOO_BIG,
 * EL_ERR_CERT_KEY_TYPE (not an ssh-rsa-cert-v01), EL_ERR_CERT_TRUNCATED,
 * EL_ERR_CERT_TRAILING, EL_ERR_CERT_FORMAT (a nested field malformed),
 * EL_ERR_CERT_USER_KEY (user key not RSA >= 2048 bits), EL_ERR_NOMEM. */
int sshcert_parse(const unsigned char *blob, size_t len, struct sshcert **ret_cert) EL_MUST_CHECK;

/* The policy checks of design section 6 for a login as user (NULL: any
 * directory name) at now, in this order: user type, critical options, key
 * id shape, oid/tid extensions (count, shape, equal to the key id), tenant,
 * validity (with clock_skew), principals (one, safe bytes, lower-cased =
 * user, a directory name of cfg). On 0, name (if non-NULL, EL_NAME_MAX+1
 * bytes) receives the lower-cased principal. */
int sshcert_check(const struct el_config *cfg, const struct sshcert *cert, const char *user, time_t now,
		  char *name) EL_MUST_CHECK;

/* The CA key of the certificate as an RSA EVP_PKEY (caller frees).
 * Returns 0, EL_ERR_CERT_CA_FORMAT, EL_ERR_NOMEM. */
int sshcert_ca_pkey(const struct sshcert *cert, EVP_PKEY **ret_pkey) EL_MUST_CHECK;

/* The RSA signature under ca: rsa-sha2-256 or rsa-sha2-512 only.
 * Returns 0, EL_ERR_CERT_SIG_ALG, EL_ERR_CERT_SIGNATURE, EL_ERR_NOMEM. */
int sshcert_verify_sig(const struct sshcert *cert, EVP_PKEY *ca) EL_MUST_CHECK;

/* An "ssh-rsa" public key blob (string "ssh-rsa", mpint e, mpint n) as an
 * EVP_PKEY. Returns 0, EL_ERR_CERT_CA_FORMAT, EL_ERR_NOMEM. */
int sshcert_rsa_blob_pkey(const unsigned char *blob, size_t len, EVP_PKEY **ret_pkey) EL_MUST_CHECK;

/* The "ssh-rsa" blob for n, e (big-endian magnitudes, leading zeros
 * stripped). Caller frees *ret_blob. Returns 0, EL_ERR_INVAL, EL_ERR_NOMEM. */
int sshcert_rsa_blob(const unsigned char *n, size_t n_len, const unsigned char *e, size_t e_len,
		     unsigned char **ret_blob, size_t *ret_len) EL_MUST_CHECK;

/* Strict standard base64 of at most SSHCERT_B64_MAX characters into a new
 * buffer. Returns 0, EL_ERR_CERT_BASE64, EL_ERR_CERT_TOO_BIG, EL_ERR_NOMEM. */
int sshcert_b64_decode(const char *b64, size_t len, unsigned char **ret_data, size_t *ret_len) EL_MUST_CHECK;

/* Standard base64 with padding into a new NUL-terminated string. */
int sshcert_b64_encode(const unsigned char *data, size_t len, char **ret_text) EL_MUST_CHECK;

/* True for key types sshd may pass that are certificates ("*-cert-v01@openssh.com"). */
bool sshcert_is_cert_type(const char *type);

void sshcert_free(struct sshcert *cert);

#endif
