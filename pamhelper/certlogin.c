/* certlogin.c - PAM account's half of a certificate login (design section
 * 6, certgrant.h): turn the decision `entra-login authorized-keys` left
 * into the binding, the login record and the grant, once sshd has proven
 * possession of the certificate's key.
 *
 * sshd reaches PAM account for a publickey login only after it verified the
 * client's signature with a key authorized_keys (or our cert-authority
 * line) accepted. authorized-keys also runs for the unsigned query, so it
 * only leaves a pending decision; here, after the proof, the decision is
 * consumed (one decision, one login) and recorded for the UID sshd holds
 * for the name (ctx->announced_uid: what NSS first told sshd's process,
 * pam/session.c): the writer refuses another (EL_ERR_UID_CHANGED) and one
 * bound to another oid+tid (EL_ERR_BOUND_OTHER).
 */
#include <stdio.h>
#include <syslog.h>
#include <time.h>

#include "authz.h"
#include "certgrant.h"
#include "certlogin.h"
#include "userdb.h"

int certlogin_consume(struct hctx *ctx)
{
	struct certgrant_pending p;
	time_t now = time(NULL);
	char detail[160];
	int r;

	r = certgrant_pending_take(ctx->cfg, ctx->user, now, &p);
	if (r == EL_ERR_NOT_FOUND || r == EL_ERR_IO) {
		/* authorized-keys leaves the decision in EL_RUNDIR while the state
		 * directory cannot be written (cmd_authorized_keys.c) */
		struct el_config run = *ctx->cfg;

		run.state_dir = (char *)EL_RUNDIR;
		r = certgrant_pending_take(&run, ctx->user, now, &p);
	}
	if (r < 0) {
		snprintf(detail, sizeof(detail), "%s",
			 r == EL_ERR_NOT_FOUND ? "sshd login without a certificate accepted by authorized-keys in the "
						 "last minute" : el_strerror(r));
		hlog(ctx, LOG_NOTICE, "account refused: user '%.64s' rhost=%.64s service=%.32s: %s", ctx->user,
		     ctx->rhost, ctx->service, detail);
		return EL_ERR_NO_CERT_GRANT;
	}
	if (ctx->announced_uid == 0)
		return EL_ERR_UID_CHANGED;	/* main.c refuses it for sshd before this */
	r = authz_posix_provision(ctx, ctx->user, p.oid, p.tid, NULL);	/* issue 21 */
	if (r == 0)
		r = authz_record_login(ctx, ctx->user, p.oid, p.tid, NULL, p.role == 2 ? UDB_ROLE_ADMIN : UDB_ROLE_USER);
	if (r < 0) {
		hctx_log(ctx, LOG_ERR, "certificate login not recorded", p.oid, r);
		return r;
	}
	r = certgrant_record(ctx->cfg, ctx->user, p.oid, now);
	if (r < 0)
		hctx_log(ctx, LOG_WARNING, "certificate grant not recorded (entra-login show)", p.oid, r);
	return 0;
}
