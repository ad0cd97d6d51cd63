/* aadpasswd.h - read one line of /etc/aadpasswd, the user file Microsoft's
 * AADSSHLoginForLinux extension (aadsshlogin) leaves on a VM:
 *
 *     name:oid:uid:gid:gecos:home:shell
 *
 * Field 2 is the user's Entra object id. The line is untrusted input: every
 * field is checked, nothing is folded except the name's ASCII case (the
 * extension may keep the UPN as Entra spells it; our names are lower case).
 * libc only, no allocation, thread-safe.
 */
#ifndef EL_AADPASSWD_H
#define EL_AADPASSWD_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "el_limits.h"
#include "userdb.h"
#include "userdb_format.h"

#define AADPASSWD_LINE_MAX 4096	/* longer lines are malformed */

enum aadpasswd_verdict {
	AADPASSWD_OK,
	AADPASSWD_BLANK,		/* empty or '#' comment: not an entry */
	AADPASSWD_MALFORMED,		/* not 7 fields, too long, uid/gid not a number, NUL byte */
	AADPASSWD_BAD_NAME,		/* not a valid directory user name */
	AADPASSWD_FOREIGN_DOMAIN,	/* valid name, domain not in cfg->domains */
	AADPASSWD_BAD_OID,		/* object id not a GUID */
	AADPASSWD_GID_NOT_UID,		/* primary gid is not the user-private group (gid = uid) */
	AADPASSWD_BAD_PATH,		/* home not absolute, or home/shell with ':' or control bytes */
};

struct aadpasswd_entry {
	char name[EL_NAME_MAX + 1];	/* lower-cased */
	char oid[37];			/* lower-cased */
	uint32_t uid, gid;
	char gecos[UDB_DISPLAY_MAX + 1];	/* capped (the writer sanitizes it) */
	char home[UDB_PATH_MAX + 1];
	char shell[UDB_PATH_MAX + 1];	/* may be "": the configured shell */
};

/* Judge line[0..len) (no newline); fill *e when AADPASSWD_OK. */
enum aadpasswd_verdict aadpasswd_parse_line(const struct el_config *cfg, const char *line, size_t len,
					    struct aadpasswd_entry *e);

/* Short English reason for a verdict. */
const char *aadpasswd_verdict_text(enum aadpasswd_verdict v);

#endif
