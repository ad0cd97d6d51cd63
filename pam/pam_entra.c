/* pam_entra.c - PAM entry points, module arguments, code mapping, logging.
 *
 * Arguments: config=PATH, debug, mode=device|token|auto (default auto).
 * Local users (names that are not directory names of our domains) get
 * PAM_IGNORE from every entry point, so the rest of the stack decides.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "auth.h"
#include "err.h"
#include "names.h"
#include "pam_ctx.h"

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

void pamctx_log(const struct pam_ctx *ctx, int prio, const char *event, const char *oid, int r)
{
	pam_syslog(ctx->pamh, prio, "%s: user '%.64s' oid=%.36s rhost=%.64s service=%.32s: %s", event,
		   ctx->user ? ctx->user : "?", oid ? oid : "-", ctx->rhost, ctx->service, el_strerror(r));
}

static int parse_args(struct pam_ctx *ctx, int argc, const char **argv, const char **ret_config)
{
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "debug") == 0)
			ctx->debug = true;
		else if (strncmp(a, "config=", 7) == 0 && a[7] == '/')
			*ret_config = a + 7;
		else if (strcmp(a, "mode=auto") == 0)
			ctx->mode = MODE_AUTO;
		else if (strcmp(a, "mode=device") == 0)
			ctx->mode = MODE_DEVICE;
		else if (strcmp(a, "mode=token") == 0)
			ctx->mode = MODE_TOKEN;
		else {
			pam_syslog(ctx->pamh, LOG_ERR, "unknown module argument '%.64s'", a);
			return PAM_SERVICE_ERR;
		}
	}
	return PAM_SUCCESS;
}

int pamctx_open(struct pam_ctx *ctx, pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	const char *config = NULL;
	const void *item = NULL;
	char err[512];
	int pr, r;

	memset(ctx, 0, sizeof(*ctx));
	ctx->pamh = pamh;
	ctx->silent = (flags & PAM_SILENT) != 0;
	ctx->rhost = "-";
	ctx->service = "-";
	pr = parse_args(ctx, argc, argv, &config);
	if (pr != PAM_SUCCESS)
		return pr;
	if (pam_get_item(pamh, PAM_RHOST, &item) == PAM_SUCCESS && item)
		ctx->rhost = item;
	if (pam_get_item(pamh, PAM_SERVICE, &item) == PAM_SUCCESS && item)
		ctx->service = item;
	pr = pam_get_user(pamh, &ctx->user, NULL);
	if (pr != PAM_SUCCESS || !ctx->user)
		return PAM_USER_UNKNOWN;
	/* Cheap syntax test first: local users never pay for reading our config. */
	if (!name_syntax_ok(ctx->user))
		return PAM_IGNORE;
	r = cfg_load(cfg_default_path(config), &ctx->cfg, err, sizeof(err));
	if (r < 0) {
		pam_syslog(pamh, LOG_ERR, "cannot load configuration: %s", err);
		return PAM_AUTHINFO_UNAVAIL;
	}
	if (!name_is_ours(ctx->cfg, ctx->user) || local_user_exists(ctx->user)) {
		if (ctx->debug)
			pam_syslog(pamh, LOG_DEBUG, "'%.64s' is not a directory user; ignoring", ctx->user);
		return PAM_IGNORE;
	}
	return PAM_SUCCESS;
}

void pamctx_close(struct pam_ctx *ctx)
{
	cfg_free(ctx->cfg);
	ctx->cfg = NULL;
}

EL_PUBLIC int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct pam_ctx ctx;
	int pr;

	pr = pamctx_open(&ctx, pamh, flags, argc, argv);
	if (pr == PAM_SUCCESS)
		pr = auth_run(&ctx);
	pamctx_close(&ctx);
	return pr;
}

EL_PUBLIC int pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct pam_ctx ctx;
	int pr;

	pr = pamctx_open(&ctx, pamh, flags, argc, argv);
	pamctx_close(&ctx);
	return pr == PAM_SUCCESS ? PAM_SUCCESS : pr;
}

EL_PUBLIC int pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct pam_ctx ctx;
	int pr;

	pr = pamctx_open(&ctx, pamh, flags, argc, argv);
	if (pr == PAM_SUCCESS)
		pr = account_run(&ctx);
	pamctx_close(&ctx);
	return pr;
}

EL_PUBLIC int pam_sm_open_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct pam_ctx ctx;
	int pr;

	pr = pamctx_open(&ctx, pamh, flags, argc, argv);
	if (pr == PAM_SUCCESS)
		pam_syslog(pamh, LOG_INFO, "session opened for directory user '%.64s' rhost=%.64s", ctx.user, ctx.rhost);
	pamctx_close(&ctx);
	return pr;
}

EL_PUBLIC int pam_sm_close_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct pam_ctx ctx;
	int pr;

	pr = pamctx_open(&ctx, pamh, flags, argc, argv);
	if (pr == PAM_SUCCESS)
		pam_syslog(pamh, LOG_INFO, "session closed for directory user '%.64s'", ctx.user);
	pamctx_close(&ctx);
	return pr;
}

EL_PUBLIC int pam_sm_chauthtok(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	(void)pamh; (void)flags; (void)argc; (void)argv;
	/* Directory passwords are changed in Entra, never here. */
	return PAM_IGNORE;
}
