/* statefile.h - the network caches kept under cfg->state_dir
 * (openid-configuration.json, jwks.json, jwks.refresh).
 *
 * They hold nothing secret (public endpoints and public keys) and are
 * written 0644, atomically, by root; a reader trusts one only if it is a
 * regular file (not a symlink), owned by root (or the caller's euid, for
 * tests and unprivileged CLI runs) and not writable by group or others.
 * Stateless and thread-safe.
 */
#ifndef EL_STATEFILE_H
#define EL_STATEFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <jansson.h>

#include "conf.h"
#include "err.h"

#define STATE_DISCOVERY "openid-configuration.json"
#define STATE_JWKS "jwks.json"
#define STATE_JWKS_REFRESH "jwks.refresh"

/* Format version of the JSON caches (openid-configuration.json, jwks.json,
 * sshca.json): a "format" member, written by every writer. A file without
 * one is format 1 (0.1.0 wrote none). A later format - a newer package's
 * file met after a downgrade - is refused, never misread: the reader treats
 * it as no cache (a fresh fetch then replaces it). */
#define STATE_FORMAT 1
#define STATE_FORMAT_KEY "format"

/* root's format: 0 if absent or 1..STATE_FORMAT, EL_ERR_NEWER_FORMAT if
 * above, EL_ERR_CORRUPT if not a positive integer or root not an object. */
int state_format_check(const json_t *root) EL_MUST_CHECK;

/* state_format_check of a cache file's JSON: 0, EL_ERR_NEWER_FORMAT,
 * EL_ERR_CORRUPT, or the codes of state_read (EL_ERR_NOT_FOUND, ...). */
int state_file_format(const struct el_config *cfg, const char *name) EL_MUST_CHECK;

/* File times run ahead of time(2) by up to a clock tick (the kernel stamps
 * files from a finer clock than the coarse one time() reads), so a cache
 * written a moment ago may look a second into the future. */
#define STATE_FUTURE_SLACK 2

/* True if a cache stamped mtime is younger than max_age seconds at now; a
 * stamp more than STATE_FUTURE_SLACK seconds ahead is never young. */
bool state_age_below(time_t mtime, time_t now, time_t max_age);

/* "{state_dir}/{name}" into buf. Returns 0 or EL_ERR_RANGE. */
int state_path(const struct el_config *cfg, const char *name, char *buf, size_t buflen) EL_MUST_CHECK;

/* Read a trusted state file of at most cap bytes (NUL-terminated, caller
 * frees *ret_text). ret_mtime may be NULL. Returns 0, EL_ERR_NOT_FOUND,
 * EL_ERR_INSECURE (owner, mode, not a regular file), EL_ERR_CORRUPT (larger
 * than cap), EL_ERR_IO, EL_ERR_NOMEM. */
int state_read(const struct el_config *cfg, const char *name, size_t cap, char **ret_text, size_t *ret_len,
	       time_t *ret_mtime) EL_MUST_CHECK;

/* Only the metadata: Returns 0 with *ret_mtime, or the codes of state_read. */
int state_stat(const struct el_config *cfg, const char *name, time_t *ret_mtime) EL_MUST_CHECK;

/* Replace a state file atomically with mode 0644, creating state_dir
 * (0755) if it does not exist. Returns 0, EL_ERR_IO, EL_ERR_RANGE. Callers
 * may ignore the result: a cache that cannot be written is only slower. */
int state_write(const struct el_config *cfg, const char *name, const void *data, size_t len);

#endif
