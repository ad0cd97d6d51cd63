/* session.c - which UID the host will run a directory user's session as,
 * and the checks pam_sm_open_session makes before it opens (pam_ctx.h).
 *
 * A PAM host resolves the user once and keeps that passwd entry: sshd at
 * the connection's first userauth request, long before PAM runs (a
 * connection may be held open across `entra-login rename`, `forget
 * --purge` or another user's first login), su and login before pam_start.
 * A fresh getpwnam in the module sees the database as it is now, not the
 * UID the session will get. Our NSS module remembers, per process, the
 * first UID it gave for a name (_nss_entra_announced_uid); that is the
 * UID the host holds, so the helper is asked to check that one. When our
 * NSS module is not loaded in the host (nscd, or NSS not configured), the
 * module falls back to a lookup now.
 */
#include <dlfcn.h>
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <security/pam_ext.h>

#include "pam_ctx.h"
#include "userdb.h"

#define NSS_SONAME "libnss_entra.so.2"

static bool nss_announced(const char *user, uint32_t *ret_uid)
{
	void *h = dlopen(NSS_SONAME, RTLD_LAZY | RTLD_NOLOAD);
	int (*fn)(const char *, uint32_t *);
	uint32_t uid = 0;
	bool found = false;

	if (!h)
		return false;	/* not loaded in this process: it told the host nothing */
	*(void **)&fn = dlsym(h, "_nss_entra_announced_uid");
	if (fn && fn(user, &uid) == 1 && uid != 0) {
		*ret_uid = uid;
		found = true;
	}
	dlclose(h);
	return found;
}

uint32_t pam_session_uid(const char *user)
{
	struct passwd *pw;
	uint32_t uid = 0;

	if (nss_announced(user, &uid))
		return uid;
	pw = getpwnam(user);
	return pw && pw->pw_uid != 0 ? (uint32_t)pw->pw_uid : 0;
}

static int refuse(struct pam_ctx *ctx, const char *msg, const char *detail)
{
	pam_syslog(ctx->pamh, LOG_ERR, "session refused for directory user '%.64s' rhost=%.64s: %s", ctx->user,
		   ctx->rhost, detail);
	if (!ctx->silent)
		(void)pam_error(ctx->pamh, "%s", msg);
	return PAM_SESSION_ERR;
}

/* The database's UID for the name: 0 and *ret_uid, EL_ERR_NOT_FOUND (no record), or an error. */
static int stored_uid(const struct pam_ctx *ctx, uint32_t *ret_uid)
{
	struct udb *db = NULL;
	struct udb_user u;
	int r;

	r = udb_open(ctx->cfg, &db);
	if (r < 0)
		return r;
	r = udb_lookup_name(db, ctx->user, &u);
	if (r == 0)
		*ret_uid = u.uid;
	udb_close(db);
	return r;
}

int pam_session_check(struct pam_ctx *ctx)
{
	char detail[512], home[4096];
	uint32_t sess, db_uid = 0;
	struct passwd *pw;
	struct stat st;
	int r;

	sess = pam_session_uid(ctx->user);
	pw = getpwnam(ctx->user);
	if (sess == 0 || !pw) {
		snprintf(detail, sizeof(detail), "the host's UID for the name is unknown");
		return refuse(ctx, "Your account cannot be set up on this host right now; ask an administrator.", detail);
	}
	/* The host resolved the name before authentication: the name must still have that UID. */
	if ((uint32_t)pw->pw_uid != sess) {
		snprintf(detail, sizeof(detail), "the session would run as uid %u, but the name now has uid %u "
			 "(renamed, forgotten or re-assigned since this connection looked it up)", (unsigned)sess,
			 (unsigned)pw->pw_uid);
		return refuse(ctx, "Your user name changed hands while you were connecting; connect again.", detail);
	}
	r = stored_uid(ctx, &db_uid);
	if (r == 0 && db_uid != sess) {
		snprintf(detail, sizeof(detail), "the session would run as uid %u, but the user database gives the "
			 "name uid %u", (unsigned)sess, (unsigned)db_uid);
		return refuse(ctx, "Your user name changed hands while you were connecting; connect again.", detail);
	}
	if (r < 0 && r != EL_ERR_NOT_FOUND) {
		snprintf(detail, sizeof(detail), "cannot read the user database: %s", el_strerror(r));
		return refuse(ctx, "Your account cannot be set up on this host right now; ask an administrator.", detail);
	}
	/* A home that exists must be the user's own and writable by nobody else:
	 * never a path another person (a renamed user, a local account) owns. */
	if (snprintf(home, sizeof(home), "%s", pw->pw_dir ? pw->pw_dir : "") >= (int)sizeof(home) || home[0] != '/') {
		snprintf(detail, sizeof(detail), "home directory is not an absolute path");
		return refuse(ctx, "Your home directory cannot be used; ask an administrator.", detail);
	}
	if (stat(home, &st) < 0) {
		if (errno == ENOENT)
			return PAM_SUCCESS;	/* pam_mkhomedir makes it, the user's own */
		snprintf(detail, sizeof(detail), "home directory %.200s: %s", home, strerror(errno));
		return refuse(ctx, "Your home directory cannot be used; ask an administrator.", detail);
	}
	if (!S_ISDIR(st.st_mode) || st.st_uid != (uid_t)sess || (st.st_mode & (S_IWGRP | S_IWOTH))) {
		char msg[512];

		snprintf(detail, sizeof(detail), "home directory %.200s is %s (owner uid %u, mode %04o)", home,
			 !S_ISDIR(st.st_mode) ? "not a directory" : st.st_uid != (uid_t)sess ? "not owned by the user" :
			 "writable by group or others", (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
		snprintf(msg, sizeof(msg), "Your home directory %.200s belongs to someone else or is writable by others; "
			 "ask an administrator.", home);
		return refuse(ctx, msg, detail);
	}
	return PAM_SUCCESS;
}
