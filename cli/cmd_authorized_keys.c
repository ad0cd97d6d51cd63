/* cmd_authorized_keys.c - `entra-login authorized-keys USER TYPE BLOB`, sshd's
 * AuthorizedKeysCommand (%u %t %k) for directory users (design section 6).
 *
 * Order: non-certificate key types leave at once. Then the whole
 * certificate is verified (certverify: fields, tenant, validity, principal =
 * USER, CA key, RSA signature) and the name's binding is checked, before
 * anything is written or a role source is asked. Then the role (the
 * role_sources minus claims: there is no token), the binding name <-> oid+tid
 * (the UID must equal the one NSS announced to sshd), the grant record PAM
 * account checks, and only then exactly one line
 *   cert-authority,principals="<principal>" ssh-rsa <CA key>
 * so sshd repeats the cryptographic checks itself. Anything else prints
 * nothing. Each refusal is one authpriv log line (and the same on stderr,
 * which sshd discards). Decisions are cached for a minute (ak_cache.c).
 * Exit 0 either way; 2 on a usage error.
 */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "ak_cache.h"
#include "certgrant.h"
#include "certverify.h"
#include "cmds.h"
#include "conf.h"
#include "el_limits.h"
#include "roles.h"
#include "sshcert.h"
#include "userdb.h"

static void refuse(const char *user, const char *oid, int code, const char *why)
{
	syslog(LOG_AUTHPRIV | LOG_NOTICE, "certificate for %.64s%s%.36s refused: %s (%s)", user,
	       oid && *oid ? " oid " : "", oid ? oid : "", why ? why : el_strerror(code), el_errname(code));
	fprintf(stderr, "entra-login authorized-keys: refused %.64s: %s (%s)\n", user,
		why ? why : el_strerror(code), el_errname(code));
}

/* cfg with claims removed from role_sources (a shallow copy: borrowed fields). */
static size_t cert_role_config(const struct el_config *cfg, struct el_config *out)
{
	*out = *cfg;
	out->n_role_sources = 0;
	for (size_t i = 0; i < cfg->n_role_sources; i++)
		if (cfg->role_sources[i] != EL_SRC_CLAIMS)
			out->role_sources[out->n_role_sources++] = cfg->role_sources[i];
	return out->n_role_sources;
}

static enum udb_role udb_role_of(enum el_role role)
{
	return role == EL_ROLE_ADMIN ? UDB_ROLE_ADMIN : role == EL_ROLE_USER ? UDB_ROLE_USER : UDB_ROLE_NONE;
}

/* True if name is already bound to oid+tid with this role and uid: nothing to write. */
static bool already_recorded(const struct el_config *cfg, const char *name, const char *oid, const char *tid,
			     enum udb_role role, uid_t uid)
{
	struct udb *db = NULL;
	struct udb_user u;
	uint8_t o[16], t[16];
	bool same = false;

	if (udb_guid_parse(oid, o) < 0 || udb_guid_parse(tid, t) < 0 || udb_open(cfg, &db) < 0)
		return false;
	if (udb_lookup_name(db, name, &u) == 0)
		same = u.bound && memcmp(u.oid, o, 16) == 0 && memcmp(u.tid, t, 16) == 0 && u.role == role &&
		       u.uid == uid;
	udb_close(db);
	return same;
}

/* The decision for a verified certificate: 0 and *line, or a refusal. */
static int decide(const struct el_config *cfg, const char *user, const char *b64, time_t now, char *line,
		  size_t linelen, char *oid_out)
{
	struct sshcert *cert = NULL;
	struct certverify_result cv = { 0 };
	struct el_config rcfg;
	struct role_input in = { 0 };
	struct role_result res;
	struct passwd *pw;
	uid_t expect_uid;
	uint32_t uid = 0;
	int r;

	r = sshcert_parse_b64(b64, strlen(b64), &cert);
	if (r < 0) {
		refuse(user, NULL, r, NULL);
		return r;
	}
	r = certverify(cfg, cert, user, now, true, &cv);
	snprintf(oid_out, 37, "%s", cv.oid);
	if (r < 0) {
		refuse(user, cv.oid, r, NULL);
		goto out;
	}
	r = udb_check_binding(cfg, cv.name, cv.oid, cv.tid);
	if (r < 0) {
		refuse(user, cv.oid, r, NULL);
		goto out;
	}
	if (cert_role_config(cfg, &rcfg) == 0) {
		r = EL_ERR_CERT_NO_ROLE_SOURCE;
		refuse(user, cv.oid, r, "role_sources has only 'claims'; certificate logins need 'arm' or 'static'");
		goto out;
	}
	/* Verified: from here on roles may be asked and state written. */
	in.name = cv.name;
	in.oid = cv.oid;
	in.have_claims = false;
	r = roles_resolve(&rcfg, &in, 0, &res);
	if (r < 0) {
		refuse(user, cv.oid, r, NULL);
		goto out;
	}
	pw = getpwnam(cv.name);
	if (!pw) {
		r = EL_ERR_NOT_OURS;
		refuse(user, cv.oid, r, "NSS does not resolve the name");
		goto out;
	}
	expect_uid = pw->pw_uid;
	if (already_recorded(cfg, cv.name, cv.oid, cv.tid, udb_role_of(res.role), expect_uid)) {
		uid = expect_uid;	/* PAM account records the login itself: skip a locked, fsynced write */
		goto grant;
	}
	/* The UID must be the one NSS announced to sshd: the writer refuses
	 * (EL_ERR_UID_CHANGED, nothing written) rather than bind another one. */
	r = udb_record_login_expect(cfg, cv.name, cv.oid, cv.tid, NULL, udb_role_of(res.role), (int64_t)now,
				    expect_uid, &uid);
	if (r < 0) {
		refuse(user, cv.oid, r, NULL);
		goto out;
	}
grant:
	r = certgrant_record(cfg, cv.name, cv.oid, now);
	if (r == EL_ERR_IO) {
		/* The grant is bookkeeping, a minute's note for PAM account: with the
		 * state directory full or read-only it goes to EL_RUNDIR (tmpfs, root
		 * only), which account also reads. One warning names the cause. */
		struct el_config rcfg_run = *cfg;
		int e = errno;
		bool warned;

		rcfg_run.state_dir = (char *)EL_RUNDIR;
		/* sshd asks twice per key (query, signed attempt): warn once a minute */
		warned = certgrant_recent(&rcfg_run, cv.name, now) == 0;
		r = certgrant_record(&rcfg_run, cv.name, cv.oid, now);
		if (r == 0 && !warned)
			syslog(LOG_AUTHPRIV | LOG_WARNING, "certificate for %s oid %s: grant kept in %s, the state "
			       "directory cannot be written: %s", cv.name, cv.oid, EL_RUNDIR, strerror(e));
		else
			errno = e;
	}
	if (r < 0) {
		char why[160];

		/* Name the cause (a full or read-only state directory), not "I/O error". */
		snprintf(why, sizeof(why), "could not record the grant for PAM account: %s",
			 r == EL_ERR_IO ? strerror(errno) : el_strerror(r));
		refuse(user, cv.oid, r, why);
		goto out;
	}
	if ((size_t)snprintf(line, linelen, "cert-authority,principals=\"%s\" %s", cert->principal, cv.ca_line) >=
	    linelen) {
		r = EL_ERR_RANGE;
		refuse(user, cv.oid, r, NULL);
		goto out;
	}
	syslog(LOG_AUTHPRIV | LOG_INFO, "certificate for %s oid %s granted: role %s (source %s), CA key %s",
	       cv.name, cv.oid, roles_name(res.role), roles_source_name(res.source), cv.ca_kid);
	r = 0;
out:
	certverify_result_clear(&cv);
	sshcert_free(cert);
	return r;
}

int cmd_authorized_keys(const struct el_config *cfg, int argc, char **argv)
{
	const char *user, *type, *blob;
	char line[AK_LINE_MAX], oid[37] = "";
	time_t now;
	int code, r;

	if (argc != 4) {
		fprintf(stderr, "usage: entra-login authorized-keys USER TYPE BASE64-KEY\n");
		return 2;
	}
	user = argv[1];
	type = argv[2];
	blob = argv[3];
	if (!sshcert_is_cert_type(type))
		return 0;	/* plain keys: not ours to decide, at once */
	openlog("entra-login", LOG_PID, LOG_AUTHPRIV);
	if (strcmp(type, SSHCERT_TYPE) != 0) {
		refuse(user, NULL, EL_ERR_CERT_KEY_TYPE, NULL);
		goto done;
	}
	if (strnlen(user, EL_NAME_MAX + 1) > EL_NAME_MAX) {
		refuse("(long name)", NULL, EL_ERR_NOT_OURS, NULL);
		goto done;
	}
	if (strnlen(blob, SSHCERT_B64_MAX + 1) > SSHCERT_B64_MAX) {
		refuse(user, NULL, EL_ERR_CERT_TOO_BIG, NULL);
		goto done;
	}
	now = time(NULL);
	if (ak_cache_get(cfg, user, blob, now, &code, line, sizeof(line)) == 0) {
		if (code == 0)
			printf("%s\n", line);
		else
			refuse(user, NULL, code, NULL);
		goto done;
	}
	r = decide(cfg, user, blob, now, line, sizeof(line), oid);
	/* Only a verified certificate's decision is cached: garbage is not worth a file. */
	if (oid[0] && r != EL_ERR_NOMEM && r != EL_ERR_HTTP_TIMEOUT && r != EL_ERR_ROLE_UNAVAILABLE &&
	    (r == 0 || r == EL_ERR_ROLE_NONE || r == EL_ERR_BOUND_OTHER))
		(void)ak_cache_put(cfg, user, blob, now, r, r == 0 ? line : NULL);
	if (r == 0)
		printf("%s\n", line);
done:
	fflush(stdout);
	closelog();
	return 0;
}
