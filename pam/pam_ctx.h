/* pam_ctx.h - state shared by the PAM module's files for one pam_sm_* call. */
#ifndef EL_PAM_CTX_H
#define EL_PAM_CTX_H

#include <stdbool.h>
#include <security/pam_modules.h>

#include "conf.h"

enum pam_entra_mode { MODE_AUTO, MODE_DEVICE, MODE_TOKEN };

struct pam_ctx {
	pam_handle_t *pamh;
	struct el_config *cfg;		/* owned */
	const char *user;		/* borrowed from PAM */
	const char *rhost;		/* borrowed, never NULL */
	const char *service;		/* borrowed, never NULL */
	enum pam_entra_mode mode;
	bool debug;
	bool silent;			/* PAM_SILENT: no info text */
};

/* Data key under which a successful auth leaves its claims for account/session. */
#define PAM_ENTRA_DATA_CLAIMS "pam_entra_claims"

/* Parse argv and load the configuration. Returns a PAM code: PAM_SUCCESS,
 * PAM_IGNORE (not a directory user: leave the stack alone), or an error. */
int pamctx_open(struct pam_ctx *ctx, pam_handle_t *pamh, int flags, int argc, const char **argv);
void pamctx_close(struct pam_ctx *ctx);

/* Map an EL_ERR_* to a PAM code (the one place this happens). */
int el_to_pam(int r);

/* Log one event with user, rhost and reason (authpriv). Never pass a token. */
void pamctx_log(const struct pam_ctx *ctx, int prio, const char *event, const char *oid, int r);

#endif
