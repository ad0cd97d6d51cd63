/* main.c - entra-login's PAM helper: the privileged half of pam_entra.so.
 *
 * Installed root-owned as $(LIBEXECDIR)/entra-login/pam-helper and started
 * only by pam_entra.so (pam/helper_run.c), the way pam_unix starts
 * unix_chkpwd: fixed argv, an environment of PATH only, umask 022, sane
 * rlimits, default signals, fds 0/1 = a socket to the module, 2 = /dev/null.
 * Everything that talks to the network (libcurl, OpenSSL, jansson) or
 * writes the state directory runs here, never inside the PAM host.
 *
 * It reads one REQUEST (proto.h), runs auth or account for the user in it,
 * relays prompts and messages through the module, sends one RESULT and
 * exits 0. Anything unexpected: exit 1 without a RESULT (the module fails
 * closed). Run by hand it does nothing useful: stdin must speak proto.h.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "auth.h"
#include "authz.h"
#include "conv.h"
#include "err.h"
#include "localfiles.h"
#include "names.h"
#include "proto.h"
#include "userdb.h"

#define FIELD_MAX 256			/* service, rhost, tty */
#define REQUEST_WAIT_MS 10000

struct request {
	const char *op, *user, *service, *rhost, *tty, *mode, *config;
	bool debug, silent;
	uint32_t announced_uid;
};

static bool short_text(const char *s)
{
	size_t n = strlen(s);

	if (n > FIELD_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] == 0x7f)
			return false;
	return true;
}

static bool flag(const char *s, bool *ret)
{
	if (strcmp(s, "0") != 0 && strcmp(s, "1") != 0)
		return false;
	*ret = s[0] == '1';
	return true;
}

static int parse_request(char *buf, size_t len, struct request *rq)
{
	const char *f[PROTO_REQUEST_FIELDS];
	unsigned long uid;
	char *end;

	if (proto_fields(buf, len, PROTO_REQUEST_FIELDS, f) < 0 || strcmp(f[0], PROTO_VERSION) != 0)
		return -1;
	rq->op = f[1];
	rq->user = f[2];
	rq->service = f[3];
	rq->rhost = f[4];
	rq->tty = f[5];
	rq->mode = f[6];
	rq->config = f[7];
	if (strcmp(rq->op, "auth") != 0 && strcmp(rq->op, "account") != 0)
		return -1;
	if ((!name_syntax_ok(rq->user) && !name_sp_syntax_ok(rq->user)) || !short_text(rq->service) || !short_text(rq->rhost) || !short_text(rq->tty))
		return -1;
	if (strcmp(rq->mode, "auto") != 0 && strcmp(rq->mode, "device") != 0 && strcmp(rq->mode, "token") != 0)
		return -1;
	if (rq->config[0] != '\0' && (rq->config[0] != '/' || !short_text(rq->config)))
		return -1;
	if (!flag(f[8], &rq->debug) || !flag(f[9], &rq->silent))
		return -1;
	errno = 0;
	uid = strtoul(f[10], &end, 10);
	if (errno || end == f[10] || *end || f[10][0] == '-' || uid > UINT32_MAX)
		return -1;
	rq->announced_uid = (uint32_t)uid;
	return 0;
}

static int send_result(const struct hctx *ctx, int code)
{
	static const char *const roles[] = { "none", "user", "admin" };
	const char *fields[PROTO_RESULT_FIELDS];
	char codebuf[16], frame[PROTO_FRAME_MAX];
	long len;

	snprintf(codebuf, sizeof(codebuf), "%d", code);
	fields[0] = codebuf;
	fields[1] = ctx->user;
	fields[2] = code == PAM_SUCCESS ? ctx->res_oid : "";
	fields[3] = code == PAM_SUCCESS && ctx->res_role >= 0 && ctx->res_role <= 2 ? roles[ctx->res_role] : "none";
	len = proto_pack(frame, sizeof(frame), PROTO_RESULT_FIELDS, fields);
	if (len < 0)
		return -1;
	return proto_write(ctx->out, PROTO_RESULT, frame, (size_t)len);
}

/* EL_ERR_NAME_RETIRED / EL_ERR_NAME_BLOCKED if the database withdrew the
 * name (a tombstone or a blocked name), else 0: only for a clearer refusal. */
static int name_withdrawn(const struct hctx *ctx)
{
	struct udb *db = NULL;
	struct udb_user u;
	int r = 0;

	if (udb_open(ctx->cfg, &db) < 0)
		return 0;
	if (udb_lookup_name(db, ctx->user, &u) == 0)
		r = u.retired ? EL_ERR_NAME_RETIRED : u.blocked ? EL_ERR_NAME_BLOCKED : 0;
	udb_close(db);
	return r;
}

static int run(struct hctx *ctx, const struct request *rq)
{
	char err[512];
	int r;

	r = cfg_load(cfg_default_path(rq->config[0] ? rq->config : NULL), &ctx->cfg, err, sizeof(err));
	if (r < 0) {
		hlog(ctx, LOG_ERR, "cannot load configuration: %s", err);
		return PAM_AUTHINFO_UNAVAIL;
	}
	/* The module checked both already; the helper does not take its word for it. */
	if (!name_is_ours(ctx->cfg, ctx->user) || local_user_exists(ctx->user))
		return PAM_IGNORE;
	/* sshd (PAM_TTY "ssh") holds a passwd entry from the connection's start
	 * and runs the session as its UID: a UID the module could not tell is
	 * never "no check" there. */
	if (ctx->announced_uid == 0 && strcmp(ctx->tty, "ssh") == 0) {
		r = name_withdrawn(ctx);
		if (r < 0) {
			/* NSS answers nothing for a retired name: say why, not "unknown". */
			hlog(ctx, LOG_NOTICE, "%s refused: user '%.64s' rhost=%.64s: %s", rq->op, ctx->user, ctx->rhost,
			     el_strerror(r));
			conv_error(ctx, authz_message(r));
		} else {
			hlog(ctx, LOG_ERR, "%s refused: user '%.64s' rhost=%.64s: the host's UID for the name is unknown "
			     "(is 'entra' in the passwd line of /etc/nsswitch.conf?)", rq->op, ctx->user, ctx->rhost);
		}
		return strcmp(rq->op, "auth") == 0 ? PAM_AUTH_ERR : PAM_PERM_DENIED;
	}
	if (strcmp(rq->op, "auth") == 0)
		return auth_run(ctx);
	return account_run(ctx);
}

int main(int argc, char **argv)
{
	struct hctx ctx = { .in = 0, .out = 1, .rhost = "-", .service = "-", .tty = "-" };
	struct request rq = { 0 };
	char *buf = NULL;
	uint8_t type = 0;
	size_t len = 0;
	int code, rc = 1;

	(void)argc;
	(void)argv;
	/* All ids root: the caller of a setuid host may neither signal nor trace us. */
	if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
		return 1;
	umask(022);
	signal(SIGPIPE, SIG_IGN);
	buf = malloc(PROTO_FRAME_MAX + 1);
	if (!buf)
		goto out;
	if (proto_read(ctx.in, proto_now_ms() + REQUEST_WAIT_MS, &type, buf, PROTO_FRAME_MAX + 1, &len) != 0 ||
	    type != PROTO_REQUEST || parse_request(buf, len, &rq) < 0)
		goto out;
	ctx.user = rq.user;
	ctx.service = rq.service;
	ctx.rhost = rq.rhost;
	ctx.tty = rq.tty;
	ctx.debug = rq.debug;
	ctx.announced_uid = rq.announced_uid;
	ctx.mode = strcmp(rq.mode, "token") == 0 ? MODE_TOKEN : strcmp(rq.mode, "device") == 0 ? MODE_DEVICE : MODE_AUTO;
	code = run(&ctx, &rq);
	if (send_result(&ctx, code) == 0)
		rc = 0;
out:
	cfg_free(ctx.cfg);
	free(buf);
	return rc;
}
