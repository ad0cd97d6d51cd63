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
#define AK_CACHE_VERSION 2	/* 1: "CODE LINE" (no version field); read as a miss */

/* One decision. A grant (code 0) carries what PAM account needs (a fresh
 * pending decision is left from it, certgrant.h) and the certificate's
 * validity window, checked against the time of every use. */
struct ak_decision {
	int code;			/* 0 granted, else the refusal (EL_ERR_*) */
	char line[AK_LINE_MAX];		/* the authorized_keys line (code 0) */
	char oid[37], tid[37];		/* "" unless granted */
	int role;			/* 1 user, 2 admin (code 0) */
	long long valid_after, valid_before;	/* the certificate's window (code 0) */
};

/* 0 and *ret if a decision younger than AK_CACHE_TTL exists for user +
 * blob and, for a grant, now is inside the certificate's validity window
 * (a cached "yes" for a certificate that has since expired is never
 * reused); else EL_ERR_NOT_FOUND. */
int ak_cache_get(const struct el_config *cfg, const char *user, const char *blob, time_t now,
		 struct ak_decision *ret) EL_MUST_CHECK;

/* Store a decision (best effort). */
int ak_cache_put(const struct el_config *cfg, const char *user, const char *blob, time_t now,
		 const struct ak_decision *d);

/* Drop every cached decision (forget, rename). 0, EL_ERR_RANGE, EL_ERR_IO. */
int ak_cache_clear(const struct el_config *cfg);

#endif
