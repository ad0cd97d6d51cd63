/* graph.c - transitive group memberships of one user from Microsoft Graph. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "graph.h"
#include "http.h"
#include "imds.h"
#include "names.h"
#include "oidc.h"
#include "paging.h"
#include "strutil.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	char *token;		/* secret */
	char *imds_url;		/* the token's source: imds_url or graph_credential_file */
	time_t expires;
} tok_cache;
static struct {
	char oid[EL_GUID_LEN + 1];
	char *key;		/* graph_url + attribute */
	struct graph_groups *groups;
	time_t at;
} grp_cache;

void graph_groups_free(struct graph_groups *g)
{
	if (!g)
		return;
	for (size_t i = 0; i < g->n; i++)
		free(g->items[i].name);
	free(g->items);
	free(g);
}

static void forget_locked(void)
{
	secret_free(tok_cache.token);
	free(tok_cache.imds_url);
	memset(&tok_cache, 0, sizeof(tok_cache));
	graph_groups_free(grp_cache.groups);
	free(grp_cache.key);
	memset(&grp_cache, 0, sizeof(grp_cache));
}

void graph_forget(void)
{
	pthread_mutex_lock(&lock);
	forget_locked();
	pthread_mutex_unlock(&lock);
}

bool graph_next_link_ok(const struct el_config *cfg, const char *url)
{
	return cfg->graph_url && url && oidc_same_origin(cfg->graph_url, url);
}

static int groups_add(struct graph_groups *acc, const char *id, const char *name)
{
	struct graph_group *p;
	char *copy = NULL;

	if (acc->n >= GRAPH_GROUPS_MAX)
		return EL_ERR_RANGE;
	if (acc->n == acc->cap) {
		size_t cap = acc->cap ? 2 * acc->cap : 64;

		p = realloc(acc->items, cap * sizeof(*p));
		if (!p)
			return EL_ERR_NOMEM;
		acc->items = p;
		acc->cap = cap;
	}
	if (name) {
		copy = strdup(name);
		if (!copy)
			return EL_ERR_NOMEM;
	}
	for (size_t i = 0; i <= EL_GUID_LEN; i++)
		acc->items[acc->n].id[i] = (id[i] >= 'A' && id[i] <= 'F') ? (char)(id[i] + 32) : id[i];
	acc->items[acc->n].name = copy;
	acc->n++;
	return 0;
}

int graph_parse_page(const char *text, size_t len, const char *attr, struct graph_groups *acc, char **ret_next_link)
{
	json_t *root = NULL, *value, *item;
	char *link = NULL;
	size_t i;
	int r = EL_ERR_JSON;

	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(root))
		goto out;
	value = json_object_get(root, "value");
	if (!json_is_array(value))
		goto out;
	json_array_foreach(value, i, item) {
		json_t *id = json_object_get(item, "id"), *nm = json_object_get(item, attr);
		const char *name = NULL;

		if (!json_is_object(item) || !json_is_string(id) || !name_is_guid(json_string_value(id)))
			goto out;
		if (nm && !json_is_null(nm)) {
			if (!json_is_string(nm) || strlen(json_string_value(nm)) != json_string_length(nm) ||
			    json_string_length(nm) > 256)
				goto out;
			name = json_string_value(nm);
		}
		r = groups_add(acc, json_string_value(id), name);
		if (r < 0)
			goto out;
		r = EL_ERR_JSON;
	}
	r = paging_next_link(root, "@odata.nextLink", EL_URL_MAX, &link);
	if (r < 0)
		goto out;
	*ret_next_link = link;
	link = NULL;
	r = 0;
out:
	free(link);
	json_decref(root);
	return r;
}

/* client_id and client_secret from graph_credential_file: a regular file
 * owned by root with no group or other permission bits (it holds a secret
 * that reads every group of the tenant). "key = value" lines, '#' comments.
 * *ret_secret is a new secret. Returns 0, EL_ERR_INSECURE, EL_ERR_IO,
 * EL_ERR_CONFIG (a key missing, repeated or malformed), EL_ERR_NOMEM. */
static int read_credential(const char *path, char ret_id[EL_GUID_LEN + 1], char **ret_secret)
{
	struct stat st;
	char *text = NULL, *line, *save = NULL, *secret = NULL;
	char id[EL_GUID_LEN + 1] = "";
	size_t len = 0;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return errno == ELOOP ? EL_ERR_INSECURE : EL_ERR_IO;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != 0 || (st.st_mode & 077)) {
		r = EL_ERR_INSECURE;
		goto out;
	}
	r = fd_read_capped(fd, GRAPH_CREDENTIAL_MAX, &text, &len);
	if (r < 0)
		goto out;
	r = EL_ERR_CONFIG;
	if (memchr(text, '\0', len))
		goto out;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *eq, *k, *v = NULL;

		k = str_strip(line);
		if (*k == '\0' || *k == '#')
			continue;
		eq = strchr(k, '=');
		if (!eq)
			goto out;
		*eq = '\0';
		k = str_strip(k);
		v = str_strip(eq + 1);
		if (strcmp(k, "client_id") == 0 && !id[0] && name_is_guid(v)) {
			memcpy(id, v, sizeof(id));
		} else if (strcmp(k, "client_secret") == 0 && !secret && *v && !str_has_ctl(v) && !strchr(v, ' ')) {
			secret = strdup(v);
			if (!secret) {
				r = EL_ERR_NOMEM;
				goto out;
			}
		} else {
			goto out;
		}
	}
	if (!id[0] || !secret)
		goto out;
	memcpy(ret_id, id, sizeof(id));
	*ret_secret = secret;
	secret = NULL;
	r = 0;
out:
	if (text) {
		explicit_bzero(text, len);
		free(text);
	}
	secret_free(secret);
	close(fd);
	return r;
}

/* A Graph token: the app's (client credentials from graph_credential_file)
 * or else the VM managed identity's (IMDS). Either is cached in memory
 * until IMDS_REFRESH_MARGIN before it expires. *ret is a new secret. */
static int graph_token(const struct el_config *cfg, uint64_t deadline_ms, time_t now, char **ret)
{
	struct http_response *resp = NULL;
	struct http_form form = { 0 };
	char url[EL_URL_MAX + 256], client_id[EL_GUID_LEN + 1];
	const char *key = cfg->graph_credential_file ? cfg->graph_credential_file : cfg->imds_url;
	char *token = NULL, *copy = NULL, *secret = NULL;
	time_t expires = 0;
	int r;

	if (!key)
		return EL_ERR_INVAL;
	pthread_mutex_lock(&lock);
	if (tok_cache.token && tok_cache.imds_url && strcmp(tok_cache.imds_url, key) == 0 &&
	    now + IMDS_REFRESH_MARGIN < tok_cache.expires)
		copy = strdup(tok_cache.token);
	pthread_mutex_unlock(&lock);
	if (copy) {
		*ret = copy;
		return 0;
	}
	if (cfg->graph_credential_file) {
		r = read_credential(cfg->graph_credential_file, client_id, &secret);
		if (r < 0)
			goto out;
		snprintf(url, sizeof(url), "%s/%s/oauth2/v2.0/token", cfg->authority, cfg->tenant_id);
		r = http_form_add(&form, "grant_type", "client_credentials");
		if (r == 0)
			r = http_form_add(&form, "client_id", client_id);
		if (r == 0)
			r = http_form_add(&form, "client_secret", secret);
		if (r == 0)
			r = http_form_add(&form, "scope", GRAPH_RESOURCE ".default");
		if (r == 0)
			r = http_post_form(cfg, url, NULL, &form, deadline_ms, &resp);
		if (r < 0)
			goto out;
		if (resp->status != 200) {
			r = EL_ERR_HTTP_STATUS;
			goto out;
		}
		r = imds_parse_token(resp->body, resp->len, now, &token, &expires);
	} else {
		r = imds_token_for(cfg, IMDS_RESOURCE_GRAPH, deadline_ms, now, &token, &expires);
	}
	if (r < 0)
		goto out;
	copy = strdup(token);
	if (!copy) {
		r = EL_ERR_NOMEM;
		goto out;
	}
	pthread_mutex_lock(&lock);
	secret_free(tok_cache.token);
	free(tok_cache.imds_url);
	tok_cache.token = copy;
	tok_cache.imds_url = strdup(key);
	tok_cache.expires = expires;
	if (!tok_cache.imds_url) {
		secret_free(tok_cache.token);
		tok_cache.token = NULL;
	}
	pthread_mutex_unlock(&lock);
	*ret = token;
	token = NULL;
out:
	secret_free(token);
	secret_free(secret);
	http_form_free(&form);
	http_response_free(resp);
	return r;
}

/* 404 with error.code Request_ResourceNotFound: the user is gone. */
static bool user_gone(const struct http_response *resp)
{
	json_t *root;
	bool gone = false;

	if (resp->status != 404)
		return false;
	root = json_loadb(resp->body, resp->len, JSON_REJECT_DUPLICATES, NULL);
	if (root) {
		const char *code = json_string_value(json_object_get(json_object_get(root, "error"), "code"));

		gone = code && strcmp(code, "Request_ResourceNotFound") == 0;
	}
	json_decref(root);
	return gone;
}

/* "Authorization: Bearer <Graph token>" (a secret: free with secret_free). */
static int graph_auth_header(const struct el_config *cfg, uint64_t deadline_ms, time_t now, char **ret_header)
{
	char *token = NULL, *h = NULL;
	int r;

	r = graph_token(cfg, deadline_ms, now, &token);
	if (r < 0)
		return r;
	if (asprintf(&h, "Authorization: Bearer %s", token) < 0) {
		h = NULL;
		r = EL_ERR_NOMEM;
	}
	secret_free(token);
	if (r == 0)
		*ret_header = h;
	return r;
}

static int fetch(const struct el_config *cfg, const char *oid, uint64_t deadline_ms, time_t now,
		 struct graph_groups **ret)
{
	struct graph_groups *acc = NULL;
	struct http_response *resp = NULL;
	char *auth = NULL, *url = NULL, *next = NULL;
	const char *headers[2] = { NULL, NULL };
	int r;

	acc = calloc(1, sizeof(*acc));
	if (!acc)
		return EL_ERR_NOMEM;
	r = graph_auth_header(cfg, deadline_ms, now, &auth);
	if (r < 0)
		goto out;
	headers[0] = auth;
	if (asprintf(&url, "%s/v1.0/users/%s/transitiveMemberOf/microsoft.graph.group?$select=id,%s&$top=999",
		     cfg->graph_url, oid, cfg->group_name_attribute) < 0) {
		url = NULL;
		r = EL_ERR_NOMEM;
		goto out;
	}
	for (int page = 0;; page++) {
		if (page >= GRAPH_PAGES_MAX) {
			r = EL_ERR_HTTP_TOO_BIG;
			goto out;
		}
		r = http_get(cfg, url, headers, deadline_ms, &resp);
		if (r < 0)
			goto out;
		if (page == 0 && user_gone(resp))
			break;	/* deleted in the directory: in no group */
		if (resp->status == 401)
			graph_forget();	/* the next call fetches a new token */
		if (resp->status != 200) {
			r = EL_ERR_HTTP_STATUS;
			goto out;
		}
		r = graph_parse_page(resp->body, resp->len, cfg->group_name_attribute, acc, &next);
		if (r < 0)
			goto out;
		http_response_free(resp);
		resp = NULL;
		free(url);
		url = next;
		next = NULL;
		if (!url)
			break;
		if (!graph_next_link_ok(cfg, url)) {
			r = EL_ERR_HTTP_REDIRECT;
			goto out;
		}
	}
	*ret = acc;
	acc = NULL;
	r = 0;
out:
	graph_groups_free(acc);
	http_response_free(resp);
	secret_free(auth);
	free(url);
	free(next);
	return r;
}

static struct graph_groups *groups_dup(const struct graph_groups *g)
{
	struct graph_groups *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	for (size_t i = 0; i < g->n; i++)
		if (groups_add(c, g->items[i].id, g->items[i].name) < 0) {
			graph_groups_free(c);
			return NULL;
		}
	return c;
}

int graph_user_groups(const struct el_config *cfg, const char *oid, uint64_t deadline_ms, time_t now,
		      struct graph_groups **ret)
{
	struct graph_groups *g = NULL, *keep = NULL;
	char lower[EL_GUID_LEN + 1], *key = NULL;
	int r;

	if (!oid || !name_is_guid(oid) || !cfg->graph_url)
		return EL_ERR_INVAL;
	for (size_t i = 0; i <= EL_GUID_LEN; i++)
		lower[i] = (oid[i] >= 'A' && oid[i] <= 'F') ? (char)(oid[i] + 32) : oid[i];
	if (asprintf(&key, "%s|%s", cfg->graph_url, cfg->group_name_attribute) < 0)
		return EL_ERR_NOMEM;
	pthread_mutex_lock(&lock);
	if (grp_cache.groups && strcmp(grp_cache.oid, lower) == 0 && grp_cache.key && strcmp(grp_cache.key, key) == 0 &&
	    now >= grp_cache.at && now - grp_cache.at < GRAPH_CACHE_SECONDS)
		g = groups_dup(grp_cache.groups);
	pthread_mutex_unlock(&lock);
	if (g) {
		free(key);
		*ret = g;
		return 0;
	}
	r = fetch(cfg, lower, deadline_ms, now, &g);
	if (r < 0) {
		free(key);
		return r;
	}
	keep = groups_dup(g);
	pthread_mutex_lock(&lock);
	if (keep) {
		graph_groups_free(grp_cache.groups);
		free(grp_cache.key);
		memcpy(grp_cache.oid, lower, sizeof(lower));
		grp_cache.groups = keep;
		grp_cache.key = key;
		grp_cache.at = now;
		key = NULL;
	}
	pthread_mutex_unlock(&lock);
	free(key);
	*ret = g;
	return 0;
}

/* Graph matches $select names without regard to case and answers in the
 * property's own spelling: look the answer up the same way. */
static json_t *get_nocase(json_t *obj, const char *key)
{
	const char *k;
	json_t *v;

	if (!json_is_object(obj))
		return NULL;
	json_object_foreach(obj, k, v)
		if (strcasecmp(k, key) == 0)
			return v;
	return NULL;
}

/* A property value as text: a string, or an integer in decimal. */
static int prop_text(json_t *user, const char *prop, char **ret)
{
	static const char onp[] = "onPremisesExtensionAttributes.";
	json_t *v;
	char buf[32];

	if (strncasecmp(prop, onp, sizeof(onp) - 1) == 0)
		v = get_nocase(get_nocase(user, "onPremisesExtensionAttributes"), prop + sizeof(onp) - 1);
	else
		v = get_nocase(user, prop);
	if (!v || json_is_null(v)) {
		*ret = NULL;
		return 0;
	}
	if (json_is_integer(v)) {	/* a negative one is refused by the caller's checks */
		snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(v));
		*ret = strdup(buf);
	} else if (json_is_string(v) && strlen(json_string_value(v)) == json_string_length(v) &&
		   json_string_length(v) <= 1024) {
		*ret = strdup(json_string_value(v));
	} else {
		return EL_ERR_JSON;
	}
	return *ret ? 0 : EL_ERR_NOMEM;
}

int graph_user_attributes(const struct el_config *cfg, const char *oid, const char *const *props, size_t n,
			  uint64_t deadline_ms, time_t now, char **ret_values)
{
	struct http_response *resp = NULL;
	char *auth = NULL, *url = NULL, *sel = NULL;
	char *vals[GRAPH_ATTRS_MAX] = { NULL };
	const char *headers[2] = { NULL, NULL };
	json_t *root = NULL;
	size_t sl = 0;
	int r;

	if (!oid || !name_is_guid(oid) || n > GRAPH_ATTRS_MAX || !cfg->graph_url)
		return EL_ERR_INVAL;
	for (size_t i = 0; i < n; i++)
		sl += strlen(props[i]) + 1;
	sel = calloc(1, sl + 3);
	if (!sel)
		return EL_ERR_NOMEM;
	strcpy(sel, "id");
	for (size_t i = 0; i < n; i++) {
		const char *dot = strchr(props[i], '.');

		size_t len = dot ? (size_t)(dot - props[i]) : strlen(props[i]);
		bool dup = false;

		for (size_t j = 0; j < i; j++)	/* two onPremisesExtensionAttributes.*: select it once */
			dup = dup || (strncasecmp(props[j], props[i], len) == 0 && (props[j][len] == '.' || !props[j][len]));
		if (dup)
			continue;
		strcat(sel, ",");
		strncat(sel, props[i], len);
	}
	r = graph_auth_header(cfg, deadline_ms, now, &auth);
	if (r < 0)
		goto out;
	headers[0] = auth;
	if (asprintf(&url, "%s/v1.0/users/%s?$select=%s", cfg->graph_url, oid, sel) < 0) {
		url = NULL;
		r = EL_ERR_NOMEM;
		goto out;
	}
	r = http_get(cfg, url, headers, deadline_ms, &resp);
	if (r < 0)
		goto out;
	if (resp->status != 200) {
		r = EL_ERR_HTTP_STATUS;
		goto out;
	}
	r = EL_ERR_JSON;
	root = json_loadb(resp->body, resp->len, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(root))
		goto out;
	for (size_t i = 0; i < n; i++) {
		r = prop_text(root, props[i], &vals[i]);
		if (r < 0)
			goto out;
	}
	for (size_t i = 0; i < n; i++) {
		ret_values[i] = vals[i];
		vals[i] = NULL;
	}
	r = 0;
out:
	for (size_t i = 0; i < n && i < GRAPH_ATTRS_MAX; i++)
		free(vals[i]);
	json_decref(root);
	http_response_free(resp);
	secret_free(auth);
	free(url);
	free(sel);
	return r;
}
