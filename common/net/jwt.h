/* jwt.h - strict validation of Entra ID tokens (design section 3).
 *
 * One entry point, jwt_validate(), runs every check in a fixed order and
 * returns the first failure as its own EL_ERR_TOKEN_* code:
 *   size (EL_TOKEN_MAX) -> three segments -> strict base64url -> header JSON
 *   object, no duplicate members -> alg exactly "RS256" -> no jku/x5u/jwk/
 *   x5c/crit -> typ absent or "JWT" -> kid present, known (one rate-limited
 *   JWKS refresh) -> key >= 2048 bits -> claims JSON object, no duplicates
 *   -> RS256 signature -> iss -> tid -> aud -> exp -> nbf -> iat ->
 *   token_max_age (access tokens) -> oid -> app-only -> kind (scp present in
 *   access tokens, absent from ID tokens) -> name -> expected name.
 * Header and claims are parsed here (jansson, JSON_REJECT_DUPLICATES); the
 * RS256 signature is checked with OpenSSL EVP (why not libjwt: jwt.c).
 *
 * App-only tokens (refused, EL_ERR_TOKEN_APP_ONLY): "idtyp" == "app" (the
 * optional claim Entra adds on request), or an access token that carries
 * neither "scp" (delegated scopes) nor "upn"/"preferred_username": Entra
 * issues exactly those for the client-credentials grant.
 *
 * Thread-safe as far as the struct el_keys passed in is not shared between
 * threads (a refresh mutates it). Never logs; a token never leaves this
 * module except through the claims copied into struct jwt_claims.
 */
#ifndef EL_JWT_H
#define EL_JWT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "conf.h"
#include "el_limits.h"
#include "err.h"
#include "jwks.h"

enum jwt_kind {
	JWT_ID_TOKEN = 1,	/* from the device flow: aud == client_id, iss v2 only */
	JWT_ACCESS_TOKEN,	/* pasted: aud ours, iss v2 or v1, iat within token_max_age */
};


struct jwt_claims {
	enum jwt_kind kind;
	char name[EL_NAME_MAX + 1];	/* lower-cased upn / preferred_username */
	char oid[EL_GUID_LEN + 1];	/* lower-cased */
	char tid[EL_GUID_LEN + 1];
	char *display_name;		/* "name" claim, NULL if absent */
	int64_t iat, exp;
	bool v1;			/* issued by sts.windows.net (v1 access token) */
	struct el_list roles;		/* app role values */
	struct el_list groups;		/* group object ids; empty on overage */
	bool groups_overage;		/* _claim_names.groups / hasgroups present */
};

/* Validate token[0..len) (need not be NUL-terminated; not modified) of the
 * given kind for cfg, looking keys up in keys (which may refresh once).
 * expect_name: NULL accepts any user, else the token's name must equal it.
 * now: the current time (a parameter so tests control it).
 * On success *ret_claims is new; free with jwt_claims_free().
 * Returns 0, any EL_ERR_TOKEN_* (EL_ERR_TOKEN_NAME: the name is not a
 * syntactically valid user name), EL_ERR_HTTP_* / EL_ERR_JWKS (a needed key
 * refresh failed), EL_ERR_NOMEM, EL_ERR_INVAL. */
int jwt_validate(const struct el_config *cfg, struct el_keys *keys, const char *token, size_t len,
		 enum jwt_kind kind, const char *expect_name, time_t now, struct jwt_claims **ret_claims) EL_MUST_CHECK;

void jwt_claims_free(struct jwt_claims *claims);

#endif
