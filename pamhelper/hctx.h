/* hctx.h - state of one helper run (one pam_sm_authenticate or acct_mgmt
 * of pam_entra.so, relayed over the socket of proto.h). */
#ifndef EL_HELPER_CTX_H
#define EL_HELPER_CTX_H

#include <stdbool.h>
#include <stdint.h>
#include <security/_pam_types.h>

#include "conf.h"
#include "el_limits.h"

enum pam_entra_mode { MODE_AUTO, MODE_DEVICE, MODE_TOKEN };

struct hctx {
	int in, out;			/* to the module: fd 0 and fd 1 (one socket) */
	struct el_config *cfg;		/* owned */
	const char *user;		/* from the request, checked: a name of ours */
	const char *rhost;		/* from the request, never NULL */
	const char *service;		/* from the request, never NULL */
	const char *tty;		/* PAM_TTY from the request, "-" if unset */
	enum pam_entra_mode mode;
	bool debug;
	uint32_t announced_uid;		/* uid NSS gave the host for user; 0 = none */
	/* What auth decided, sent back in RESULT for account in the same transaction. */
	char res_oid[EL_GUID_LEN + 1];
	int res_role;			/* 0 none, 1 user, 2 admin */
};

/* Map an EL_ERR_* to a PAM code (the one place this happens). */
int el_to_pam(int r);

/* Log one event with user, rhost and reason (sent to the module, which
 * logs through pam_syslog). Never pass a token. */
void hctx_log(const struct hctx *ctx, int prio, const char *event, const char *oid, int r);
/* printf-style log line through the module. */
void hlog(const struct hctx *ctx, int prio, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
