/* Atomic file replacement: write a temporary file in the target's folder,
 * flush and fsync it, rename it over the target, fsync the folder. A crash
 * or a failure at any point leaves the previous file (if any) untouched;
 * at worst a stale "PATH.tmp.XXXXXX" is left behind after a crash. */
#ifndef RP_CORE_ATOMIC_FILE_H
#define RP_CORE_ATOMIC_FILE_H

#include <stddef.h>

/* Writes size bytes to path atomically. A symbolic link is followed (the
 * file it names is replaced, the link kept); an existing path that is not
 * a regular file (a device, a FIFO, a folder) is refused with REPTILE_EIO
 * "not a regular file", never renamed over. REPTILE_EIO (with the path and
 * strerror) on failure; the temporary file is then removed. */
int rp_atomic_write(const char *path, const void *data, size_t size);

/* Test hook (not thread-safe; for tests only): when set, called before
 * each chunk is written with the bytes written so far, and once more when
 * everything is written, before fsync and rename (written == total).
 * Returning non-zero makes the write fail there as an I/O error would. */
typedef int (*rp_atomic_write_hook_fn)(size_t written, size_t total, void *user);
extern rp_atomic_write_hook_fn rp_atomic_write_hook;
extern void *rp_atomic_write_hook_user;

/* Bytes written per write() call (the hook's granularity). */
#define RP_ATOMIC_CHUNK ((size_t)16384)

#endif
