/* names.c - the name rules of design section 4. libc only, no allocation. */
#include <string.h>

#include "el_limits.h"
#include "names.h"
#include "strutil.h"

static bool local_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
	       c == '-' || c == '\'' || c == '+';
}

static bool domain_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
}

/* One pass: this runs first in every NSS call, for every name any process
 * looks up. */
bool name_syntax_ok(const char *name)
{
	const char *at = NULL;
	size_t i;
	char prev = '\0';

	if (!name || name[0] == '\0' || name[0] == '.' || name[0] == '-')
		return false;
	for (i = 0; name[i]; i++) {
		char c = name[i];

		if (i >= EL_NAME_MAX)
			return false;
		if (c == '@') {
			if (at || i == 0)
				return false;
			at = name + i;
		} else if (!at) {
			if (!local_char_ok(c))
				return false;
		} else {
			/* Domain: no leading '.'/'-', no "..". */
			if (!domain_char_ok(c) || ((c == '.' || c == '-') && prev == '@') || (c == '.' && prev == '.'))
				return false;
		}
		prev = c;
	}
	return at && at[1] != '\0' && prev != '.';
}

/* A service principal's login name: its app (client) id, a lower-case GUID,
 * only when the admin opted in (ssh_service_principals = yes). */
bool name_is_guid_lower(const char *s)
{
	if (!s || !name_is_guid(s))
		return false;
	for (const char *p = s; *p; p++)
		if (*p >= 'A' && *p <= 'F')
			return false;
	return true;
}

bool name_sp_syntax_ok(const char *name)
{
	return name_is_guid_lower(name);
}

static bool sp_name_ok(const struct el_config *cfg, const char *name)
{
	return cfg->ssh_service_principals && name_sp_syntax_ok(name);
}

bool name_is_ours(const struct el_config *cfg, const char *name)
{
	if (cfg && name && sp_name_ok(cfg, name))
		return true;
	if (!cfg || !name_syntax_ok(name))
		return false;
	return cfg_list_has(&cfg->domains, strchr(name, '@') + 1);
}

int name_from_upn(const char *upn, char *buf, size_t buflen)
{
	char tmp[EL_NAME_MAX + 1];

	if (!upn || strnlen(upn, EL_NAME_MAX + 1) > EL_NAME_MAX)
		return EL_ERR_NOT_OURS;
	if (str_lower(tmp, sizeof(tmp), upn) < 0)
		return EL_ERR_NOT_OURS;
	if (!name_syntax_ok(tmp))
		return EL_ERR_NOT_OURS;
	return str_copy(buf, buflen, tmp);
}

int name_home(const char *tmpl, const char *name, char *buf, size_t buflen)
{
	const char *at = strchr(name, '@');
	size_t used = 0;

	if (!at && !name_is_guid(name))
		return EL_ERR_INVAL;
	if (!at)	/* a service principal's GUID: %l is the whole name, %d empty */
		at = name + strlen(name);
	for (const char *t = tmpl; *t; t++) {
		const char *piece = t;
		size_t plen = 1;

		if (*t == '%') {
			t++;
			switch (*t) {
			case 'u': piece = name; plen = strlen(name); break;
			case 'l': piece = name; plen = (size_t)(at - name); break;
			case 'd': piece = *at ? at + 1 : at; plen = strlen(piece); break;
			case '%': piece = t; plen = 1; break;
			default: return EL_ERR_INVAL;
			}
		}
		if (buflen - used <= plen)
			return EL_ERR_RANGE;
		memcpy(buf + used, piece, plen);
		used += plen;
	}
	if (buflen == 0)
		return EL_ERR_RANGE;
	buf[used] = '\0';
	return 0;
}

bool name_is_guid(const char *s)
{
	static const char pattern[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";

	if (!s || strlen(s) != sizeof(pattern) - 1)
		return false;
	for (size_t i = 0; pattern[i]; i++) {
		char c = s[i];

		if (pattern[i] == '-') {
			if (c != '-')
				return false;
		} else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
			return false;
		}
	}
	return true;
}
