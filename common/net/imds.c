/* imds.c - the VM's managed-identity token and resource id, cached.
 *
 * Cache file layout ({state_dir}/imds-token.json, 0600, root):
 *   {"imds_url": "...", "resource_id": "...", "access_token": "...", "expires": 1700000000}
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "el_limits.h"
#include "http.h"
#include "imds.h"
#include "statefile.h"
#include "strutil.h"

#define IMDS_CACHE_MAX (EL_TOKEN_MAX + 4096)

static pthread_mutex_t mem_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	char *key;		/* imds_url "\n" state_dir */
	char *token;		/* secret */
	char *resource_id;
	time_t expires;
} mem;

void imds_identity_free(struct imds_identity *id)
{
	if (!id)
		return;
	secret_free(id->access_token);
	free(id->resource_id);
	free(id);
}

static bool token_chars_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > EL_TOKEN_MAX)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

static bool segment_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
	       c == '-' || c == '(' || c == ')';
}

bool imds_resource_id_ok(const char *s)
{
	size_t n, seg = 0;

	if (!s)
		return false;
	n = strlen(s);
	if (n > IMDS_RESOURCE_ID_MAX || strncasecmp(s, "/subscriptions/", 15) != 0 || s[n - 1] == '/')
		return false;
	for (size_t i = 1; i <= n; i++) {
		if (i == n || s[i] == '/') {
			const char *start = s + i - seg;

			if (seg == 0 || (seg == 1 && start[0] == '.') || (seg == 2 && start[0] == '.' && start[1] == '.'))
				return false;
			seg = 0;
			continue;
		}
		if (!segment_char_ok(s[i]))
			return false;
		seg++;
	}
	return true;
}

static int identity_new(const char *token, const char *resource_id, time_t expires, bool from_cache,
			struct imds_identity **ret_id)
{
	struct imds_identity *id = calloc(1, sizeof(*id));

	if (!id)
		return EL_ERR_NOMEM;
	id->access_token = strdup(token);
	id->resource_id = strdup(resource_id);
	if (!id->access_token || !id->resource_id) {
		imds_identity_free(id);
		return EL_ERR_NOMEM;
	}
	id->expires = expires;
	id->from_cache = from_cache;
	*ret_id = id;
	return 0;
}

static char *cache_key(const struct el_config *cfg)
{
	char *key = NULL;

	if (asprintf(&key, "%s\n%s", cfg->imds_url ? cfg->imds_url : "", cfg->state_dir ? cfg->state_dir : EL_STATEDIR) < 0)
		return NULL;
	return key;
}

static void mem_clear_locked(void)
{
	free(mem.key);
	secret_free(mem.token);
	free(mem.resource_id);
	memset(&mem, 0, sizeof(mem));
}

/* pam_entra.so is unloaded at pam_end: wipe the token rather than leave it in freed memory. */
__attribute__((destructor)) static void mem_wipe_at_unload(void)
{
	pthread_mutex_lock(&mem_lock);
	mem_clear_locked();
	pthread_mutex_unlock(&mem_lock);
}

/* 0 and a copy if memory holds a fresh identity for key, else EL_ERR_NOT_FOUND. */
static int mem_get(const char *key, time_t now, struct imds_identity **ret_id)
{
	int r = EL_ERR_NOT_FOUND;

	pthread_mutex_lock(&mem_lock);
	if (mem.key && strcmp(mem.key, key) == 0 && now + IMDS_REFRESH_MARGIN < mem.expires)
		r = identity_new(mem.token, mem.resource_id, mem.expires, true, ret_id);
	pthread_mutex_unlock(&mem_lock);
	return r;
}

static void mem_put(const char *key, const struct imds_identity *id)
{
	pthread_mutex_lock(&mem_lock);
	mem_clear_locked();
	mem.key = strdup(key);
	mem.token = strdup(id->access_token);
	mem.resource_id = strdup(id->resource_id);
	mem.expires = id->expires;
	if (!mem.key || !mem.token || !mem.resource_id)
		mem_clear_locked();
	pthread_mutex_unlock(&mem_lock);
}

/* Read the cache file if it is trustworthy for a secret; EL_ERR_NOT_FOUND otherwise. */
static int file_get(const struct el_config *cfg, time_t now, struct imds_identity **ret_id)
{
	char path[4096];
	struct stat st;
	char *text = NULL;
	json_t *root = NULL;
	const char *url, *rid, *tok;
	json_t *exp;
	ssize_t n;
	size_t len = 0;
	int fd = -1, r;

	r = state_path(cfg, IMDS_CACHE_FILE, path, sizeof(path));
	if (r < 0)
		return r;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return EL_ERR_NOT_FOUND;
	r = EL_ERR_NOT_FOUND;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (st.st_uid != 0 && st.st_uid != geteuid()) ||
	    (st.st_mode & 077) != 0 || st.st_size <= 0 || (unsigned long long)st.st_size > IMDS_CACHE_MAX)
		goto out;
	text = calloc(1, (size_t)st.st_size + 1);
	if (!text) {
		r = EL_ERR_NOMEM;
		goto out;
	}
	while (len < (size_t)st.st_size) {
		n = read(fd, text + len, (size_t)st.st_size - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(root))
		goto out;
	url = json_string_value(json_object_get(root, "imds_url"));
	rid = json_string_value(json_object_get(root, "resource_id"));
	tok = json_string_value(json_object_get(root, "access_token"));
	exp = json_object_get(root, "expires");
	if (!url || !rid || !tok || !json_is_integer(exp) || strcmp(url, cfg->imds_url) != 0 ||
	    !imds_resource_id_ok(rid) || !token_chars_ok(tok))
		goto out;
	if (now + IMDS_REFRESH_MARGIN >= (time_t)json_integer_value(exp))
		goto out;
	r = identity_new(tok, rid, (time_t)json_integer_value(exp), true, ret_id);
out:
	if (root) {
		/* jansson keeps its own copy of the token: overwrite it before freeing. */
		json_t *t = json_object_get(root, "access_token");

		if (json_is_string(t))
			explicit_bzero((char *)json_string_value(t), json_string_length(t));
		json_decref(root);
	}
	if (text) {
		explicit_bzero(text, len);
		free(text);
	}
	close(fd);
	return r;
}

static void file_put(const struct el_config *cfg, const struct imds_identity *id)
{
	const char *dir = cfg->state_dir ? cfg->state_dir : EL_STATEDIR;
	char path[4096];
	json_t *root = NULL;
	char *text = NULL;

	if (state_path(cfg, IMDS_CACHE_FILE, path, sizeof(path)) < 0)
		return;
	root = json_pack("{s:s, s:s, s:s, s:I}", "imds_url", cfg->imds_url, "resource_id", id->resource_id,
			 "access_token", id->access_token, "expires", (json_int_t)id->expires);
	if (root)
		text = json_dumps(root, JSON_COMPACT);
	/* A cache we cannot write only costs the next process an IMDS request. */
	if (text && (mkdir(dir, 0755) == 0 || errno == EEXIST) && file_write_atomic(path, text, strlen(text), 0600) < 0)
		(void)unlink(path);
	secret_free(text);
	if (root) {
		json_t *t = json_object_get(root, "access_token");

		if (json_is_string(t))
			explicit_bzero((char *)json_string_value(t), json_string_length(t));
		json_decref(root);
	}
}

int imds_parse_token(const char *text, size_t len, time_t now, char **ret_token, time_t *ret_expires)
{
	json_t *root = NULL, *v;
	const char *tok;
	uint64_t lifetime = 0;
	char *copy = NULL;
	int r = EL_ERR_JSON;

	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(root))
		goto out;
	tok = json_string_value(json_object_get(root, "access_token"));
	if (!tok || !token_chars_ok(tok))
		goto out;
	v = json_object_get(root, "expires_in");
	if (json_is_string(v)) {
		if (parse_uint(json_string_value(v), 1, UINT32_MAX, &lifetime) < 0)
			goto out;
	} else if (json_is_integer(v) && json_integer_value(v) > 0) {
		lifetime = (uint64_t)json_integer_value(v);
	} else {
		goto out;
	}
	if (lifetime > IMDS_LIFETIME_MAX)
		lifetime = IMDS_LIFETIME_MAX;
	copy = strdup(tok);
	if (!copy) {
		r = EL_ERR_NOMEM;
		goto out;
	}
	*ret_token = copy;
	*ret_expires = now + (time_t)lifetime;
	r = 0;
out:
	if (root) {
		json_t *t = json_object_get(root, "access_token");

		if (json_is_string(t))
			explicit_bzero((char *)json_string_value(t), json_string_length(t));
		json_decref(root);
	}
	return r;
}

int imds_token_for(const struct el_config *cfg, const char *resource, uint64_t deadline_ms, time_t now,
		   char **ret_token, time_t *ret_expires)
{
	static const char *const headers[] = { "Metadata: true", NULL };
	struct http_response *resp = NULL;
	char url[EL_URL_MAX + 256];
	int r;

	if (!cfg->imds_url)
		return EL_ERR_INVAL;
	snprintf(url, sizeof(url), "%s/metadata/identity/oauth2/token?api-version=" IMDS_TOKEN_API "&resource=%s",
		 cfg->imds_url, resource);
	r = http_get(cfg, url, headers, deadline_ms, &resp);
	if (r < 0)
		goto out;
	if (resp->status != 200) {
		r = EL_ERR_HTTP_STATUS;
		goto out;
	}
	r = imds_parse_token(resp->body, resp->len, now, ret_token, ret_expires);
out:
	http_response_free(resp);
	return r;
}

static int fetch(const struct el_config *cfg, uint64_t deadline_ms, time_t now, struct imds_identity **ret_id)
{
	static const char *const headers[] = { "Metadata: true", NULL };
	struct http_response *resp = NULL;
	char url[EL_URL_MAX + 256];
	char *token = NULL, *rid;
	time_t expires = 0;
	int r;

	if (!cfg->imds_url)
		return EL_ERR_INVAL;
	r = imds_token_for(cfg, IMDS_RESOURCE_ARM, deadline_ms, now, &token, &expires);
	if (r < 0)
		goto out;
	snprintf(url, sizeof(url), "%s/metadata/instance/compute/resourceId?api-version=" IMDS_INSTANCE_API
		 "&format=text", cfg->imds_url);
	r = http_get(cfg, url, headers, deadline_ms, &resp);
	if (r < 0)
		goto out;
	if (resp->status != 200) {
		r = EL_ERR_HTTP_STATUS;
		goto out;
	}
	if (strlen(resp->body) != resp->len) {
		r = EL_ERR_JSON;
		goto out;
	}
	rid = str_strip(resp->body);
	if (!imds_resource_id_ok(rid)) {
		r = EL_ERR_JSON;
		goto out;
	}
	r = identity_new(token, rid, expires, false, ret_id);
out:
	secret_free(token);
	http_response_free(resp);
	return r;
}

int imds_identity_get(const struct el_config *cfg, uint64_t deadline_ms, time_t now, struct imds_identity **ret_id)
{
	struct imds_identity *id = NULL;
	char *key = NULL;
	int r;

	key = cache_key(cfg);
	if (!key)
		return EL_ERR_NOMEM;
	r = mem_get(key, now, &id);
	if (r == EL_ERR_NOT_FOUND) {
		r = file_get(cfg, now, &id);
		if (r == 0)
			mem_put(key, id);
	}
	if (r == EL_ERR_NOT_FOUND) {
		r = fetch(cfg, deadline_ms, now, &id);
		if (r == 0) {
			mem_put(key, id);
			file_put(cfg, id);
		}
	}
	if (r < 0)
		goto out;
	*ret_id = id;
	id = NULL;
out:
	imds_identity_free(id);
	free(key);
	return r;
}

void imds_identity_forget(const struct el_config *cfg)
{
	char path[4096];
	char *key = cache_key(cfg);

	pthread_mutex_lock(&mem_lock);
	if (!key || (mem.key && strcmp(mem.key, key) == 0))
		mem_clear_locked();
	pthread_mutex_unlock(&mem_lock);
	free(key);
	if (state_path(cfg, IMDS_CACHE_FILE, path, sizeof(path)) == 0)
		(void)unlink(path);
}
