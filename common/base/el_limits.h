/* el_limits.h - caps on everything that comes from outside. One place, named. */
#ifndef EL_LIMITS_H
#define EL_LIMITS_H

#define EL_NAME_MAX 64			/* a directory user name, bytes, without NUL */
#define EL_TOKEN_MAX (16 * 1024)	/* a whole JWT; Entra's are 1.5-3 KB */
#define EL_TOKEN_PART_MAX 1000		/* one keyboard-interactive answer */
#define EL_TOKEN_PARTS_MAX 32		/* answers before we give up */
#define EL_HTTP_BODY_MAX (256 * 1024)	/* any response body */
#define EL_JSON_DEPTH_MAX 16
#define EL_CONF_LINE_MAX 4096
#define EL_CONF_SIZE_MAX (256 * 1024)
#define EL_CONF_LIST_MAX 64		/* entries in a comma list */
#define EL_URL_MAX 2048
#define EL_USERDB_SIZE_MAX (256u * 1024 * 1024)
#define EL_USERDB_USERS_MAX 1000000
#define EL_JWKS_KEYS_MAX 32
#define EL_GUID_LEN 36
#define EL_CLAIM_LIST_MAX 256		/* roles or groups in one token */

#endif
