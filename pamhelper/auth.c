/* auth.c - pam_sm_authenticate's flow: choose the method, validate, bind.
 *
 * Whatever the method, a login succeeds only when a fully validated token
 * names exactly ctx->user and the name is not bound to another object id.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "auth.h"
#include "authz.h"
#include "conv.h"
#include "err.h"
#include "jwt.h"
#include "userdb.h"

/* Only a refused token earns "get a new token": anything else the host did
 * wrong says so, or the user retries with a fresh token in vain. */
static bool token_refused(int r)
{
	return (r <= EL_ERR_TOKEN_TOO_LONG && r >= EL_ERR_TOKEN_CLAIM_TYPE) || r == EL_ERR_TOKEN_KIND ||
	       r == EL_ERR_TOKEN_NAME || r == EL_ERR_NOT_OURS;
}

static const char *user_message(int r)
{
	if (r == EL_ERR_LOCK)
		return "Sign-in could not be completed: the user database stayed busy (other sign-ins or an "
		       "entra-login command hold it); connect again in a moment.";
	if (r == EL_ERR_DB_NOSPACE || r == EL_ERR_DB_READONLY || r == EL_ERR_DB_WRITE || r == EL_ERR_UID_PINNED ||
	    r == EL_ERR_POSIX_ATTR)
		return authz_message(r);	/* not "Entra ID cannot be reached": name the cause */
	switch (el_to_pam(r)) {
	case PAM_AUTHINFO_UNAVAIL:
		return "Entra ID cannot be reached from this host right now; try again later or use a local account.";
	case PAM_PERM_DENIED:
		return "Access denied: you need the Azure role \"Virtual Machine Administrator Login\" or "
		       "\"Virtual Machine User Login\" on this machine.";
	default:
		break;
	}
	switch (r) {
	case EL_ERR_TOKEN_USER_MISMATCH:
		return "Sign-in refused: the token belongs to another user; sign in as the user you log in as.";
	case EL_ERR_TOKEN_EXPIRED:
	case EL_ERR_TOKEN_TOO_OLD:
		return "Sign-in refused: the token is too old; get a fresh token and try again.";
	case EL_ERR_BOUND_OTHER:
		return "Sign-in refused: this user name belongs to another directory account on this host; ask an administrator.";
	case EL_ERR_NAME_RETIRED:
	case EL_ERR_NAME_BLOCKED:
		return "Sign-in refused: this user name is retired or blocked on this host; ask an administrator.";
	case EL_ERR_UID_CHANGED:
		return "Sign-in refused: another first sign-in took this user's id meanwhile; connect again.";
	case EL_ERR_DEVICE_DECLINED:
		return "Sign-in was declined in the browser.";
	case EL_ERR_DEVICE_EXPIRED:
	case EL_ERR_DEVICE_TIMEOUT:
		return "The sign-in code expired before sign-in completed; connect again for a new code.";
	default:
		break;
	}
	return "Sign-in failed because of a problem on this host, not your account; tell an administrator "
	       "(the reason is in the system log).";
}

/* A refused token says which check refused it (expired, too old and another
 * user's have messages of their own): the user holds the token and can see
 * its claims anyway, and "audience not accepted" tells them (and the
 * administrator they ask) what to fix. Nothing of the token is echoed. */
static void refusal_message(const struct hctx *ctx, int r)
{
	char msg[256];

	if (!token_refused(r) || r == EL_ERR_TOKEN_USER_MISMATCH || r == EL_ERR_TOKEN_EXPIRED ||
	    r == EL_ERR_TOKEN_TOO_OLD) {
		conv_error(ctx, user_message(r));
		return;
	}
	snprintf(msg, sizeof(msg), "Sign-in refused: the token is not valid for this host (%s); get a new token "
		 "and try again.", el_strerror(r));
	conv_error(ctx, msg);
}

/* One name per directory object: a new UPN for an object bound to another
 * name is refused until an administrator renames it; say which command. */
static void oid_other_name_refusal(const struct hctx *ctx, const struct jwt_claims *claims)
{
	char bound[EL_NAME_MAX + 1], msg[512];

	if (udb_name_of_oid(ctx->cfg, claims->oid, claims->tid, bound, sizeof(bound)) < 0 ||
	    udb_oid_other_name_message(msg, sizeof(msg), bound, claims->name) < 0) {
		conv_error(ctx, user_message(EL_ERR_BOUND_OTHER));
		return;
	}
	hlog(ctx, LOG_NOTICE, "login refused: user '%.64s' oid=%.36s is bound to '%.64s' on this host "
	     "(an administrator runs: entra-login rename %.64s %.64s)", claims->name, claims->oid, bound, bound,
	     claims->name);
	conv_error(ctx, msg);
}

/* Auto mode: one prompt offers both ways. An empty answer means "device code". */
static int auth_auto(struct hctx *ctx, struct jwt_claims **ret_claims)
{
	char *answer = NULL;
	int r;

	r = conv_prompt(ctx, "Press Enter to sign in with a code in your browser, or paste an Entra ID token "
			     "(part 1, empty line to finish): ", &answer);
	if (r < 0)
		return r;
	if (answer[0] == '\0') {
		secret_free(answer);
		return auth_device(ctx, ret_claims);
	}
	return auth_token(ctx, answer, ret_claims);
}

int auth_token(struct hctx *ctx, char *first_part, struct jwt_claims **ret_claims)
{
	struct el_keys *keys = NULL;
	char *token = NULL;
	size_t len = 0;
	int r;

	r = conv_read_token(ctx, first_part, &token, &len);
	if (r < 0)
		goto out;
	r = keys_open(ctx->cfg, &keys);
	if (r < 0)
		goto out;
	r = jwt_validate(ctx->cfg, keys, token, len, JWT_ACCESS_TOKEN, ctx->user, time(NULL), ret_claims);
out:
	keys_free(keys);
	secret_free(token);
	return r;
}

int auth_run(struct hctx *ctx)
{
	struct jwt_claims *claims = NULL;
	int r;

	switch (ctx->mode) {
	case MODE_TOKEN:
		r = auth_token(ctx, NULL, &claims);
		break;
	case MODE_DEVICE:
		r = auth_device(ctx, &claims);
		break;
	default:
		r = auth_auto(ctx, &claims);
		break;
	}
	if (r == 0)
		r = auth_bind_and_authorize(ctx, claims);
	if (r < 0) {
		hctx_log(ctx, el_to_pam(r) == PAM_AUTHINFO_UNAVAIL ? LOG_ERR : LOG_NOTICE,
			   "authentication failed", claims ? claims->oid : NULL, r);
		if (r == EL_ERR_OID_OTHER_NAME && claims)
			oid_other_name_refusal(ctx, claims);
		else if (r != EL_ERR_ABORTED)
			refusal_message(ctx, r);
		jwt_claims_free(claims);
		/* A PAM_IGNORE here (a token naming something that is not a directory
		 * name) is turned into PAM_AUTH_ERR by pam_entra.so, the trust boundary:
		 * the login name is ours, the rest of the stack must not decide. */
		return el_to_pam(r);
	}
	hctx_log(ctx, LOG_INFO, "authenticated", claims->oid, 0);
	jwt_claims_free(claims);
	return PAM_SUCCESS;
}
