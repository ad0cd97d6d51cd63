/* cmd_authorized_keys.c - `entra-login authorized-keys USER TYPE BLOB`, sshd's
 * AuthorizedKeysCommand (%u %t %k) for directory users (design section 6).
 *
 * Order: non-certificate key types leave at once. Then the whole
 * certificate is verified (certverify: fields, tenant, validity, principal =
 * USER, CA key, RSA signature) and the name's binding is checked read-only,
 * before a role source is asked. Then the role (the role_sources minus
 * claims: there is no token), and only then exactly one line
 *   cert-authority,principals="<principal>" ssh-rsa <CA key>
 * so sshd repeats the cryptographic checks itself. Anything else prints
 * nothing. Each refusal is one authpriv log line (and the same on stderr,
 * which sshd discards). Decisions are cached for a minute (ak_cache.c).
 * Exit 0 either way; 2 on a usage error.
 *
 * sshd runs this for the client's UNSIGNED query too: anyone holding a copy
 * of a public certificate can make it run. So it binds nothing, records no
 * login and grants nothing: it leaves a pending decision (name, oid+tid,
 * role; certgrant.h) that PAM account - reached only once sshd verified
 * the signature, i.e. proof of possession of the key - consumes and turns
 * into the binding, the login record (with the UID sshd holds) and the
 * grant. The one write allowed here is a demotion (privilege-reducing).
 */
#include <errno.h>
#include <pwd.h>
#include <stdint.h>
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

/* The decision for a verified certificate: 0 and *d (granted), or a refusal
 * (d->oid set once the certificate was verified). Writes nothing but the
 * pending decision and a demotion (see below): sshd's query is unsigned. */
static int decide(const struct el_config *cfg, const char *user, const char *b64, time_t now,
		  struct ak_decision *d, bool *ret_verified)
{
	struct sshcert *cert = NULL;
	struct certverify_result cv = { 0 };
	struct el_config rcfg;
	struct role_input in = { 0 };
	struct role_result res;
	int r;

	r = sshcert_parse_b64(b64, strlen(b64), &cert);
	if (r < 0) {
		refuse(user, NULL, r, NULL);
		return r;
	}
	r = certverify(cfg, cert, user, now, true, &cv);
	if (r < 0) {
		refuse(user, cv.oid, r, NULL);
		goto out;
	}
	*ret_verified = true;
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
	/* Verified: from here on roles may be asked. */
	in.name = cv.name;
	in.oid = cv.oid;
	in.have_claims = false;
	r = roles_resolve(&rcfg, &in, 0, &res);
	if (r == EL_ERR_ROLE_NONE) {
		/* The token path demotes a user found to hold no role; so does this one.
		 * Safe on sshd's unsigned query: a demotion only takes privilege away, it
		 * is what the role sources say right now (the refresh timer would write
		 * the same), and udb_check_binding passed, so if the name is bound it is
		 * bound to this certificate's oid+tid. */
		int s = udb_set_role(cfg, cv.name, cv.oid, cv.tid, UDB_ROLE_NONE, UDB_SRC_UNKNOWN);

		if (s < 0 && s != EL_ERR_BINDING_CHANGED)
			refuse(user, cv.oid, s, "could not record the demotion");
	}
	if (r < 0) {
		refuse(user, cv.oid, r, NULL);
		goto out;
	}
	if (!getpwnam(cv.name)) {
		r = EL_ERR_NOT_OURS;
		refuse(user, cv.oid, r, "NSS does not resolve the name");
		goto out;
	}
	if ((size_t)snprintf(d->line, sizeof(d->line), "cert-authority,principals=\"%s\" %s", cert->principal,
			     cv.ca_line) >= sizeof(d->line)) {
		r = EL_ERR_RANGE;
		refuse(user, cv.oid, r, NULL);
		goto out;
	}
	memcpy(d->oid, cv.oid, sizeof(d->oid));
	memcpy(d->tid, cv.tid, sizeof(d->tid));
	d->role = res.role == EL_ROLE_ADMIN ? 2 : 1;
	d->valid_after = cert->valid_after > INT64_MAX ? INT64_MAX : (long long)cert->valid_after;
	d->valid_before = cert->valid_before > INT64_MAX ? INT64_MAX : (long long)cert->valid_before;
	syslog(LOG_AUTHPRIV | LOG_INFO, "certificate for %s oid %s granted: role %s (source %s), CA key %s; "
	       "bound and recorded once sshd has verified the signature (PAM account)", cv.name, cv.oid,
	       roles_name(res.role), roles_source_name(res.source), cv.ca_kid);
	r = 0;
out:
	d->code = r;
	certverify_result_clear(&cv);
	sshcert_free(cert);
	return r;
}

/* A granted decision: leave it pending for PAM account (certgrant.h), print the line. */
static void grant(const struct el_config *cfg, const char *user, const struct ak_decision *d, time_t now)
{
	int r = certgrant_pending_put(cfg, user, d->oid, d->tid, d->role, now);

	if (r == EL_ERR_IO) {
		/* The pending decision is a minute's note for PAM account, not state:
		 * with the state directory full or read-only it goes to EL_RUNDIR
		 * (tmpfs, root only), which account also reads (certlogin.c). One
		 * warning per decision (sshd asks twice per key: query, signed). */
		struct el_config run = *cfg;
		int e = errno;
		bool warned;

		run.state_dir = (char *)EL_RUNDIR;
		warned = certgrant_pending_fresh(&run, user, d->oid, now);
		r = certgrant_pending_put(&run, user, d->oid, d->tid, d->role, now);
		if (r == 0 && !warned)
			syslog(LOG_AUTHPRIV | LOG_WARNING, "certificate for %s oid %s: grant kept in %s, the state "
			       "directory cannot be written: %s", user, d->oid, EL_RUNDIR, strerror(e));
		else if (r == EL_ERR_IO)
			errno = e;
	}
	if (r < 0) {
		char why[160];

		/* Name the cause (a full or read-only state directory), not "I/O error". */
		snprintf(why, sizeof(why), "could not leave the decision for PAM account: %s",
			 r == EL_ERR_IO ? strerror(errno) : el_strerror(r));
		refuse(user, d->oid, r, why);
		return;
	}
	printf("%s\n", d->line);
}

int cmd_authorized_keys(const struct el_config *cfg, int argc, char **argv)
{
	const char *user, *type, *blob;
	struct ak_decision *d = NULL;
	bool verified = false;
	time_t now;
	int r;

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
	d = calloc(1, sizeof(*d));
	if (!d) {
		refuse(user, NULL, EL_ERR_NOMEM, NULL);
		goto done;
	}
	if (ak_cache_get(cfg, user, blob, now, d) == 0) {
		if (d->code == 0)
			grant(cfg, user, d, now);
		else
			refuse(user, NULL, d->code, NULL);
		goto done;
	}
	r = decide(cfg, user, blob, now, d, &verified);
	/* Only a verified certificate's decision is cached: garbage is not worth a file. */
	if (verified && (r == 0 || r == EL_ERR_ROLE_NONE || r == EL_ERR_BOUND_OTHER))
		(void)ak_cache_put(cfg, user, blob, now, d);
	if (r == 0)
		grant(cfg, user, d, now);
done:
	free(d);
	fflush(stdout);
	closelog();
	return 0;
}
