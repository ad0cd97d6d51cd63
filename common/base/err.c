/* err.c - texts and names of EL_ERR_* codes. */
#include <string.h>

#include "err.h"

#define EL_TEXT_(sym, text) text,
static const char *const texts[] = { EL_ERR_LIST(EL_TEXT_) };
#define EL_NAME_(sym, text) #sym,
static const char *const names[] = { EL_ERR_LIST(EL_NAME_) };

static int index_of(int r)
{
	if (r > 0 || -r >= EL_ERR_COUNT_)
		return -1;
	return -r;
}

const char *el_strerror(int r)
{
	int i = index_of(r);

	return i < 0 ? "unknown error" : texts[i];
}

const char *el_errname(int r)
{
	int i = index_of(r);

	return i < 0 ? "EL_ERR_UNKNOWN" : names[i];
}

int el_errfromname(const char *name)
{
	for (int i = 0; i < EL_ERR_COUNT_; i++)
		if (strcmp(names[i], name) == 0)
			return -i;
	return 1;
}
