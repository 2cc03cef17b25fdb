/* ownfile: the files and folders a run makes for itself (pid file, log
 * file, state lock) in places others may be able to write.
 *
 * Such a name is predictable, so whatever sits there first (a symbolic
 * link, a FIFO, a hard link, another user's file) must be refused rather
 * than written through, followed or waited on. */
#ifndef IMAPFERRY_OWNFILE_H
#define IMAPFERRY_OWNFILE_H

#include "status.h"

#include <sys/stat.h>
#include <sys/types.h>

/* "a FIFO", "a symbolic link", ... for messages. */
const char *ownfile_kind(mode_t m);

/* 0 when sb is a regular file of ours with a single link; otherwise fails
 * with code and "WHAT PATH is ..." followed by hint (may be ""). */
int ownfile_check(const char *what, const char *path, const struct stat *sb, int code,
                  const char *hint, struct status *st);

/* mkdir -p, mode 0700 for what it makes: of the folders above path when
 * parents_only, else of path too. -1 with errno set on failure. */
int ownfile_mkdirs(const char *path, int parents_only);

/* Opens path with flags | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC (mode 0600
 * when created), so neither a symlink is followed nor a FIFO waited on,
 * then checks the open file with ownfile_check. *fd is the caller's. */
int ownfile_open(const char *what, const char *path, int flags, int code, const char *hint, int *fd,
                 struct status *st);

/* Takes an fcntl write lock on the whole file without waiting: 0, or -1
 * with errno (EACCES/EAGAIN when another process holds it). The lock goes
 * with the process, so a crash never leaves it behind. */
int ownfile_lock(int fd);
/* The pid of the process holding fd's lock, 0 when nobody does (any more:
 * the holder may have ended since ownfile_lock failed). */
pid_t ownfile_lock_holder(int fd);

/* Writes all n bytes of p to fd (a short write is retried): 0, or -1 with
 * errno. */
int ownfile_write_all(int fd, const void *p, size_t n);

#endif
