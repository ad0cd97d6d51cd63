/* localfiles.h - /etc/passwd and /etc/group read directly (never through NSS,
 * which would ask our own NSS module). libc only; used by the module and the helper. */
#ifndef EL_PAM_LOCALFILES_H
#define EL_PAM_LOCALFILES_H

#include <stdbool.h>

/* True if name is a user in /etc/passwd. */
bool local_user_exists(const char *name);
/* True if name is a group in /etc/group. */
bool local_group_exists(const char *name);

#endif
