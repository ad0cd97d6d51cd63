/* ak_cache.h - one-minute cache of `authorized-keys` decisions (see ak_cache.c). */
#ifndef EL_AK_CACHE_H
#define EL_AK_CACHE_H

#include <stddef.h>
#include <time.h>

#include "conf.h"
#include "err.h"

#define AK_CACHE_DIR "akcache"
#define AK_CACHE_TTL 60
#define AK_LINE_MAX 4096

/* 0 and *ret_code (0 = granted, line filled; else the refusal) if a decision
 * younger than AK_CACHE_TTL exists for user + blob; else EL_ERR_NOT_FOUND. */
int ak_cache_get(const struct el_config *cfg, const char *user, const char *blob, time_t now, int *ret_code,
		 char *line, size_t linelen) EL_MUST_CHECK;

/* Store a decision (best effort). */
int ak_cache_put(const struct el_config *cfg, const char *user, const char *blob, time_t now, int code,
		 const char *line);

/* Drop every cached decision (forget, rename). 0, EL_ERR_RANGE, EL_ERR_IO. */
int ak_cache_clear(const struct el_config *cfg);

#endif
