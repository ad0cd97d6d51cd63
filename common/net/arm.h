/* arm.h - the VM login roles of one user from Azure Resource Manager.
 *
 *   GET {arm_url}{resourceId}/providers/Microsoft.Authorization/roleAssignments
 *       ?api-version=2022-04-01&$filter=assignedTo('{oid}')
 *   Authorization: Bearer {managed-identity token from imds.h}
 *
 * assignedTo() includes the user's groups (transitively) and assignments
 * inherited from the resource group, subscription and management groups.
 * An assignment counts when the last segment of its roleDefinitionId
 * equals, case-insensitively and exactly, one of the two built-in role ids,
 * and its scope is the VM, one of its ancestors, or a management group
 * (anything else, e.g. a child resource, does not grant a VM login). Pages
 * are followed through nextLink only while it is on the origin of arm_url
 * (else EL_ERR_HTTP_REDIRECT), at most ARM_PAGES_MAX of them.
 *
 * Thread-safe; no logging; the bearer token is wiped after use.
 */
#ifndef EL_ARM_H
#define EL_ARM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "conf.h"
#include "err.h"
#include "roles.h"

#define ARM_API_VERSION "2022-04-01"
#define ARM_ROLE_ADMIN_ID "1c0163c0-47e6-4577-8991-ea5c82e286e4"	/* Virtual Machine Administrator Login */
#define ARM_ROLE_USER_ID "fb879df8-f326-4884-b1cf-06f3ad86be52"	/* Virtual Machine User Login */
#define ARM_PAGES_MAX 64

/* The role oid (a GUID) holds on this VM. deadline_ms as in http.h; now is
 * the wall clock for the token cache. A 401 with a cached token drops the
 * cache and retries once with a fresh token. *ret_role is NONE, USER or ADMIN.
 * Returns 0, EL_ERR_ARM_FORBIDDEN (403: the VM identity may not read role
 * assignments), EL_ERR_HTTP_STATUS (any other error status, IMDS's too),
 * EL_ERR_HTTP_* (unreachable, throttled after retries, redirect, foreign
 * nextLink), EL_ERR_JSON, EL_ERR_INVAL (oid not a GUID), EL_ERR_NOMEM. */
int arm_vm_role(const struct el_config *cfg, const char *oid, uint64_t deadline_ms, time_t now,
		enum el_role *ret_role) EL_MUST_CHECK;

/* One page of a roleAssignments list: raises *io_role to the highest role
 * granted by an assignment that applies to vm_id, and sets *ret_next_link
 * to a new copy of nextLink (NULL if absent or null). Returns 0, EL_ERR_JSON
 * ("value" missing or not an array, an element or nextLink of the wrong
 * type), EL_ERR_NOMEM. */
int arm_parse_page(const char *text, size_t len, const char *vm_id, enum el_role *io_role,
		   char **ret_next_link) EL_MUST_CHECK;

/* ADMIN or USER if the last '/'-segment of role_definition_id is one of the
 * built-in ids (case-insensitive, exact length), else NONE. */
enum el_role arm_role_of_definition(const char *role_definition_id);

/* True if an assignment at scope applies to the resource vm_id. */
bool arm_scope_applies(const char *scope, const char *vm_id);

/* True if url may be followed as a nextLink under cfg (https, same origin as arm_url). */
bool arm_next_link_ok(const struct el_config *cfg, const char *url);

#endif
