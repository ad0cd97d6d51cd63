/* strutil.h - small string helpers shared by everything. libc only. */
#ifndef EL_STRUTIL_H
#define EL_STRUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* Decimal unsigned integer, whole string, no sign, no spaces, in [min,max].
 * Returns 0 or EL_ERR_INVAL. */
int parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *ret_v) EL_MUST_CHECK;

/* Strip leading and trailing ASCII whitespace in place; returns s+offset. */
char *str_strip(char *s);

/* Copy src into buf (always NUL-terminated). EL_ERR_RANGE if truncated. */
int str_copy(char *buf, size_t buflen, const char *src) EL_MUST_CHECK;

/* Constant-time-ish ASCII lower-casing copy; EL_ERR_RANGE if it does not fit. */
int str_lower(char *buf, size_t buflen, const char *src) EL_MUST_CHECK;

bool str_has_ctl(const char *s);

/* Wipe a secret string (token, device code) and free it. NULL-safe. */
void secret_free(char *s);	/* any byte < 0x20 or 0x7f */

/* Read a whole regular file, at most cap bytes (EL_ERR_RANGE if larger).
 * *ret_text is NUL-terminated, caller frees. Returns 0, EL_ERR_IO, EL_ERR_RANGE, EL_ERR_NOMEM. */
int file_read_capped(const char *path, size_t cap, char **ret_text, size_t *ret_len) EL_MUST_CHECK;

/* The same for an open file (its fstat size, capped); the fd stays open. */
int fd_read_capped(int fd, size_t cap, char **ret_text, size_t *ret_len) EL_MUST_CHECK;

/* Write data to path atomically: temp file in the same directory, fsync,
 * chmod to mode, rename, fsync of the directory. Returns 0 or EL_ERR_IO,
 * with errno still holding the cause (ENOSPC, EROFS, EIO, ...). */
int file_write_atomic(const char *path, const void *data, size_t len, unsigned mode) EL_MUST_CHECK;

/* Replace path with a private (0600) file holding data: temp file next to
 * it (O_NOFOLLOW), rename. No fsync: for short-lived records (decision
 * caches, grants) whose loss in a crash costs only a repeated check, on
 * paths where an fsync per call would be felt. Returns 0, EL_ERR_IO or
 * EL_ERR_RANGE. */
int file_replace_private(const char *path, const void *data, size_t len) EL_MUST_CHECK;

/* True if st describes a file owned by root (or euid) and not writable by group/other. */
struct stat;
bool file_owner_safe(const struct stat *st);

/* The state directory dir (or the directory part of a file path with
 * dir_of_file) is a directory owned by root and not writable by group or
 * others: whoever can write it can swap the files in it. Symbolic links
 * are followed. Returns 0, EL_ERR_NOT_FOUND (missing), EL_ERR_INSECURE,
 * EL_ERR_IO, EL_ERR_RANGE (path too long). */
int dir_safe(const char *path, bool dir_of_file) EL_MUST_CHECK;

/* Map path read-only and shared (munmap(*ret_base, *ret_size) to release):
 * dir_safe(path, true), opened O_NOFOLLOW, a regular file owned by root and
 * not writable by group or others, min <= size <= max. Returns 0,
 * EL_ERR_NOT_FOUND, EL_ERR_INSECURE (unsafe directory or file, a link),
 * EL_ERR_CORRUPT (size out of bounds), EL_ERR_NOMEM, EL_ERR_IO, EL_ERR_RANGE. */
int file_map_root(const char *path, size_t min, size_t max, const void **ret_base, size_t *ret_size) EL_MUST_CHECK;

/* Milliseconds of CLOCK_MONOTONIC (deadlines and waits). */
uint64_t monotonic_ms(void);

/* Take an exclusive flock on fd, retrying every 5 ms. Gives up after
 * timeout_ms in which the file at watch was not replaced (watch NULL: after
 * timeout_ms), and after max_ms in any case. Returns 0 or EL_ERR_LOCK (gave
 * up, or flock failed otherwise); fd stays open either way. */
int fd_lock_wait(int fd, unsigned timeout_ms, unsigned max_ms, const char *watch) EL_MUST_CHECK;

/* dir is a directory of its own (lstat: not a link) owned by the effective
 * uid with no group or other permission bits. */
bool dir_private(const char *dir);

/* Create parent (0755) and its subdirectory dir (0700) where missing, then
 * check dir_private(dir). Returns 0, EL_ERR_IO or EL_ERR_INSECURE. */
int dir_make_private(const char *parent, const char *dir) EL_MUST_CHECK;

#endif
