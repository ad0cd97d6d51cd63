/* announced.h - the first UID libnss_entra.so.2 gave this process for each
 * of its first few names (getpwnam only), never overwritten: a host that
 * resolves a user once and keeps the entry (sshd per connection, su, login)
 * runs the session as that UID, whatever the database says by the time PAM
 * runs. pam_entra.so asks for it (_nss_entra_announced_uid, announced.c) so
 * that the helper checks the UID the session will really get. Internal to
 * the NSS module. */
#ifndef EL_NSS_ANNOUNCED_H
#define EL_NSS_ANNOUNCED_H

#include <stdint.h>

/* Remember uid as the answer for name unless name already has one or the
 * table is full. Lock-free; never blocks. */
void announced_put(const char *name, uint32_t uid);

#endif
