/* Durable filesystem operations: what the checkpoint store, the exactly-once sinks, the RocksDB
 * backend's local folders and the benchmarks build on (mkdir -p, rm -rf, fsync, atomic replace).
 *
 * Every function returns 0 or a WR_E* code: WR_ENOTFOUND (ENOENT), WR_EEXIST (EEXIST,
 * ENOTEMPTY), WR_ENOMEM, WR_ETOOBIG, otherwise WR_EIO with errno telling more. System calls are
 * retried on EINTR. */
#ifndef WR_FS_H
#define WR_FS_H

#include <stddef.h>
#include <stdint.h>

#include "bus/base/strbuf.h"

/* The WR_E* code for an errno value. */
int wr_fs_errno(int e);
/* "a/b" as a new string (the caller frees it); NULL when out of memory. */
char *wr_fs_join(const char *a, const char *b);
/* mkdir -p, mode 0755. An existing directory is success. */
int wr_fs_mkdirs(const char *path);
/* rm -rf without following symlinks. A missing path is success. */
int wr_fs_rmtree(const char *path);
/* fsync of a file or a directory (opened read-only). */
int wr_fs_fsync(const char *path);
/* Size of a regular file (WR_EINVAL if it is not one). */
int wr_fs_size(const char *path, uint64_t *size);
/* Copies src to a new file dst (WR_EEXIST if dst exists) and fsyncs it. On failure dst is gone. */
int wr_fs_copy(const char *src, const char *dst);
/* Makes dst the same file as src: a hard link when both are on one filesystem, else a copy to a
 * temp name in dst's directory renamed to dst. WR_EEXIST if dst exists. Does not fsync a link. */
int wr_fs_link_or_copy(const char *src, const char *dst);
/* Reads a whole file into out (appending); WR_ETOOBIG if it is longer than max bytes. */
int wr_fs_read(const char *path, size_t max, wr_strbuf_t *out);
/* Durably replaces dir/name with the bytes: writes a temp file in dir, fsyncs it, renames it to
 * name, fsyncs dir. On failure the temp file is gone and dir/name untouched. */
int wr_fs_write_atomic(const char *dir, const char *name, const void *data, size_t len);

#endif
