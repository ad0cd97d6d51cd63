/* aadpasswd.c - one line of /etc/aadpasswd into a checked entry. libc only. */
#include <string.h>

#include "aadpasswd.h"
#include "names.h"
#include "strutil.h"

/* Copy field [s, s+n) NUL-terminated into buf; false if it does not fit. */
static bool field_copy(char *buf, size_t buflen, const char *s, size_t n)
{
	if (n >= buflen)
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return true;
}

enum aadpasswd_verdict aadpasswd_parse_line(const struct el_config *cfg, const char *line, size_t len,
					    struct aadpasswd_entry *e)
{
	const char *f[7];
	size_t flen[7], nf = 0, start = 0;
	char tmp[AADPASSWD_LINE_MAX + 1];
	uint64_t v;

	while (len > 0 && line[len - 1] == '\r')
		len--;
	if (len == 0 || line[0] == '#')
		return AADPASSWD_BLANK;
	if (len > AADPASSWD_LINE_MAX || memchr(line, '\0', len))
		return AADPASSWD_MALFORMED;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && line[i] != ':')
			continue;
		if (nf == 7)
			return AADPASSWD_MALFORMED;
		f[nf] = line + start;
		flen[nf++] = i - start;
		start = i + 1;
	}
	if (nf != 7)
		return AADPASSWD_MALFORMED;
	memset(e, 0, sizeof(*e));
	/* uid and gid first: a line whose numbers are not numbers is malformed. */
	if (!field_copy(tmp, sizeof(tmp), f[2], flen[2]) || parse_uint(tmp, 0, UINT32_MAX - 1, &v) < 0)
		return AADPASSWD_MALFORMED;
	e->uid = (uint32_t)v;
	if (!field_copy(tmp, sizeof(tmp), f[3], flen[3]) || parse_uint(tmp, 0, UINT32_MAX - 1, &v) < 0)
		return AADPASSWD_MALFORMED;
	e->gid = (uint32_t)v;
	if (!field_copy(tmp, sizeof(tmp), f[0], flen[0]) || name_from_upn(tmp, e->name, sizeof(e->name)) < 0)
		return AADPASSWD_BAD_NAME;
	if (!name_is_ours(cfg, e->name))
		return AADPASSWD_FOREIGN_DOMAIN;
	if (!field_copy(tmp, sizeof(tmp), f[1], flen[1]) || !name_is_guid(tmp) ||
	    str_lower(e->oid, sizeof(e->oid), tmp) < 0)
		return AADPASSWD_BAD_OID;
	if (e->gid != e->uid)
		return AADPASSWD_GID_NOT_UID;
	if (flen[5] == 0 || !udb_path_field_ok(f[5], flen[5]) || !udb_path_field_ok(f[6], flen[6]) ||
	    !field_copy(e->home, sizeof(e->home), f[5], flen[5]) || !field_copy(e->shell, sizeof(e->shell), f[6], flen[6]))
		return AADPASSWD_BAD_PATH;
	/* GECOS: kept up to the display-name cap, on a UTF-8 boundary. */
	{
		size_t n = flen[4] > UDB_DISPLAY_MAX ? UDB_DISPLAY_MAX : flen[4];

		while (n < flen[4] && n > 0 && ((unsigned char)f[4][n] & 0xc0) == 0x80)
			n--;
		memcpy(e->gecos, f[4], n);
		e->gecos[n] = '\0';
	}
	return AADPASSWD_OK;
}

const char *aadpasswd_verdict_text(enum aadpasswd_verdict v)
{
	switch (v) {
	case AADPASSWD_OK: return "ok";
	case AADPASSWD_BLANK: return "blank or comment";
	case AADPASSWD_MALFORMED: return "malformed line (want name:oid:uid:gid:gecos:home:shell)";
	case AADPASSWD_BAD_NAME: return "not a valid directory user name";
	case AADPASSWD_FOREIGN_DOMAIN: return "domain not in this host's domains";
	case AADPASSWD_BAD_OID: return "object id is not a GUID";
	case AADPASSWD_GID_NOT_UID: return "gid differs from uid (no user-private group)";
	case AADPASSWD_BAD_PATH: return "home or shell is not a normalized absolute path without ':' or control bytes";
	}
	return "unknown";
}
