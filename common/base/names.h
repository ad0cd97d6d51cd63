/* names.h - which names are directory users, and how their fields derive.
 * libc only, thread-safe, no allocation unless stated. */
#ifndef EL_NAMES_H
#define EL_NAMES_H

#include <stdbool.h>
#include <stddef.h>

#include "conf.h"

/* True if name is syntactically a directory name of one of cfg's domains:
 * "local@domain", all lower case, local part [a-z0-9._'+-], domain in
 * cfg->domains, at most EL_NAME_MAX bytes. No folding: "Alice@x" is false. */
bool name_is_ours(const struct el_config *cfg, const char *name);

/* Same rules without a config: syntax only (domain letters/digits/.-). */
bool name_syntax_ok(const char *name);

/* Lower-case copy of a UPN from a token into buf (ASCII folding only).
 * Returns 0, EL_ERR_NOT_OURS (non-ASCII or invalid), EL_ERR_RANGE. */
int name_from_upn(const char *upn, char *buf, size_t buflen) EL_MUST_CHECK;

/* Expand the home template (%u name, %l local part, %d domain, %% percent).
 * Returns 0, EL_ERR_RANGE, EL_ERR_INVAL. */
int name_home(const char *tmpl, const char *name, char *buf, size_t buflen) EL_MUST_CHECK;

/* True if s is a GUID in 8-4-4-4-12 hex form (either case). */
bool name_is_guid(const char *s);

/* The same with lower-case hex only (as Entra writes oid/tid claims and
 * as records store them). NULL is not a GUID. */
bool name_is_guid_lower(const char *s);

/* The syntax of a service principal's login name: a lower-case GUID (its
 * app id). Whether such names are ours is name_is_ours's (config opt-in). */
bool name_sp_syntax_ok(const char *name);

#endif
