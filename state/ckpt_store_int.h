/* Internal to the checkpoint store: the structs shared by ckpt_store.c (history, retention,
 * recovery) and ckpt_pending.c (writing one checkpoint). Not a public API. */
#ifndef WR_CKPT_STORE_INT_H
#define WR_CKPT_STORE_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "state/ckpt_store.h"

typedef struct {
    char *file; /* name in shared/ */
    uint64_t size;
    bool fresh; /* new with this checkpoint (counts in incremental_size, fsynced at completion):
                   put there by it, or by its writer and referenced by no other checkpoint */
} wr__ckpt_shared_ref_t;

struct wr_ckpt_pending {
    wr_ckpt_store_t *store;
    wr_ckpt_pending_t *next; /* the store's list of pending checkpoints */
    char *tmpdir;            /* DIR/JOB/chk-N.tmp-XXXXXX */
    wr_ckpt_meta_t *meta;    /* the task states recorded so far */
    char **files;            /* exclusive files created, to fsync */
    uint32_t nfiles;
    wr__ckpt_shared_ref_t *shared; /* shared files added */
    uint32_t nshared;
};

struct wr_ckpt_store {
    char *job;
    char *dir;    /* DIR/JOB */
    char *shared; /* DIR/JOB/shared */
    uint32_t num_retained;
    wr_ckpt_meta_t **history; /* resolved, oldest first */
    uint32_t count;
    uint32_t cap;
    wr_ckpt_pending_t *pending;
};

/* Room for one more checkpoint in the history. WR_ENOMEM. */
int wr__ckpt_store_reserve(wr_ckpt_store_t *s);
/* Adds the completed checkpoint m (taken; room reserved) to the history, newest, then applies
 * retention and deletes unreferenced shared files. Returns the first cleanup error. */
int wr__ckpt_store_commit(wr_ckpt_store_t *s, wr_ckpt_meta_t *m);
/* Whether a retained or pending checkpoint references shared file `file`. */
bool wr__ckpt_store_refers(const wr_ckpt_store_t *s, const char *file);
/* Deletes every shared file that no retained and no pending checkpoint references. */
int wr__ckpt_store_gc(wr_ckpt_store_t *s);
/* Fills every file blob's path for a checkpoint or savepoint folder at absolute path abs (see
 * wr_ckpt_load). WR_ENOMEM. */
int wr__ckpt_resolve(wr_ckpt_meta_t *m, const char *abs);
/* Folder names: "chk-N". Fits in 32 bytes. */
void wr__ckpt_dir_name(char out[32], uint64_t id);

#endif
