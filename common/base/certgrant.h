/* certgrant.h - "authorized-keys granted USER a role at TIME": the record
 * PAM account checks so that a publickey login of a directory user passes
 * only right after `entra-login authorized-keys` decided it (an
 * authorized_keys file an admin adds for a directory name never bypasses the
 * role decision).
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
#define CERTGRANT_WINDOW 60	/* seconds a grant stays good */

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
