/* paging.c - the next-page link of a paged Azure answer (paging.h). */
#include <stdlib.h>
#include <string.h>

#include "paging.h"

int paging_next_link(const json_t *root, const char *key, size_t max, char **ret_link)
{
	const json_t *next = json_object_get(root, key);
	char *link = NULL;

	if (next && !json_is_null(next)) {
		if (!json_is_string(next) || json_string_length(next) == 0 ||
		    strlen(json_string_value(next)) != json_string_length(next) || json_string_length(next) > max)
			return EL_ERR_JSON;
		link = strdup(json_string_value(next));
		if (!link)
			return EL_ERR_NOMEM;
	}
	*ret_link = link;
	return 0;
}
