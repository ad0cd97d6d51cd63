/* devcode.c - RFC 8628 client. Every field of every answer is checked
 * before use: the user code and URL end up on a user's terminal. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "devcode.h"
#include "el_limits.h"
#include "http.h"
#include "strutil.h"

#define DEVCODE_FIELD_MAX 4096
#define USER_CODE_MAX 32
#define VERIFY_URI_MAX 256

void devcode_grant_free(struct devcode_grant *grant)
{
	if (!grant)
		return;
	secret_free(grant->device_code);
	free(grant->user_code);
	free(grant->verification_uri);
	free(grant);
}

static bool user_code_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > USER_CODE_MAX)
		return false;
	for (; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-'))
			return false;
	return true;
}

static bool uri_ok(const char *s)
{
	if (strlen(s) > VERIFY_URI_MAX || strncmp(s, "https://", 8) != 0)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

static int dup_string(json_t *obj, const char *key, size_t cap, char **ret)
{
	json_t *v = json_object_get(obj, key);
	const char *s;
	char *copy;

	if (!json_is_string(v))
		return EL_ERR_DEVICE_PROTOCOL;
	s = json_string_value(v);
	if (strlen(s) == 0 || strlen(s) > cap || strlen(s) != json_string_length(v))
		return EL_ERR_DEVICE_PROTOCOL;
	copy = strdup(s);
	if (!copy)
		return EL_ERR_NOMEM;
	*ret = copy;
	return 0;
}

static int get_seconds(json_t *obj, const char *key, unsigned dflt, unsigned max, unsigned *ret)
{
	json_t *v = json_object_get(obj, key);

	if (!v) {
		*ret = dflt;
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > (json_int_t)max)
		return EL_ERR_DEVICE_PROTOCOL;
	*ret = (unsigned)json_integer_value(v);
	return 0;
}

static int parse_json(const struct http_response *resp, json_t **ret)
{
	json_t *root = json_loadb(resp->body, resp->len, JSON_REJECT_DUPLICATES, NULL);

	if (!json_is_object(root)) {
		json_decref(root);
		return EL_ERR_JSON;
	}
	*ret = root;
	return 0;
}

int devcode_start(const struct el_config *cfg, const struct oidc_meta *meta, uint64_t deadline_ms,
		  struct devcode_grant **ret_grant)
{
	struct http_form form = { 0 };
	struct http_response *resp = NULL;
	struct devcode_grant *grant = NULL;
	json_t *root = NULL;
	unsigned expires_in = 0;
	int r;

	r = http_form_add(&form, "client_id", cfg->client_id);
	if (r == 0)
		r = http_form_add(&form, "scope", DEVCODE_SCOPE);
	if (r < 0)
		goto out;
	r = http_post_form(cfg, meta->device_authorization_endpoint, NULL, &form, deadline_ms, &resp);
	if (r < 0)
		goto out;
	if (resp->status >= 500) {
		r = EL_ERR_HTTP_STATUS;
		goto out;
	}
	if (resp->status != 200) {
		r = EL_ERR_DEVICE_PROTOCOL;
		goto out;
	}
	r = parse_json(resp, &root);
	if (r < 0)
		goto out;
	grant = calloc(1, sizeof(*grant));
	if (!grant) {
		r = EL_ERR_NOMEM;
		goto out;
	}
	r = dup_string(root, "device_code", DEVCODE_FIELD_MAX, &grant->device_code);
	if (r == 0)
		r = dup_string(root, "user_code", USER_CODE_MAX, &grant->user_code);
	if (r == 0)
		r = dup_string(root, "verification_uri", VERIFY_URI_MAX, &grant->verification_uri);
	if (r == 0)
		r = get_seconds(root, "interval", DEVCODE_DEFAULT_INTERVAL, DEVCODE_MAX_INTERVAL, &grant->interval);
	if (r == 0)
		r = get_seconds(root, "expires_in", 0, 24 * 3600, &expires_in);
	if (r < 0)
		goto out;
	if (!user_code_ok(grant->user_code) || !uri_ok(grant->verification_uri) || expires_in == 0) {
		r = EL_ERR_DEVICE_PROTOCOL;
		goto out;
	}
	/* Never poll in a tight loop, whatever the server says. */
	if (grant->interval == 0)
		grant->interval = 1;
	grant->expires_at_ms = http_now_ms() + (uint64_t)expires_in * 1000;
	*ret_grant = grant;
	grant = NULL;
out:
	json_decref(root);
	devcode_grant_free(grant);
	http_response_free(resp);
	http_form_free(&form);
	return r;
}

static int map_oauth_error(const char *error)
{
	if (strcmp(error, "authorization_pending") == 0)
		return EL_ERR_DEVICE_PENDING;
	if (strcmp(error, "authorization_declined") == 0 || strcmp(error, "access_denied") == 0)
		return EL_ERR_DEVICE_DECLINED;
	if (strcmp(error, "expired_token") == 0 || strcmp(error, "code_expired") == 0)
		return EL_ERR_DEVICE_EXPIRED;
	if (strcmp(error, "bad_verification_code") == 0 || strcmp(error, "invalid_grant") == 0)
		return EL_ERR_DEVICE_BAD_CODE;
	return EL_ERR_DEVICE_PROTOCOL;
}

int devcode_poll_once(const struct el_config *cfg, const struct oidc_meta *meta, struct devcode_grant *grant,
		      uint64_t deadline_ms, char **ret_id_token)
{
	struct http_form form = { 0 };
	struct http_response *resp = NULL;
	json_t *root = NULL, *err;
	char *id_token = NULL;
	int r;

	r = http_form_add(&form, "grant_type", DEVCODE_GRANT_TYPE);
	if (r == 0)
		r = http_form_add(&form, "client_id", cfg->client_id);
	if (r == 0)
		r = http_form_add(&form, "device_code", grant->device_code);
	if (r < 0)
		goto out;
	grant->polls++;
	r = http_post_form(cfg, meta->token_endpoint, NULL, &form, deadline_ms, &resp);
	if (r < 0)
		goto out;
	if (resp->status >= 500) {
		r = EL_ERR_HTTP_STATUS;
		goto out;
	}
	r = parse_json(resp, &root);
	if (r < 0)
		goto out;
	if (resp->status == 200) {
		json_t *tok = json_object_get(root, "id_token");

		/* An answer the server gave in full but whose token is longer than any
		 * token we take (a 10 KB preferred_username): a refused sign-in, not an
		 * unreachable identity provider. */
		if (json_is_string(tok) && json_string_length(tok) > EL_TOKEN_MAX) {
			r = EL_ERR_TOKEN_TOO_LONG;
			goto out;
		}
		r = dup_string(root, "id_token", EL_TOKEN_MAX, &id_token);
		if (r < 0)
			goto out;
		*ret_id_token = id_token;
		id_token = NULL;
		goto out;
	}
	err = json_object_get(root, "error");
	if (resp->status != 400 || !json_is_string(err)) {
		r = EL_ERR_DEVICE_PROTOCOL;
		goto out;
	}
	if (strcmp(json_string_value(err), "slow_down") == 0) {
		if (grant->interval + DEVCODE_SLOW_DOWN_STEP <= DEVCODE_MAX_INTERVAL)
			grant->interval += DEVCODE_SLOW_DOWN_STEP;
		r = EL_ERR_DEVICE_PENDING;
		goto out;
	}
	r = map_oauth_error(json_string_value(err));
out:
	secret_free(id_token);
	json_decref(root);
	http_response_free(resp);
	http_form_free(&form);
	return r;
}

static void sleep_until_ms(uint64_t when)
{
	for (;;) {
		uint64_t now = http_now_ms();
		struct timespec ts;

		if (now >= when)
			return;
		ts.tv_sec = (time_t)((when - now) / 1000);
		ts.tv_nsec = (long)((when - now) % 1000) * 1000000L;
		if (nanosleep(&ts, NULL) == 0)
			return;
		if (errno != EINTR)
			return;
	}
}

static bool transient(int r)
{
	return r == EL_ERR_HTTP_CONNECT || r == EL_ERR_HTTP_TIMEOUT || r == EL_ERR_HTTP_STATUS ||
	       r == EL_ERR_HTTP_THROTTLED || r == EL_ERR_JSON;
}

/* The server answered, but with a 5xx or with something that is not JSON:
 * one such answer is a hiccup, several in a row a broken endpoint. */
static bool server_error(int r)
{
	return r == EL_ERR_HTTP_STATUS || r == EL_ERR_JSON;
}

int devcode_wait(const struct el_config *cfg, const struct oidc_meta *meta, struct devcode_grant *grant,
		 uint64_t deadline_ms, char **ret_id_token)
{
	uint64_t next = http_now_ms();
	int r = EL_ERR_DEVICE_TIMEOUT, last = 0;
	unsigned server_errors = 0;

	for (;;) {
		uint64_t now;

		sleep_until_ms(next);
		now = http_now_ms();
		if (now >= grant->expires_at_ms)
			return EL_ERR_DEVICE_EXPIRED;
		if (now >= deadline_ms)
			return last && transient(last) ? last : EL_ERR_DEVICE_TIMEOUT;
		r = devcode_poll_once(cfg, meta, grant, deadline_ms, ret_id_token);
		if (r != EL_ERR_DEVICE_PENDING && !transient(r))
			return r;
		server_errors = server_error(r) ? server_errors + 1 : 0;
		if (server_errors >= DEVCODE_SERVER_ERRORS_MAX)
			return r;
		last = r;
		/* The interval counts from the end of this request (RFC 8628 3.5). */
		next = http_now_ms() + (uint64_t)grant->interval * 1000;
		if (next > deadline_ms)
			next = deadline_ms;
	}
}
