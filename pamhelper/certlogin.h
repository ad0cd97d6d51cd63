/* certlogin.h - PAM account consumes the decision authorized-keys left (certlogin.c). */
#ifndef EL_HELPER_CERTLOGIN_H
#define EL_HELPER_CERTLOGIN_H

#include "hctx.h"

/* For a publickey login through sshd (PAM_TTY "ssh"): take the pending
 * decision for ctx->user and record the login (binding on a first login).
 * 0, or EL_ERR_NO_CERT_GRANT (none from the last minute; logged),
 * EL_ERR_UID_CHANGED, EL_ERR_BOUND_OTHER, EL_ERR_OID_OTHER_NAME, ... */
int certlogin_consume(struct hctx *ctx);

#endif
