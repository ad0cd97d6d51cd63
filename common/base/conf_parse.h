/* conf_parse.h - shared between conf.c and conf_groups.c; internal to the
 * configuration parser. */
#ifndef EL_CONF_PARSE_H
#define EL_CONF_PARSE_H

#include <stddef.h>

struct el_config;

struct parse_ctx {
	const char *path;
	unsigned line;
	unsigned home_line, uid_min_line;	/* where home / uid_min were set, 0 = default */
	char *errbuf;
	size_t errlen;
};

/* Write "file:line: key 'x': msg" (escaped) into ctx->errbuf; returns
 * EL_ERR_CONFIG. */
__attribute__((format(printf, 3, 4)))
int conf_fail(struct parse_ctx *ctx, const char *key, const char *fmt, ...);

/* Issue 21: group mapping and the "groups" role source. Sets
 * cfg->groups_mapped, lower-cases group_filter GUIDs. 0 or EL_ERR_CONFIG. */
int conf_check_groups(struct parse_ctx *ctx, struct el_config *cfg);

/* The string keys of groups and directory attributes (issue 21): their
 * values, checked by key name; other keys pass. 0 or EL_ERR_CONFIG. */
int conf_check_directory_str(struct parse_ctx *ctx, const char *key, const char *value);

#endif
