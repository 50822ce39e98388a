/* Paths confined to roots: the canonical form of a path that may not exist yet, and whether it
 * lies under one of a list of folders. What the JobManager checks savepoint folders and the file
 * connectors' paths with (security.paths.*), and what the sinks name their resources by.
 *
 * A canonical path is absolute and free of symlinks, "." and "..": its longest existing prefix
 * is resolved by realpath (symlinks followed, ".." taken on the real folder), the rest, which
 * does not exist yet, is normalised by its text ("a/../b" is "b"), as mkdir -p would walk it.
 * What is checked is the path at the time of the check: a symlink planted later under a root by
 * someone who can write there is not seen (only trusted users should write under the roots). */
#ifndef WR_PATH_H
#define WR_PATH_H

#include <stdbool.h>

#include "bus/base/strbuf.h"

/* Appends the canonical form of path to out (a relative path starts from the working
 * directory). "out/" and "out" are the same folder: no trailing '/' (but "/" itself). Returns 0,
 * WR_EINVAL for an empty path, WR_EIO when the working directory cannot be resolved, WR_ENOMEM
 * (out->failed). */
int wr_path_canonical(const char *path, wr_strbuf_t *out);

/* Whether the canonical path p is one of roots or lies under one: roots is a comma-separated
 * list of folders (each made canonical here; blanks around a comma are ignored; an empty list
 * holds nothing). "/a/bc" is not under "/a/b". */
bool wr_path_under(const char *p, const char *roots);

#endif
