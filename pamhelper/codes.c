/* codes.c - the helper's EL_ERR_* -> PAM code mapping and its event log line. */
#include <syslog.h>

#include "err.h"
#include "hctx.h"

int el_to_pam(int r)
{
	switch (r) {
	case 0:
		return PAM_SUCCESS;
	case EL_ERR_NOT_OURS:
		return PAM_IGNORE;
	case EL_ERR_NOMEM:
		return PAM_BUF_ERR;
	case EL_ERR_ABORTED:
	case EL_ERR_DEVICE_ABORTED:
		return PAM_CONV_ERR;
	case EL_ERR_ROLE_NONE:
		return PAM_PERM_DENIED;
	case EL_ERR_CONFIG:
	case EL_ERR_INSECURE:
	case EL_ERR_IO:
	case EL_ERR_LOCK:
	case EL_ERR_DB_NOSPACE:
	case EL_ERR_DB_READONLY:
	case EL_ERR_DB_WRITE:
	case EL_ERR_NEWER_FORMAT:
	case EL_ERR_HTTP_LIB:
	case EL_ERR_HTTP_CONNECT:
	case EL_ERR_HTTP_TIMEOUT:
	case EL_ERR_HTTP_TLS:
	case EL_ERR_HTTP_STATUS:
	case EL_ERR_HTTP_TOO_BIG:
	case EL_ERR_HTTP_SCHEME:
	case EL_ERR_HTTP_REDIRECT:
	case EL_ERR_HTTP_THROTTLED:
	case EL_ERR_JSON:
	case EL_ERR_DISCOVERY:
	case EL_ERR_JWKS:
	case EL_ERR_ROLE_UNAVAILABLE:
	case EL_ERR_ARM_FORBIDDEN:
	case EL_ERR_DEVICE_PROTOCOL:
		return PAM_AUTHINFO_UNAVAIL;
	default:
		return PAM_AUTH_ERR;
	}
}

void hctx_log(const struct hctx *ctx, int prio, const char *event, const char *oid, int r)
{
	hlog(ctx, prio, "%s: user '%.64s' oid=%.36s rhost=%.64s service=%.32s: %s", event,
	     ctx->user ? ctx->user : "?", oid ? oid : "-", ctx->rhost, ctx->service, el_strerror(r));
}
