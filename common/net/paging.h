/* paging.h - the next-page link of a paged Azure answer (ARM "nextLink",
 * Microsoft Graph "@odata.nextLink"). */
#ifndef EL_PAGING_H
#define EL_PAGING_H

#include <stddef.h>

#include <jansson.h>

#include "err.h"

/* The string member key of root, copied into *ret_link (free()), or NULL
 * when it is absent or null (the last page). A link that is not a
 * non-empty string without NULs of at most max bytes is EL_ERR_JSON;
 * EL_ERR_NOMEM. *ret_link is set only on success. */
int paging_next_link(const json_t *root, const char *key, size_t max, char **ret_link) EL_MUST_CHECK;

#endif
