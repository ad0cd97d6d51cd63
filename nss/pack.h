/* pack.h - fill glibc's struct passwd/group/spwd with strings placed in the
 * caller's buffer (internal to libnss_entra.so.2). Thread-safe, no
 * allocation. Every function returns 0 or EL_ERR_RANGE (buffer too small:
 * the caller answers ERANGE/TRYAGAIN and glibc retries with a larger one);
 * nothing is ever written past buflen. */
#ifndef EL_NSS_PACK_H
#define EL_NSS_PACK_H

#include <grp.h>
#include <pwd.h>
#include <shadow.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* Member i's name: returns 0 (set *ret_name), 1 (skip this one), or a
 * negative EL_ERR_* that aborts the packing. */
typedef int (*pack_member_fn)(void *userdata, size_t i, const char **ret_name);

/* gecos: display name with ':' and control bytes replaced by spaces.
 * home: as given if non-NULL (a pinned home), else expanded from home_tmpl
 * with name_home(). */
int pack_passwd(struct passwd *pw, char *buf, size_t buflen, const char *name, uint32_t uid,
		const char *gecos, const char *home_tmpl, const char *home, const char *shell) EL_MUST_CHECK;

/* At most n members, fetched through next (n may be 0 and next NULL).
 * Returns also what next returns when negative. */
int pack_group(struct group *gr, char *buf, size_t buflen, const char *name, uint32_t gid, size_t n,
	       pack_member_fn next, void *userdata) EL_MUST_CHECK;

/* Locked ("*"), no aging, no expiry: pam_unix's account checks pass. */
int pack_spwd(struct spwd *sp, char *buf, size_t buflen, const char *name) EL_MUST_CHECK;

#endif
