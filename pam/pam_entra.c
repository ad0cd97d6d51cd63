/* pam_entra.c - PAM entry points, module arguments, the host side of the
 * privilege separation.
 *
 * Arguments: config=PATH, debug, mode=device|token|auto (default auto),
 * helper=/ABSOLUTE/PATH (tests; default EL_PAM_HELPER, set at build time).
 * Local users (names that are not directory names of our domains, and any
 * name in /etc/passwd, checked before the configuration is even read) get
 * PAM_IGNORE from every entry point, so the rest of the stack decides.
 *
 * This file and helper_run.c run inside the PAM host (sshd, setuid su,
 * sudo, cron, login) and use libpam and libc only: reading the config, the
 * name checks, the PAM data of this transaction. Sign-in, role lookups and
 * database writes happen in the helper (helper_run.c explains how it is
 * started and why).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "err.h"
#include "localfiles.h"
#include "names.h"
#include "pam_ctx.h"

#ifndef EL_PAM_HELPER
#define EL_PAM_HELPER "/usr/libexec/entra-login/pam-helper"
#endif

static int parse_args(struct pam_ctx *ctx, int argc, const char **argv)
{
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "debug") == 0)
			ctx->debug = true;
		else if (strncmp(a, "config=", 7) == 0 && a[7] == '/')
			ctx->config = a + 7;
		else if (strncmp(a, "helper=", 7) == 0 && a[7] == '/')
			ctx->helper = a + 7;
		else if (strcmp(a, "mode=auto") == 0)
			ctx->mode = "auto";
		else if (strcmp(a, "mode=device") == 0)
			ctx->mode = "device";
		else if (strcmp(a, "mode=token") == 0)
			ctx->mode = "token";
		else {
			pam_syslog(ctx->pamh, LOG_ERR, "unknown module argument '%.64s'", a);
			return PAM_SERVICE_ERR;
		}
	}
	return PAM_SUCCESS;
}

static int pamctx_open(struct pam_ctx *ctx, pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	const void *item = NULL;
	char err[512];
	int pr, r;

	memset(ctx, 0, sizeof(*ctx));
	ctx->pamh = pamh;
	ctx->silent = (flags & PAM_SILENT) != 0;
	ctx->rhost = "-";
	ctx->service = "-";
	ctx->tty = "-";
	ctx->mode = "auto";
	ctx->helper = EL_PAM_HELPER;
	pr = parse_args(ctx, argc, argv);
	if (pr != PAM_SUCCESS)
		return pr;
	if (pam_get_item(pamh, PAM_RHOST, &item) == PAM_SUCCESS && item)
		ctx->rhost = item;
	item = NULL;
	if (pam_get_item(pamh, PAM_SERVICE, &item) == PAM_SUCCESS && item)
		ctx->service = item;
	item = NULL;
	if (pam_get_item(pamh, PAM_TTY, &item) == PAM_SUCCESS && item)
		ctx->tty = item;
	pr = pam_get_user(pamh, &ctx->user, NULL);
	if (pr != PAM_SUCCESS || !ctx->user)
		return PAM_USER_UNKNOWN;
	/* Cheap tests first: local users never pay for (nor depend on) our config. */
	if ((!name_syntax_ok(ctx->user) && !name_sp_syntax_ok(ctx->user)) || local_user_exists(ctx->user)) {
		if (ctx->debug)
			pam_syslog(pamh, LOG_DEBUG, "'%.64s' is not a directory user; ignoring", ctx->user);
		return PAM_IGNORE;
	}
	r = cfg_load(cfg_default_path(ctx->config), &ctx->cfg, err, sizeof(err));
	if (r < 0) {
		pam_syslog(pamh, LOG_ERR, "cannot load configuration: %s", err);
		return PAM_AUTHINFO_UNAVAIL;
	}
	if (!name_is_ours(ctx->cfg, ctx->user)) {
		if (ctx->debug)
			pam_syslog(pamh, LOG_DEBUG, "'%.64s' is not a directory user; ignoring", ctx->user);
		return PAM_IGNORE;
	}
	return PAM_SUCCESS;
}

static void pamctx_close(struct pam_ctx *ctx)
{
	cfg_free(ctx->cfg);
	ctx->cfg = NULL;
}

static void decision_cleanup(pam_handle_t *pamh, void *data, int status)
{
	(void)pamh;
	(void)status;
	free(data);
}

/* Keep a granted auth decision for account in this transaction. */
static void keep_decision(struct pam_ctx *ctx, const struct helper_result *res)
{
	struct pam_decision *d = calloc(1, sizeof(*d));

	if (!d)
		return;		/* account will ask the helper */
	memcpy(d->name, res->name, sizeof(d->name));
	memcpy(d->oid, res->oid, sizeof(d->oid));
	d->role = res->role;
	if (pam_set_data(ctx->pamh, PAM_ENTRA_DATA_ROLE, d, decision_cleanup) != PAM_SUCCESS)
		free(d);
}

EL_PUBLIC int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct pam_ctx ctx;
	struct helper_result res;
	int pr;

	pr = pamctx_open(&ctx, pamh, flags, argc, argv);
	if (pr == PAM_SUCCESS) {
		/* A fresh auth replaces whatever an earlier one in this handle decided. */
		(void)pam_set_data(pamh, PAM_ENTRA_DATA_ROLE, NULL, NULL);
		pr = helper_run(&ctx, "auth", &res);
		if (pr == PAM_SUCCESS)
			keep_decision(&ctx, &res);
		/* The name is ours: never leave the decision to the rest of the stack. */
		else if (pr == PAM_IGNORE)
			pr = PAM_AUTH_ERR;
	}
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

/* Account (see pamhelper/account.c for the decision without a fresh sign-in):
 * the decision this transaction's own auth made stands; otherwise the helper decides. */
EL_PUBLIC int pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct pam_ctx ctx;
	struct helper_result res;
	const void *data = NULL;
	int pr;

	pr = pamctx_open(&ctx, pamh, flags, argc, argv);
	if (pr != PAM_SUCCESS)
		goto out;
	if (pam_get_data(pamh, PAM_ENTRA_DATA_ROLE, &data) == PAM_SUCCESS && data) {
		const struct pam_decision *d = data;

		/* PAM_USER may have changed since auth: a decision about another name is not ours. */
		if (strcmp(d->name, ctx.user) == 0 && d->role != 0) {
			if (ctx.debug)
				pam_syslog(pamh, LOG_DEBUG, "account: user '%.64s' oid=%.36s: role decided at auth",
					   ctx.user, d->oid);
			pr = PAM_SUCCESS;
			goto out;
		}
	}
	pr = helper_run(&ctx, "account", &res);
	/* The name is ours: "not ours" here (say a local group of that name) is a refusal. */
	if (pr == PAM_IGNORE || pr == PAM_AUTH_ERR)
		pr = PAM_PERM_DENIED;
out:
	pamctx_close(&ctx);
	return pr;
}

EL_PUBLIC int pam_sm_open_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct pam_ctx ctx;
	int pr;

	pr = pamctx_open(&ctx, pamh, flags, argc, argv);
	if (pr == PAM_SUCCESS)
		pr = pam_session_check(&ctx);
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
