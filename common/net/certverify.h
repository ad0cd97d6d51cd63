/* certverify.h - one Entra SSH certificate checked completely: fields and
 * policy (sshcert_check), CA key in the trusted set (sshca), RSA signature.
 * The only network access is sshca_refresh when the certificate is
 * otherwise valid but names a CA key we do not know (or the set is stale),
 * which jwks.c limits to one a minute per host. Used by `authorized-keys`
 * and `verify-cert`. No logging.
 */
#ifndef EL_CERTVERIFY_H
#define EL_CERTVERIFY_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "conf.h"
#include "el_limits.h"
#include "err.h"
#include "sshcert.h"

struct certverify_result {
	char name[EL_NAME_MAX + 1];	/* lower-cased principal (on 0) */
	char oid[37], tid[37];		/* from the key id, lower case (once parsed) */
	char ca_kid[129];	/* kid of the CA key that signed (if known) */
	char *ca_line;			/* "ssh-rsa BASE64" of the CA key (on 0; caller frees) */
	bool refreshed;			/* a JWKS refresh was attempted */
};

/* Verify cert for user (NULL = any directory name) at now. allow_refresh:
 * may fetch the JWKS once for an unknown CA key. Returns 0 or the first
 * refusal (EL_ERR_CERT_*, EL_ERR_NOMEM, ...). res is filled as far as known. */
int certverify(const struct el_config *cfg, const struct sshcert *cert, const char *user, time_t now,
	       bool allow_refresh, struct certverify_result *res) EL_MUST_CHECK;

void certverify_result_clear(struct certverify_result *res);

#endif
