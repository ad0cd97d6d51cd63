/* test_roles.c - the role decision without a network: the claims and static
 * sources, source order and unavailability, role definition ids, scopes,
 * ARM pages, nextLink origins, IMDS answers and the token cache file.
 * (ARM and IMDS against the fake Entra ID: tests/integration/test_roles.py.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "arm.h"
#include "conf.h"
#include "imds.h"
#include "roles.h"
#include "strutil.h"

#define ADMIN_ID "1c0163c0-47e6-4577-8991-ea5c82e286e4"
#define USER_ID "fb879df8-f326-4884-b1cf-06f3ad86be52"
#define OID "0f4c2f5e-9a8b-4c7d-8e6f-5a4b3c2d1e0f"
#define G_ADMINS "aaaaaaaa-1111-4222-8333-444444444444"
#define G_USERS "bbbbbbbb-1111-4222-8333-444444444444"
#define VM "/subscriptions/7d3e9f1a-2b4c-4d5e-8f6a-9b0c1d2e3f4a/resourceGroups/rg-x/providers/Microsoft.Compute/virtualMachines/vm1"
/* Nothing listens on port 1: a connection there is refused at once. */
#define CLOSED "http://127.0.0.1:1"

#define BASE "tenant_id = 6e2d6a5c-7f3b-4a8e-9c41-2b5d8f0e1a37\n" \
	     "client_id = 3f8a1c2e-5b6d-4e7f-9a0b-1c2d3e4f5a6b\n" \
	     "domains = contoso.com\n" \
	     "http_timeout = 2\n"
#define URLS "imds_url = " CLOSED "\narm_url = https://127.0.0.1:1\n"

static struct el_config *config_raw(const char *extra)
{
	struct el_config *cfg = NULL;
	char text[4096], err[256];

	snprintf(text, sizeof(text), "%s%s", BASE, extra);
	if (cfg_parse("/test.conf", text, strlen(text), &cfg, err, sizeof(err)) < 0)
		fail_msg("config: %s", err);
	return cfg;
}

/* IMDS and ARM on a port where nothing listens. */
static struct el_config *config(const char *extra)
{
	char text[2048];

	snprintf(text, sizeof(text), "%s%s", URLS, extra);
	return config_raw(text);
}

static struct role_input claims_input(const char *const *roles, size_t n_roles, const char *const *groups,
				      size_t n_groups)
{
	struct role_input in = {
		.name = "alice@contoso.com", .oid = OID, .have_claims = true,
		.roles = roles, .n_roles = n_roles, .groups = groups, .n_groups = n_groups,
	};
	return in;
}

static void expect_claims(const struct el_config *cfg, const struct role_input *in, int want_r, enum el_role want)
{
	enum el_role role = EL_ROLE_NONE;

	assert_int_equal(roles_from_claims(cfg, in, &role), want_r);
	if (want_r == 0)
		assert_int_equal(role, want);
}

static void test_roles_from_claims_matrix(void **state)
{
	struct el_config *cfg = config("static_admins = " G_ADMINS "\nstatic_users = " G_USERS "\n");
	static const char *const admin[] = { "VirtualMachineAdministratorLogin" };
	static const char *const user[] = { "VirtualMachineUserLogin" };
	static const char *const both[] = { "VirtualMachineUserLogin", "VirtualMachineAdministratorLogin" };
	static const char *const other[] = { "Reader", "virtualmachineadministratorlogin",
					     "VirtualMachineAdministratorLogin ", "VirtualMachineAdministratorLogin,x" };
	static const char *const g_admin[] = { "cccccccc-1111-4222-8333-444444444444", "AAAAAAAA-1111-4222-8333-444444444444" };
	static const char *const g_user[] = { G_USERS };
	struct role_input in;

	(void)state;
	in = claims_input(admin, 1, NULL, 0);
	expect_claims(cfg, &in, 0, EL_ROLE_ADMIN);
	in = claims_input(user, 1, NULL, 0);
	expect_claims(cfg, &in, 0, EL_ROLE_USER);
	in = claims_input(both, 2, NULL, 0);
	expect_claims(cfg, &in, 0, EL_ROLE_ADMIN);
	in = claims_input(NULL, 0, NULL, 0);
	expect_claims(cfg, &in, EL_ERR_NOT_FOUND, EL_ROLE_NONE);
	/* Case, padding and list syntax do not make a role value. */
	in = claims_input(other, 4, NULL, 0);
	expect_claims(cfg, &in, EL_ERR_NOT_FOUND, EL_ROLE_NONE);
	/* Group object ids compare case-insensitively; admin wins over user. */
	in = claims_input(user, 1, g_admin, 2);
	expect_claims(cfg, &in, 0, EL_ROLE_ADMIN);
	in = claims_input(NULL, 0, g_user, 1);
	expect_claims(cfg, &in, 0, EL_ROLE_USER);
	/* Overage: the groups are not known, never "all groups". */
	in = claims_input(NULL, 0, g_admin, 2);
	in.groups_overage = true;
	expect_claims(cfg, &in, EL_ERR_NOT_FOUND, EL_ROLE_NONE);
	in = claims_input(user, 1, g_admin, 2);
	in.groups_overage = true;
	expect_claims(cfg, &in, 0, EL_ROLE_USER);
	/* No token: claims cannot answer. */
	in = claims_input(admin, 1, NULL, 0);
	in.have_claims = false;
	expect_claims(cfg, &in, EL_ERR_ROLE_UNAVAILABLE, EL_ROLE_NONE);
	cfg_free(cfg);
}

static void test_roles_from_claims_odd_bytes_only_become_the_enum(void **state)
{
	/* The config cannot hold ',' ':' '%' '/' or blanks in a list entry; the token can. */
	struct el_config *cfg = config("admin_role_values = Admin.Role-1\n"
				       "user_role_values = User_Role\n"
				       "static_admins = " G_ADMINS "\n");
	static const char *const admin[] = { "Admin.Role-1" };
	static const char *const evil[] = { "Admin.Role-1,aad_admins", "Admin.Role-1\n", "Admin.Role-1:x",
					    "%Admin.Role-1", "User_Role%", "%aad_admins ALL=(ALL) NOPASSWD:ALL",
					    "VirtualMachineAdministratorLogin", "aad_admins:x:999999001:alice@contoso.com" };
	static const char *const evil_groups[] = { G_ADMINS ",x", G_ADMINS "\n", "aad_admins:x:999999001:", "%" G_ADMINS,
						   "aaaaaaaa-1111-4222-8333-44444444444%", "aaaaaaaa:1111-4222-8333-444444444444" };
	struct role_input in;
	enum el_role role = EL_ROLE_NONE;

	(void)state;
	in = claims_input(admin, 1, NULL, 0);
	expect_claims(cfg, &in, 0, EL_ROLE_ADMIN);
	/* Defaults were replaced, and near misses match nothing. */
	in = claims_input(evil, sizeof(evil) / sizeof(evil[0]), evil_groups, sizeof(evil_groups) / sizeof(evil_groups[0]));
	expect_claims(cfg, &in, EL_ERR_NOT_FOUND, EL_ROLE_NONE);
	assert_int_equal(roles_from_static(cfg, &in, &role), EL_ERR_NOT_FOUND);
	/* What leaves the module is a word from a fixed set. */
	assert_string_equal(roles_name(EL_ROLE_ADMIN), "admin");
	assert_string_equal(roles_name(EL_ROLE_USER), "user");
	assert_string_equal(roles_name(EL_ROLE_NONE), "none");
	assert_string_equal(roles_name((enum el_role)7), "none");
	assert_string_equal(roles_source_name((enum el_role_source)9), "-");
	cfg_free(cfg);
}

static void test_roles_from_static_names_and_groups(void **state)
{
	struct el_config *cfg = config("static_admins = Alice@Contoso.com, " G_ADMINS "\n"
				       "static_users = bob@contoso.com, " G_USERS "\n");
	static const char *const g_admin[] = { G_ADMINS };
	struct role_input in = { .name = "alice@contoso.com" };
	enum el_role role = EL_ROLE_NONE;

	(void)state;
	assert_int_equal(roles_from_static(cfg, &in, &role), 0);
	assert_int_equal(role, EL_ROLE_ADMIN);
	in.name = "bob@contoso.com";
	assert_int_equal(roles_from_static(cfg, &in, &role), 0);
	assert_int_equal(role, EL_ROLE_USER);
	in.name = "carol@contoso.com";
	assert_int_equal(roles_from_static(cfg, &in, &role), EL_ERR_NOT_FOUND);
	/* Groups need a token and no overage. */
	in.groups = g_admin;
	in.n_groups = 1;
	assert_int_equal(roles_from_static(cfg, &in, &role), EL_ERR_NOT_FOUND);
	in.have_claims = true;
	assert_int_equal(roles_from_static(cfg, &in, &role), 0);
	assert_int_equal(role, EL_ROLE_ADMIN);
	in.groups_overage = true;
	assert_int_equal(roles_from_static(cfg, &in, &role), EL_ERR_NOT_FOUND);
	/* bob is a user by name and an admin through a group: admin wins. */
	in.name = "bob@contoso.com";
	in.groups_overage = false;
	assert_int_equal(roles_from_static(cfg, &in, &role), 0);
	assert_int_equal(role, EL_ROLE_ADMIN);
	cfg_free(cfg);
}

static int resolve(const char *extra, const struct role_input *in, struct role_result *res)
{
	struct el_config *cfg = config(extra);
	int r = roles_resolve(cfg, in, 0, res);

	cfg_free(cfg);
	return r;
}

static void test_roles_resolve_first_answer_decides(void **state)
{
	static const char *const user[] = { "VirtualMachineUserLogin" };
	static const char *const none[] = { "Reader" };
	struct role_input in = claims_input(user, 1, NULL, 0);
	struct role_result res;

	(void)state;
	/* claims says user, static says admin: claims comes first. */
	assert_int_equal(resolve("role_sources = claims, static\nstatic_admins = alice@contoso.com\n", &in, &res), 0);
	assert_int_equal(res.role, EL_ROLE_USER);
	assert_int_equal(res.source, EL_SRC_CLAIMS);
	assert_false(res.incomplete);
	assert_int_equal(resolve("role_sources = static, claims\nstatic_admins = alice@contoso.com\n", &in, &res), 0);
	assert_int_equal(res.role, EL_ROLE_ADMIN);
	assert_int_equal(res.source, EL_SRC_STATIC);
	/* A token without a role value says nothing: static, next, decides. */
	in = claims_input(none, 1, NULL, 0);
	assert_int_equal(resolve("static_admins = alice@contoso.com\n", &in, &res), 0);
	assert_int_equal(res.role, EL_ROLE_ADMIN);
	assert_int_equal(res.source, EL_SRC_STATIC);
	/* Nobody grants, everybody could answer: no role. */
	assert_int_equal(resolve("", &in, &res), EL_ERR_ROLE_NONE);
	assert_int_equal(res.role, EL_ROLE_NONE);
	assert_int_equal(res.source, 0);
	assert_false(res.incomplete);
}

/* Token-free paths (account, refresh; issue 19): claims answers only for a
 * role claims itself decided, so removing a static entry revokes with
 * `claims, static` (the default) as with `static` alone. */
static void test_roles_token_free_claims_answers_only_for_its_own_roles(void **state)
{
	struct role_input in = { .name = "alice@contoso.com", .oid = OID, .from_store = true };
	struct role_result res;

	(void)state;
	/* Stored by static, static entry removed: claims has nothing to say, no role. */
	assert_int_equal(resolve("role_sources = claims, static\n", &in, &res), EL_ERR_ROLE_NONE);
	assert_false(res.incomplete);
	assert_int_equal(res.source, 0);
	/* Static still lists the user: static decides, whatever the order. */
	assert_int_equal(resolve("role_sources = claims, static\nstatic_admins = alice@contoso.com\n", &in, &res), 0);
	assert_int_equal(res.role, EL_ROLE_ADMIN);
	assert_int_equal(res.source, EL_SRC_STATIC);
	/* Stored by claims at the last sign-in: claims answers with it. */
	in.stored_claims_role = EL_ROLE_USER;
	assert_int_equal(resolve("role_sources = claims, static\nstatic_admins = alice@contoso.com\n", &in, &res), 0);
	assert_int_equal(res.role, EL_ROLE_USER);
	assert_int_equal(res.source, EL_SRC_CLAIMS);
	/* A token, when there is one, is what claims reads. */
	in.have_claims = true;
	assert_int_equal(resolve("role_sources = claims\n", &in, &res), EL_ERR_ROLE_NONE);
}

static void test_roles_resolve_unavailable_is_not_no_role(void **state)
{
	struct role_input in = { .name = "alice@contoso.com", .oid = OID };
	struct role_result res;

	(void)state;
	/* claims without a token, alone: unavailable, not "no role". */
	assert_int_equal(resolve("role_sources = claims\n", &in, &res), EL_ERR_ROLE_UNAVAILABLE);
	assert_true(res.incomplete);
	assert_int_equal(res.unavailable[EL_SRC_CLAIMS], EL_ERR_ROLE_UNAVAILABLE);
	/* IMDS down: the search stops at arm; static, listed after it, is never asked. */
	assert_int_equal(resolve("role_sources = arm, static\nstatic_users = alice@contoso.com\n", &in, &res),
			 EL_ERR_ROLE_UNAVAILABLE);
	assert_int_equal(res.role, EL_ROLE_NONE);
	assert_int_equal(res.source, 0);
	assert_true(res.incomplete);
	assert_int_equal(res.unavailable[EL_SRC_ARM], EL_ERR_HTTP_CONNECT);
	/* ... and when nothing grants, the answer is "unavailable", not "no role". */
	assert_int_equal(resolve("role_sources = arm, static\n", &in, &res), EL_ERR_ROLE_UNAVAILABLE);
	assert_int_equal(res.role, EL_ROLE_NONE);
	assert_int_equal(res.unavailable[EL_SRC_ARM], EL_ERR_HTTP_CONNECT);
	/* No oid known (never bound, no token): arm cannot ask. */
	in.oid = NULL;
	assert_int_equal(resolve("role_sources = arm\n", &in, &res), EL_ERR_ROLE_UNAVAILABLE);
	assert_int_equal(res.unavailable[EL_SRC_ARM], EL_ERR_ROLE_UNAVAILABLE);
	/* Bad input. */
	in.name = NULL;
	assert_int_equal(resolve("", &in, &res), EL_ERR_INVAL);
}

/* Issue 11 sec.3: an unreachable ARM must not let a token's stale admin app role decide. */
static void test_roles_resolve_unavailable_stops_the_search(void **state)
{
	static const char *const admin[] = { "VirtualMachineAdministratorLogin" };
	struct role_input in = claims_input(admin, 1, NULL, 0);
	struct role_result res;

	(void)state;
	in.oid = OID;
	assert_int_equal(resolve("role_sources = arm, claims\n", &in, &res), EL_ERR_ROLE_UNAVAILABLE);
	assert_int_equal(res.role, EL_ROLE_NONE);
	assert_int_equal(res.source, 0);
	assert_int_equal(res.unavailable[EL_SRC_ARM], EL_ERR_HTTP_CONNECT);
	assert_int_equal(res.unavailable[EL_SRC_CLAIMS], 0);	/* never asked */
	/* A source listed before the unavailable one granted: that grant stands. */
	assert_int_equal(resolve("role_sources = claims, arm\n", &in, &res), 0);
	assert_int_equal(res.role, EL_ROLE_ADMIN);
	assert_int_equal(res.source, EL_SRC_CLAIMS);
	assert_false(res.incomplete);
	/* One before it had nothing to say: still unavailable. */
	assert_int_equal(resolve("role_sources = static, arm, claims\n", &in, &res), EL_ERR_ROLE_UNAVAILABLE);
}

static void test_arm_role_of_definition_exact_last_segment(void **state)
{
	(void)state;
	assert_int_equal(arm_role_of_definition("/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/" ADMIN_ID),
			 EL_ROLE_ADMIN);
	assert_int_equal(arm_role_of_definition("/providers/Microsoft.Authorization/roleDefinitions/" USER_ID), EL_ROLE_USER);
	assert_int_equal(arm_role_of_definition("/x/roleDefinitions/1C0163C0-47E6-4577-8991-EA5C82E286E4"), EL_ROLE_ADMIN);
	assert_int_equal(arm_role_of_definition(ADMIN_ID), EL_ROLE_ADMIN);
	/* Custom roles, near misses and other positions do not count. */
	assert_int_equal(arm_role_of_definition("/x/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7"), EL_ROLE_NONE);
	assert_int_equal(arm_role_of_definition("/x/roleDefinitions/" ADMIN_ID "0"), EL_ROLE_NONE);
	assert_int_equal(arm_role_of_definition("/x/roleDefinitions/0" ADMIN_ID), EL_ROLE_NONE);
	assert_int_equal(arm_role_of_definition("/x/roleDefinitions/" ADMIN_ID "/"), EL_ROLE_NONE);
	assert_int_equal(arm_role_of_definition("/x/roleDefinitions/" ADMIN_ID "/custom"), EL_ROLE_NONE);
	assert_int_equal(arm_role_of_definition("/x/roleDefinitions/" ADMIN_ID " "), EL_ROLE_NONE);
	assert_int_equal(arm_role_of_definition(""), EL_ROLE_NONE);
	assert_int_equal(arm_role_of_definition(NULL), EL_ROLE_NONE);
}

static void test_arm_scope_applies_ancestors_only(void **state)
{
	(void)state;
	assert_true(arm_scope_applies(VM, VM));
	assert_true(arm_scope_applies("/subscriptions/7d3e9f1a-2b4c-4d5e-8f6a-9b0c1d2e3f4a/resourceGroups/rg-x", VM));
	assert_true(arm_scope_applies("/subscriptions/7D3E9F1A-2b4c-4d5e-8f6a-9b0c1d2e3f4a/resourcegroups/RG-X/", VM));
	assert_true(arm_scope_applies("/subscriptions/7d3e9f1a-2b4c-4d5e-8f6a-9b0c1d2e3f4a", VM));
	assert_true(arm_scope_applies("/providers/Microsoft.Management/managementGroups/mg1", VM));
	assert_true(arm_scope_applies("/", VM));
	/* A sibling whose name extends ours, another VM, a child resource, nonsense. */
	assert_false(arm_scope_applies("/subscriptions/7d3e9f1a-2b4c-4d5e-8f6a-9b0c1d2e3f4a/resourceGroups/rg-x2", VM));
	assert_false(arm_scope_applies(VM "2", VM));
	/* A scope that is a string prefix of our id but not a parent: resource group "rg" of "rg-x". */
	assert_false(arm_scope_applies("/subscriptions/7d3e9f1a-2b4c-4d5e-8f6a-9b0c1d2e3f4a/resourceGroups/rg", VM));
	assert_false(arm_scope_applies("/subscriptions/7d3e9f1a-2b4c", VM));
	assert_false(arm_scope_applies(VM "/extensions/ext", VM));
	assert_false(arm_scope_applies("/subscriptions/other", VM));
	assert_false(arm_scope_applies("/providers/Microsoft.Management/managementGroups/", VM));
	assert_false(arm_scope_applies("/providers/Microsoft.Management/managementGroups/mg/x", VM));
	assert_false(arm_scope_applies("", VM));
	assert_false(arm_scope_applies("subscriptions", VM));
	assert_false(arm_scope_applies(NULL, VM));
}

#define ASSIGNMENT(def, scope) \
	"{\"id\":\"x\",\"properties\":{\"roleDefinitionId\":\"/subscriptions/s/providers/Microsoft.Authorization/" \
	"roleDefinitions/" def "\",\"principalId\":\"" OID "\",\"scope\":\"" scope "\"}}"

static int page(const char *text, enum el_role *role, char **next)
{
	return arm_parse_page(text, strlen(text), VM, role, next);
}

static void test_arm_parse_page_counts_applicable_builtin_roles(void **state)
{
	enum el_role role = EL_ROLE_NONE;
	char *next = NULL;

	(void)state;
	assert_int_equal(page("{\"value\":[]}", &role, &next), 0);
	assert_int_equal(role, EL_ROLE_NONE);
	assert_null(next);
	assert_int_equal(page("{\"value\":[" ASSIGNMENT("acdd72a7-3385-48ef-bd42-f606fba81ae7", VM) ","
			      ASSIGNMENT(USER_ID, "/subscriptions/7d3e9f1a-2b4c-4d5e-8f6a-9b0c1d2e3f4a") "],"
			      "\"nextLink\":\"https://management.azure.com/next?$skiptoken=1\"}", &role, &next), 0);
	assert_int_equal(role, EL_ROLE_USER);
	assert_string_equal(next, "https://management.azure.com/next?$skiptoken=1");
	free(next);
	next = NULL;
	/* An admin assignment on another VM or on a child resource does not apply. */
	assert_int_equal(page("{\"value\":[" ASSIGNMENT(ADMIN_ID, VM "2") "," ASSIGNMENT(ADMIN_ID, VM "/extensions/e") "],"
			      "\"nextLink\":null}", &role, &next), 0);
	assert_int_equal(role, EL_ROLE_USER);
	assert_null(next);
	assert_int_equal(page("{\"value\":[" ASSIGNMENT(ADMIN_ID, "/providers/Microsoft.Management/managementGroups/m") "]}",
			      &role, &next), 0);
	assert_int_equal(role, EL_ROLE_ADMIN);
	/* Malformed pages leave the role alone. */
	role = EL_ROLE_NONE;
	assert_int_equal(page("{\"value\":{}}", &role, &next), EL_ERR_JSON);
	assert_int_equal(page("{\"nextLink\":\"https://x\"}", &role, &next), EL_ERR_JSON);
	assert_int_equal(page("{\"value\":[1]}", &role, &next), EL_ERR_JSON);
	assert_int_equal(page("{\"value\":[{\"properties\":[]}]}", &role, &next), EL_ERR_JSON);
	assert_int_equal(page("{\"value\":[],\"nextLink\":5}", &role, &next), EL_ERR_JSON);
	assert_int_equal(page("{\"value\":[],\"value\":[]}", &role, &next), EL_ERR_JSON);
	assert_int_equal(page("{\"value\":[" ASSIGNMENT(ADMIN_ID, VM) "],\"nextLink\":\"\"}", &role, &next), EL_ERR_JSON);
	assert_int_equal(page("[]", &role, &next), EL_ERR_JSON);
	assert_int_equal(role, EL_ROLE_NONE);
	assert_null(next);
}

static void test_arm_next_link_ok_same_origin_only(void **state)
{
	struct el_config *c = config_raw("");	/* arm_url = https://management.azure.com */

	(void)state;
	assert_true(arm_next_link_ok(c, "https://management.azure.com/subscriptions/x?$skiptoken=2"));
	assert_true(arm_next_link_ok(c, "https://MANAGEMENT.azure.com:443/x"));
	assert_false(arm_next_link_ok(c, "http://management.azure.com/x"));
	assert_false(arm_next_link_ok(c, "https://management.azure.com.evil.example/x"));
	assert_false(arm_next_link_ok(c, "https://management.azure.com:8443/x"));
	assert_false(arm_next_link_ok(c, "https://evil@management.azure.com/x"));
	assert_false(arm_next_link_ok(c, "https://169.254.169.254/x"));
	assert_false(arm_next_link_ok(c, "https://management.azure.com/x y"));
	assert_false(arm_next_link_ok(c, NULL));
	cfg_free(c);
}

static int parse_tok(const char *text, time_t now, char **tok, time_t *exp)
{
	return imds_parse_token(text, strlen(text), now, tok, exp);
}

static void test_imds_parse_token_answers(void **state)
{
	static const char *const bad[] = {
		"{\"access_token\":\"a b\",\"expires_in\":\"1\"}",
		"{\"access_token\":\"a\\r\\nX: y\",\"expires_in\":\"1\"}",
		"{\"access_token\":\"\",\"expires_in\":\"1\"}",
		"{\"access_token\":\"t\"}",
		"{\"access_token\":\"t\",\"expires_in\":\"-5\"}",
		"{\"access_token\":\"t\",\"expires_in\":\"5s\"}",
		"{\"access_token\":\"t\",\"expires_in\":0}",
		"{\"access_token\":\"t\",\"expires_in\":1.5}",
		"{\"access_token\":7,\"expires_in\":\"1\"}",
		"{\"access_token\":\"t\",\"access_token\":\"u\",\"expires_in\":\"1\"}",
		"not json",
	};
	char *tok = NULL;
	time_t exp = 0;

	(void)state;
	assert_int_equal(parse_tok("{\"access_token\":\"eyJ.a.b\",\"expires_in\":\"86399\"}", 1000, &tok, &exp), 0);
	assert_string_equal(tok, "eyJ.a.b");
	assert_int_equal(exp, 1000 + 86399);
	free(tok);
	tok = NULL;
	assert_int_equal(parse_tok("{\"access_token\":\"t\",\"expires_in\":3600}", 10, &tok, &exp), 0);
	assert_int_equal(exp, 3610);
	free(tok);
	tok = NULL;
	/* Lifetimes are clamped; the token must be one printable word. */
	assert_int_equal(parse_tok("{\"access_token\":\"t\",\"expires_in\":\"99999999\"}", 0, &tok, &exp), 0);
	assert_int_equal(exp, IMDS_LIFETIME_MAX);
	free(tok);
	tok = NULL;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (parse_tok(bad[i], 0, &tok, &exp) != EL_ERR_JSON)
			fail_msg("accepted: %s", bad[i]);
	assert_null(tok);
}

static void test_imds_resource_id_ok_shapes(void **state)
{
	(void)state;
	assert_true(imds_resource_id_ok(VM));
	assert_true(imds_resource_id_ok("/subscriptions/s/resourceGroups/rg_(1).x/providers/Microsoft.Compute/"
					"virtualMachineScaleSets/ss/virtualMachines/0"));
	assert_false(imds_resource_id_ok(VM "/"));
	assert_false(imds_resource_id_ok("/subscriptions/s/../x"));
	assert_false(imds_resource_id_ok("/subscriptions/s/./x"));
	assert_false(imds_resource_id_ok("/subscriptions/s//x"));
	assert_false(imds_resource_id_ok("/subscriptions/s/x?y"));
	assert_false(imds_resource_id_ok("/subscriptions/s/x#y"));
	assert_false(imds_resource_id_ok("/subscriptions/s/x%2f"));
	assert_false(imds_resource_id_ok("/subscriptions/s/x y"));
	assert_false(imds_resource_id_ok("/subscriptions/s/x\n"));
	assert_false(imds_resource_id_ok("https://evil/subscriptions/s"));
	assert_false(imds_resource_id_ok("/subscriptions/"));
	assert_false(imds_resource_id_ok(""));
	assert_false(imds_resource_id_ok(NULL));
}

/* A state dir of its own per case, so the in-memory cache (keyed by it) starts empty. */
static struct el_config *cache_config(char *dir, size_t len, const char *tag)
{
	char extra[1024];

	snprintf(dir, len, "/tmp/el-test-roles-%s-XXXXXX", tag);
	assert_non_null(mkdtemp(dir));
	assert_int_equal(chmod(dir, 0755), 0);
	snprintf(extra, sizeof(extra), "state_dir = %s\n", dir);
	return config(extra);
}

static void write_cache(const char *dir, const char *imds_url, long expires, unsigned mode)
{
	char path[1024], text[1024];

	snprintf(path, sizeof(path), "%s/" IMDS_CACHE_FILE, dir);
	snprintf(text, sizeof(text), "{\"imds_url\":\"%s\",\"resource_id\":\"%s\",\"access_token\":\"secret-token\","
		 "\"expires\":%ld}", imds_url, VM, expires);
	assert_int_equal(file_write_atomic(path, text, strlen(text), mode), 0);
}

static void cleanup_dir(const char *dir)
{
	char path[1024];

	snprintf(path, sizeof(path), "%s/" IMDS_CACHE_FILE, dir);
	unlink(path);
	rmdir(dir);
}

static void test_imds_identity_cache_file_trust(void **state)
{
	struct {
		const char *tag, *url;
		long expires_in;
		unsigned mode;
		int want;
	} cases[] = {
		{ "fresh", CLOSED, 3600, 0600, 0 },
		{ "group-readable", CLOSED, 3600, 0640, EL_ERR_HTTP_CONNECT },
		{ "world-readable", CLOSED, 3600, 0644, EL_ERR_HTTP_CONNECT },
		{ "other-imds", "http://127.0.0.1:2", 3600, 0600, EL_ERR_HTTP_CONNECT },
		{ "nearly-expired", CLOSED, IMDS_REFRESH_MARGIN - 10, 0600, EL_ERR_HTTP_CONNECT },
		{ "expired", CLOSED, -10, 0600, EL_ERR_HTTP_CONNECT },
	};
	time_t now = time(NULL);

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct imds_identity *id = NULL;
		char dir[512];
		struct el_config *cfg = cache_config(dir, sizeof(dir), cases[i].tag);
		int r;

		write_cache(dir, cases[i].url, (long)now + cases[i].expires_in, cases[i].mode);
		r = imds_identity_get(cfg, 0, now, &id);
		if (r != cases[i].want)
			fail_msg("%s: got %s", cases[i].tag, el_errname(r));
		if (r == 0) {
			assert_true(id->from_cache);
			assert_string_equal(id->access_token, "secret-token");
			assert_string_equal(id->resource_id, VM);
			imds_identity_free(id);
			/* Now from memory even with the file gone; forget drops both. */
			cleanup_dir(dir);
			assert_int_equal(imds_identity_get(cfg, 0, now, &id), 0);
			imds_identity_free(id);
			imds_identity_forget(cfg);
			assert_int_equal(imds_identity_get(cfg, 0, now, &id), EL_ERR_HTTP_CONNECT);
		}
		cleanup_dir(dir);
		cfg_free(cfg);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roles_from_claims_matrix),
		cmocka_unit_test(test_roles_from_claims_odd_bytes_only_become_the_enum),
		cmocka_unit_test(test_roles_from_static_names_and_groups),
		cmocka_unit_test(test_roles_resolve_first_answer_decides),
		cmocka_unit_test(test_roles_token_free_claims_answers_only_for_its_own_roles),
		cmocka_unit_test(test_roles_resolve_unavailable_is_not_no_role),
		cmocka_unit_test(test_roles_resolve_unavailable_stops_the_search),
		cmocka_unit_test(test_arm_role_of_definition_exact_last_segment),
		cmocka_unit_test(test_arm_scope_applies_ancestors_only),
		cmocka_unit_test(test_arm_parse_page_counts_applicable_builtin_roles),
		cmocka_unit_test(test_arm_next_link_ok_same_origin_only),
		cmocka_unit_test(test_imds_parse_token_answers),
		cmocka_unit_test(test_imds_resource_id_ok_shapes),
		cmocka_unit_test(test_imds_identity_cache_file_trust),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
