/* Opening a file that must be a regular one, for the readers (PNG images,
 * checkpoints). O_NONBLOCK: opening a FIFO, or a link to one, would
 * otherwise wait for a writer forever; anything but a regular file is
 * refused before a byte is read. */
#ifndef RP_CORE_REGULAR_FILE_H
#define RP_CORE_REGULAR_FILE_H

#include <sys/stat.h>

/* 0 with *fd open for blocking reads and *st filled; or REPTILE_ENOTFOUND,
 * or REPTILE_EIO naming path and the reason ("not a regular file" for a
 * FIFO, device or folder), with nothing left open. */
int rp_open_regular(const char *path, int *fd, struct stat *st);

#endif
