/* announced.c - the UIDs this process announced through getpwnam
 * (announced.h), and _nss_entra_announced_uid which pam_entra.so calls.
 */
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "announced.h"
#include "el_limits.h"
#include "err.h"

/* One slot per name for the first ANNOUNCED_N names (announced.h).
 * Process-wide; fork copies it. */
#define ANNOUNCED_N 8
static struct {
	atomic_uint state;		/* 0 free, 1 being written, 2 set (never changes again) */
	char name[EL_NAME_MAX + 1];
	uint32_t uid;
} announced[ANNOUNCED_N];

/* Lock-free, so that a fork while another thread writes leaves the child
 * nothing to wait for (a slot left half-written is skipped for good). */
void announced_put(const char *name, uint32_t uid)
{
	size_t n = strlen(name);

	if (n > EL_NAME_MAX)
		return;
	for (unsigned i = 0; i < ANNOUNCED_N; i++) {
		unsigned st = atomic_load_explicit(&announced[i].state, memory_order_acquire);

		if (st == 2 && strcmp(announced[i].name, name) == 0)
			return;		/* the first answer stands */
		if (st == 0 && atomic_compare_exchange_strong_explicit(&announced[i].state, &st, 1,
								       memory_order_acq_rel, memory_order_acquire)) {
			memcpy(announced[i].name, name, n + 1);
			announced[i].uid = uid;
			atomic_store_explicit(&announced[i].state, 2, memory_order_release);
			return;
		}
	}
}

/* 1 and *ret_uid if this process was told a UID for name, else 0. */
EL_PUBLIC int _nss_entra_announced_uid(const char *name, uint32_t *ret_uid);
int _nss_entra_announced_uid(const char *name, uint32_t *ret_uid)
{
	for (unsigned i = 0; i < ANNOUNCED_N; i++)
		if (atomic_load_explicit(&announced[i].state, memory_order_acquire) == 2 &&
		    strcmp(announced[i].name, name) == 0) {
			*ret_uid = announced[i].uid;
			return 1;
		}
	return 0;
}
