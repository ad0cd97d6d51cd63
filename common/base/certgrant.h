/* certgrant.h - the two records between `entra-login authorized-keys` and
 * PAM account for a certificate login (design section 6).
 *
 * The pending decision: authorized-keys answers sshd's query, which is
 * UNSIGNED (anyone holding a copy of a public certificate can make sshd run
 * it), so it changes no state: it only leaves "this name may log in as
 * oid+tid with this role" in {state_dir}/certpending/{name}. PAM account
 * runs only after sshd verified the signature (proof of possession of the
 * certificate's key) and consumes it (certgrant_pending_take): only then is
 * the name bound, the login recorded and the grant below written. A
 * publickey login of a directory user passes account only with a pending
 * decision from the last CERTGRANT_WINDOW seconds (an authorized_keys file
 * an admin adds for a directory name never bypasses the role decision).
 * File: "VERSION OID TID ROLE TIME\n" (CERTPENDING_VERSION; ROLE 1 user,
 * 2 admin, 0 conflict: certificates of two objects for the name within the
 * window - account cannot tell whose signature sshd checked, so it refuses);
 * a newer version is refused, never misread.
 *
 * The grant: "USER logged in with a certificate at TIME" ("oid time\n"),
 * written by account once it consumed a decision; `show` prints it.
 *
 * One file per user: {state_dir}/certgrant/{name}, root-owned, 0600, in a
 * root-owned 0700 directory, holding "oid time\n". Names are directory
 * names (name_syntax_ok or a GUID): no '/', never "." or "..".
 * libc only (the PAM module links it). Thread-safe, no logging.
 */
#ifndef EL_CERTGRANT_H
#define EL_CERTGRANT_H

#include <time.h>

#include "conf.h"
#include "err.h"

#define CERTGRANT_DIR "certgrant"
#define CERTGRANT_WINDOW 60	/* seconds a pending decision stays good */
#define CERTPENDING_DIR "certpending"
#define CERTPENDING_VERSION 1

struct certgrant_pending {
	char oid[37], tid[37];		/* lower-case GUIDs */
	int role;			/* 1 user, 2 admin */
	long long at;			/* when authorized-keys decided */
};

/* Leave a pending decision for user (role 1 or 2). Returns 0, EL_ERR_INVAL
 * (bad name, oid, tid or role), EL_ERR_RANGE, EL_ERR_IO, EL_ERR_INSECURE. */
int certgrant_pending_put(const struct el_config *cfg, const char *user, const char *oid, const char *tid, int role,
			  time_t now) EL_MUST_CHECK;

/* True if user has a fresh, unconflicted pending decision for oid (no
 * write; authorized-keys warns once per decision when it must fall back
 * to EL_RUNDIR). */
bool certgrant_pending_fresh(const struct el_config *cfg, const char *user, const char *oid, time_t now);

/* Take (read and remove: one decision, one login) user's pending decision
 * if it is from within CERTGRANT_WINDOW seconds before now (and not from
 * the future beyond clock_skew). Returns 0, EL_ERR_NOT_FOUND (none, or too
 * old: removed too), EL_ERR_BOUND_OTHER (a conflict: two objects), EL_ERR_INSECURE (file or directory not root's and
 * private), EL_ERR_CORRUPT (malformed, or written by a newer entra-login),
 * EL_ERR_INVAL (bad name), EL_ERR_IO. */
int certgrant_pending_take(const struct el_config *cfg, const char *user, time_t now,
			   struct certgrant_pending *ret) EL_MUST_CHECK;

/* Record a grant for user (oid: the directory object). Returns 0,
 * EL_ERR_INVAL (bad name), EL_ERR_RANGE, EL_ERR_IO. */
int certgrant_record(const struct el_config *cfg, const char *user, const char *oid, time_t now) EL_MUST_CHECK;

/* 0 if a grant for user exists from within CERTGRANT_WINDOW seconds before
 * now (and not from the future beyond clock_skew); EL_ERR_NOT_FOUND if none
 * or too old; EL_ERR_INSECURE if the file or its directory is not root's
 * and private; EL_ERR_INVAL (bad name); EL_ERR_CORRUPT; EL_ERR_IO. */
int certgrant_recent(const struct el_config *cfg, const char *user, time_t now) EL_MUST_CHECK;

/* Time of the user's last grant (any age) into *ret_time: 0, or the codes
 * of certgrant_recent except that age does not matter. For `show`. */
int certgrant_last(const struct el_config *cfg, const char *user, time_t *ret_time) EL_MUST_CHECK;

/* Remove user's grant (forget, rename): 0 (also when there was none),
 * EL_ERR_INVAL, EL_ERR_RANGE, EL_ERR_IO. */
int certgrant_clear(const struct el_config *cfg, const char *user) EL_MUST_CHECK;

#endif
