/* pam_ctx.h - state of one pam_sm_* call inside pam_entra.so (the host side:
 * libpam and common/base only; everything else runs in the helper). */
#ifndef EL_PAM_CTX_H
#define EL_PAM_CTX_H

#include <stdbool.h>
#include <stdint.h>
#include <security/pam_modules.h>

#include "conf.h"
#include "el_limits.h"

struct pam_ctx {
	pam_handle_t *pamh;
	struct el_config *cfg;		/* owned */
	const char *user;		/* borrowed from PAM */
	const char *rhost;		/* borrowed, never NULL */
	const char *service;		/* borrowed, never NULL */
	const char *tty;		/* borrowed, never NULL */
	const char *config;		/* config= argument or NULL (default path) */
	const char *helper;		/* helper path (EL_PAM_HELPER or helper=) */
	const char *mode;		/* "auto", "device", "token" */
	bool debug;
	bool silent;			/* PAM_SILENT: no info or error text */
};

/* The decision a successful auth leaves for account in the same transaction. */
#define PAM_ENTRA_DATA_ROLE "pam_entra_role"

struct pam_decision {
	char name[EL_NAME_MAX + 1];
	char oid[EL_GUID_LEN + 1];
	int role;			/* 1 user, 2 admin: only granted decisions are kept */
};

/* What the helper answered. */
struct helper_result {
	int code;			/* PAM code */
	char name[EL_NAME_MAX + 1];
	char oid[EL_GUID_LEN + 1];
	int role;			/* 0 none, 1 user, 2 admin */
};

/* Run the helper for op ("auth" or "account"), relaying its conversation.
 * Returns the PAM code the helper decided (also in *ret), or
 * PAM_AUTHINFO_UNAVAIL when the helper could not be run, died, overran its
 * time or said anything malformed. */
int helper_run(struct pam_ctx *ctx, const char *op, struct helper_result *ret);

/* session.c: the UID the host holds for user (what our NSS module first
 * told this process, else a lookup now; 0 = unknown). */
uint32_t pam_session_uid(const char *user);
/* The checks before a directory user's session opens: the name still has
 * the UID the host resolved (getpwnam now and the user database agree with
 * it), and a home that exists is the user's and not group/world-writable.
 * PAM_SUCCESS, or PAM_SESSION_ERR (logged, and said to the user). */
int pam_session_check(struct pam_ctx *ctx);

#endif
