/* sshca.h - the CA keys trusted for Entra SSH certificates (design section 6).
 *
 * ssh_ca_keys = jwks (default): the RSA keys of the tenant JWKS that jwks.c
 * already caches ({state_dir}/jwks.json), taken only if kty RSA, use "sig"
 * or absent, e = 65537, at least 2048 bits, x5c[0] (when present) currently
 * valid and holding the same key, and issuer not the consumer (MSA) tenant
 * 9188040d-6c67-4c5b-b112-36a304b66dad. Entra's JWKS can come back with
 * different subsets from call to call, so keys seen in earlier sets are kept
 * in {state_dir}/sshca.json (root, 0644, public keys only) with the time
 * they were last seen, and stay trusted while that is within ssh_ca_max_age
 * and their x5c is still valid. If jwks.json itself is older than
 * ssh_ca_max_age (or missing) nothing is trusted: fail closed.
 *
 * ssh_ca_keys = /path: OpenSSH public keys ("ssh-rsa AAAA... comment"), one
 * a line, '#' comments; the file must be root-owned and not writable by
 * group or others. No age limit (an admin pinned them).
 *
 * Loading reads files only; sshca_refresh is the only network call.
 * Not thread-safe per object. No logging.
 */
#ifndef EL_SSHCA_H
#define EL_SSHCA_H

#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "conf.h"
#include "err.h"

#define SSHCA_STATE "sshca.json"
#define SSHCA_KEYS_MAX 64
#define SSHCA_CONSUMER_TENANT "9188040d-6c67-4c5b-b112-36a304b66dad"

struct sshca_key {
	char *kid;			/* JWKS kid, or "file:LINE" / the comment */
	unsigned char *blob;		/* "ssh-rsa" wire blob (canonical) */
	size_t len;
	EVP_PKEY *pkey;
	int bits;
	time_t seen;			/* last JWKS fetch that listed it (0: file) */
	time_t not_after;		/* x5c notAfter, 0 if none */
	int refused;			/* 0 = trusted, else why not (EL_ERR_CERT_CA_*) */
};

struct sshca {
	struct sshca_key *keys;		/* trusted and refused ones */
	size_t n;
	bool from_file;
	time_t fetched;			/* jwks.json mtime (0 = none) */
	bool stale;			/* fail-closed: no usable JWKS within ssh_ca_max_age */
	bool dirty;			/* the merged set differs from sshca.json */
};

/* Build the set for now. Returns 0 (possibly with no trusted key; see
 * ->stale), EL_ERR_IO/EL_ERR_INSECURE/EL_ERR_CONFIG (pinned file unusable),
 * EL_ERR_NOMEM. */
int sshca_load(const struct el_config *cfg, time_t now, struct sshca **ret_ca) EL_MUST_CHECK;

/* The key whose blob equals this one (trusted or refused), or NULL. */
const struct sshca_key *sshca_find(const struct sshca *ca, const unsigned char *blob, size_t len);

/* Number of trusted keys. */
size_t sshca_trusted(const struct sshca *ca);

/* Write the merged set to sshca.json (best effort: 0 or EL_ERR_IO). */
int sshca_save(const struct el_config *cfg, const struct sshca *ca, time_t now);

/* Fetch the JWKS now (discovery and JWKS through jwks.c, which limits
 * refreshes to one a minute per host). deadline_ms as in http.h. Returns 0,
 * EL_ERR_TOKEN_KID_UNKNOWN (rate-limited), EL_ERR_HTTP_*, EL_ERR_JWKS, ...
 * Pinned files: EL_ERR_NOT_FOUND (nothing to refresh). */
int sshca_refresh(const struct el_config *cfg, uint64_t deadline_ms) EL_MUST_CHECK;

void sshca_free(struct sshca *ca);

#endif
