/* arm.c - role assignments of one user on this VM, from Azure Resource Manager. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "arm.h"
#include "el_limits.h"
#include "http.h"
#include "imds.h"
#include "names.h"
#include "oidc.h"
#include "paging.h"
#include "strutil.h"

#define MG_PREFIX "/providers/Microsoft.Management/managementGroups/"

enum el_role arm_role_of_definition(const char *role_definition_id)
{
	const char *last;

	if (!role_definition_id)
		return EL_ROLE_NONE;
	last = strrchr(role_definition_id, '/');
	last = last ? last + 1 : role_definition_id;
	if (strlen(last) != EL_GUID_LEN)
		return EL_ROLE_NONE;
	if (strcasecmp(last, ARM_ROLE_ADMIN_ID) == 0)
		return EL_ROLE_ADMIN;
	if (strcasecmp(last, ARM_ROLE_USER_ID) == 0)
		return EL_ROLE_USER;
	return EL_ROLE_NONE;
}

bool arm_scope_applies(const char *scope, const char *vm_id)
{
	size_t n;

	if (!scope || !vm_id)
		return false;
	if (strcmp(scope, "/") == 0)
		return true;
	if (strncasecmp(scope, MG_PREFIX, strlen(MG_PREFIX)) == 0 && scope[strlen(MG_PREFIX)] != '\0' &&
	    !strchr(scope + strlen(MG_PREFIX), '/'))
		return true;
	n = strlen(scope);
	while (n > 1 && scope[n - 1] == '/')
		n--;
	if (n == 0 || scope[0] != '/' || strncasecmp(vm_id, scope, n) != 0)
		return false;
	return vm_id[n] == '\0' || vm_id[n] == '/';
}

bool arm_next_link_ok(const struct el_config *cfg, const char *url)
{
	return cfg->arm_url && url && oidc_same_origin(cfg->arm_url, url);
}

int arm_parse_page(const char *text, size_t len, const char *vm_id, enum el_role *io_role, char **ret_next_link)
{
	json_t *root = NULL, *value, *item;
	enum el_role best = *io_role;
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
		json_t *props = json_object_get(item, "properties");
		const char *def, *scope;
		enum el_role role;

		if (!json_is_object(item) || !json_is_object(props))
			goto out;
		def = json_string_value(json_object_get(props, "roleDefinitionId"));
		scope = json_string_value(json_object_get(props, "scope"));
		role = arm_role_of_definition(def);
		if (role > best && arm_scope_applies(scope, vm_id))
			best = role;
	}
	/* no cap of our own: http.c bounds the URL it is asked to fetch */
	r = paging_next_link(root, "nextLink", SIZE_MAX, &link);
	if (r < 0)
		goto out;
	*io_role = best;
	*ret_next_link = link;
	link = NULL;
	r = 0;
out:
	free(link);
	json_decref(root);
	return r;
}

static int auth_header(const struct imds_identity *id, char **ret)
{
	char *h = NULL;

	if (asprintf(&h, "Authorization: Bearer %s", id->access_token) < 0)
		return EL_ERR_NOMEM;
	*ret = h;
	return 0;
}

/* All pages for one identity. *ret_retry is set when a cached token got 401. */
static int list_roles(const struct el_config *cfg, const struct imds_identity *id, const char *oid,
		      uint64_t deadline_ms, enum el_role *ret_role, bool *ret_retry)
{
	struct http_response *resp = NULL;
	enum el_role role = EL_ROLE_NONE;
	char *url = NULL, *next = NULL, *auth = NULL;
	const char *headers[2] = { NULL, NULL };
	int r;

	r = auth_header(id, &auth);
	if (r < 0)
		goto out;
	headers[0] = auth;
	if (asprintf(&url, "%s%s/providers/Microsoft.Authorization/roleAssignments?api-version=" ARM_API_VERSION
		     "&$filter=assignedTo('%s')", cfg->arm_url, id->resource_id, oid) < 0) {
		url = NULL;
		r = EL_ERR_NOMEM;
		goto out;
	}
	for (int page = 0;; page++) {
		if (page >= ARM_PAGES_MAX) {
			r = EL_ERR_HTTP_TOO_BIG;
			goto out;
		}
		r = http_get(cfg, url, headers, deadline_ms, &resp);
		if (r < 0)
			goto out;
		if (resp->status == 401 && page == 0 && id->from_cache) {
			*ret_retry = true;
			r = EL_ERR_HTTP_STATUS;
			goto out;
		}
		if (resp->status == 403) {
			r = EL_ERR_ARM_FORBIDDEN;
			goto out;
		}
		if (resp->status != 200) {
			r = EL_ERR_HTTP_STATUS;
			goto out;
		}
		r = arm_parse_page(resp->body, resp->len, id->resource_id, &role, &next);
		if (r < 0)
			goto out;
		http_response_free(resp);
		resp = NULL;
		free(url);
		url = next;
		next = NULL;
		/* Admin is the highest answer: no need to read further pages. */
		if (!url || role == EL_ROLE_ADMIN)
			break;
		if (!arm_next_link_ok(cfg, url)) {
			r = EL_ERR_HTTP_REDIRECT;
			goto out;
		}
	}
	*ret_role = role;
	r = 0;
out:
	http_response_free(resp);
	secret_free(auth);
	free(url);
	free(next);
	return r;
}

int arm_vm_role(const struct el_config *cfg, const char *oid, uint64_t deadline_ms, time_t now, enum el_role *ret_role)
{
	struct imds_identity *id = NULL;
	char lower[EL_GUID_LEN + 1];
	bool retry = false;
	int r;

	if (!oid || !name_is_guid(oid) || !cfg->arm_url)
		return EL_ERR_INVAL;
	for (size_t i = 0; i <= EL_GUID_LEN; i++)
		lower[i] = (oid[i] >= 'A' && oid[i] <= 'F') ? (char)(oid[i] + 32) : oid[i];
	r = imds_identity_get(cfg, deadline_ms, now, &id);
	if (r < 0)
		goto out;
	r = list_roles(cfg, id, lower, deadline_ms, ret_role, &retry);
	if (r < 0 && retry) {
		/* The cached token was refused (revoked, or another IMDS): once more with a new one. */
		imds_identity_free(id);
		id = NULL;
		imds_identity_forget(cfg);
		r = imds_identity_get(cfg, deadline_ms, now, &id);
		if (r < 0)
			goto out;
		retry = false;
		r = list_roles(cfg, id, lower, deadline_ms, ret_role, &retry);
	}
out:
	imds_identity_free(id);
	return r;
}
