/* oidc.c - discovery document fetch, validation and cache. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "el_limits.h"
#include "http.h"
#include "oidc.h"
#include "statefile.h"
#include "strutil.h"

void oidc_meta_free(struct oidc_meta *meta)
{
	if (!meta)
		return;
	free(meta->issuer);
	free(meta->jwks_uri);
	free(meta->token_endpoint);
	free(meta->device_authorization_endpoint);
	free(meta);
}

struct origin {
	const char *host;
	size_t hostlen;
	uint64_t port;
};

static bool url_chars_ok(const char *url)
{
	for (const unsigned char *p = (const unsigned char *)url; *p; p++)
		if (*p <= 0x20 || *p >= 0x7f || *p == '\\')
			return false;
	return strlen(url) <= EL_URL_MAX;
}

static bool parse_origin(const char *url, struct origin *o)
{
	const char *a, *end, *colon = NULL;
	char port[8];
	size_t plen;

	if (!url || strncmp(url, "https://", 8) != 0 || !url_chars_ok(url))
		return false;
	a = url + 8;
	end = a + strcspn(a, "/?#");
	if (end == a || memchr(a, '@', (size_t)(end - a)))
		return false;
	if (*a == '[') {		/* [v6]:port */
		const char *rb = memchr(a, ']', (size_t)(end - a));

		if (!rb)
			return false;
		o->host = a;
		o->hostlen = (size_t)(rb + 1 - a);
		if (rb + 1 < end) {
			if (rb[1] != ':')
				return false;
			colon = rb + 1;
		}
	} else {
		colon = memchr(a, ':', (size_t)(end - a));
		o->host = a;
		o->hostlen = (size_t)((colon ? colon : end) - a);
	}
	if (o->hostlen == 0)
		return false;
	o->port = 443;
	if (colon) {
		plen = (size_t)(end - colon - 1);
		if (plen == 0 || plen >= sizeof(port))
			return false;
		memcpy(port, colon + 1, plen);
		port[plen] = '\0';
		if (parse_uint(port, 1, 65535, &o->port) < 0)
			return false;
	}
	return true;
}

bool oidc_same_origin(const char *authority, const char *url)
{
	struct origin a, u;

	if (!parse_origin(authority, &a) || !parse_origin(url, &u))
		return false;
	return a.port == u.port && a.hostlen == u.hostlen && strncasecmp(a.host, u.host, a.hostlen) == 0;
}

/* Copy member key of obj into *dst if it is an https URL on the authority's origin. */
static int take_endpoint(const struct el_config *cfg, json_t *obj, const char *key, char **dst)
{
	const char *s = json_string_value(json_object_get(obj, key));

	if (!s || !oidc_same_origin(cfg->authority, s))
		return EL_ERR_DISCOVERY;
	*dst = strdup(s);
	return *dst ? 0 : EL_ERR_NOMEM;
}

/* The checks shared by a fetched document and our cache of one. */
static int meta_from_json(const struct el_config *cfg, json_t *root, struct oidc_meta **ret_meta)
{
	struct oidc_meta *m = NULL;
	const char *iss;
	int r;

	if (!json_is_object(root))
		return EL_ERR_DISCOVERY;
	iss = json_string_value(json_object_get(root, "issuer"));
	if (!iss || strcmp(iss, cfg->issuer) != 0)
		return EL_ERR_DISCOVERY;
	m = calloc(1, sizeof(*m));
	if (!m)
		return EL_ERR_NOMEM;
	m->issuer = strdup(iss);
	if (!m->issuer) {
		r = EL_ERR_NOMEM;
		goto out;
	}
	r = take_endpoint(cfg, root, "jwks_uri", &m->jwks_uri);
	if (r < 0)
		goto out;
	r = take_endpoint(cfg, root, "token_endpoint", &m->token_endpoint);
	if (r < 0)
		goto out;
	r = take_endpoint(cfg, root, "device_authorization_endpoint", &m->device_authorization_endpoint);
	if (r < 0)
		goto out;
	*ret_meta = m;
	m = NULL;
out:
	oidc_meta_free(m);
	return r;
}

int oidc_parse(const struct el_config *cfg, const char *text, size_t len, struct oidc_meta **ret_meta)
{
	json_t *root = NULL;
	json_error_t jerr;
	int r;

	if (len > EL_HTTP_BODY_MAX)
		return EL_ERR_JSON;
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return EL_ERR_JSON;
	r = meta_from_json(cfg, root, ret_meta);
	json_decref(root);
	return r;
}

static int cache_store(const struct el_config *cfg, const struct oidc_meta *m)
{
	json_t *doc = NULL;
	char *text = NULL;
	int r;

	doc = json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:I}", STATE_FORMAT_KEY, STATE_FORMAT, "authority",
			cfg->authority, "tenant_id",
			cfg->tenant_id, "issuer", m->issuer, "jwks_uri", m->jwks_uri, "token_endpoint",
			m->token_endpoint, "device_authorization_endpoint", m->device_authorization_endpoint,
			"fetched", (json_int_t)m->fetched);
	if (!doc)
		return EL_ERR_NOMEM;
	text = json_dumps(doc, JSON_INDENT(1) | JSON_SORT_KEYS);
	if (!text) {
		r = EL_ERR_NOMEM;
		goto out;
	}
	r = state_write(cfg, STATE_DISCOVERY, text, strlen(text));
out:
	free(text);
	json_decref(doc);
	return r;
}

/* The cached endpoints, if the file is trustworthy and made for this
 * authority and tenant. *ret_mtime tells its age. */
static int cache_load(const struct el_config *cfg, struct oidc_meta **ret_meta, time_t *ret_mtime)
{
	struct oidc_meta *m = NULL;
	json_t *root = NULL;
	json_error_t jerr;
	char *text = NULL;
	size_t len = 0;
	time_t mtime = 0;
	const char *auth, *tenant;
	int r;

	r = state_read(cfg, STATE_DISCOVERY, 64 * 1024, &text, &len, &mtime);
	if (r < 0)
		return r;
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		r = EL_ERR_CORRUPT;
		goto out;
	}
	r = state_format_check(root);
	if (r < 0)
		goto out;	/* a later package's cache: not ours to read */
	auth = json_string_value(json_object_get(root, "authority"));
	tenant = json_string_value(json_object_get(root, "tenant_id"));
	if (!auth || !tenant || strcmp(auth, cfg->authority) != 0 || strcmp(tenant, cfg->tenant_id) != 0) {
		r = EL_ERR_NOT_FOUND;	/* made for another configuration */
		goto out;
	}
	r = meta_from_json(cfg, root, &m);
	if (r < 0)
		goto out;
	m->fetched = (time_t)json_integer_value(json_object_get(root, "fetched"));
	m->from_cache = true;
	*ret_meta = m;
	*ret_mtime = mtime;
	m = NULL;
out:
	oidc_meta_free(m);
	json_decref(root);
	free(text);
	return r;
}

int oidc_fetch(const struct el_config *cfg, uint64_t deadline_ms, struct oidc_meta **ret_meta)
{
	static const char *const headers[] = { "Accept: application/json", NULL };
	struct http_response *resp = NULL;
	struct oidc_meta *m = NULL;
	char url[EL_URL_MAX + 1];
	int n, r;

	n = snprintf(url, sizeof(url), "%s/.well-known/openid-configuration", cfg->issuer);
	if (n < 0 || (size_t)n >= sizeof(url))
		return EL_ERR_RANGE;
	r = http_get(cfg, url, headers, deadline_ms, &resp);
	if (r < 0)
		return r;
	if (resp->status != 200) {
		r = EL_ERR_HTTP_STATUS;
		goto out;
	}
	r = oidc_parse(cfg, resp->body, resp->len, &m);
	if (r < 0)
		goto out;
	m->fetched = time(NULL);
	(void)cache_store(cfg, m);	/* best effort: a read-only state dir still works */
	*ret_meta = m;
	m = NULL;
out:
	oidc_meta_free(m);
	http_response_free(resp);
	return r;
}

int oidc_discover(const struct el_config *cfg, uint64_t deadline_ms, struct oidc_meta **ret_meta)
{
	struct oidc_meta *cached = NULL;
	time_t mtime = 0, now = time(NULL);
	int r;

	r = cache_load(cfg, &cached, &mtime);
	if (r == 0 && state_age_below(mtime, now, OIDC_CACHE_MAX_AGE)) {
		*ret_meta = cached;
		return 0;
	}
	r = oidc_fetch(cfg, deadline_ms, ret_meta);
	if (r < 0 && r != EL_ERR_NOMEM && cached) {
		/* Stale beats nothing when the IdP is away or confused, for a while. */
		if (state_age_below(mtime, now, OIDC_CACHE_HARD_MAX_AGE)) {
			*ret_meta = cached;
			return 0;
		}
		r = EL_ERR_DISCOVERY;
	}
	oidc_meta_free(cached);
	return r;
}
