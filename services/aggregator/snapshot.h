/*  snapshot.h - checkpoints written without stopping the data path.

    ds_snapshot_start forks (as redis does for its RDB files): the child is
    a copy-on-write image of the process at that instant, writes the store
    with ds_store_save and exits with the result; the parent goes on
    applying batches and answering queries at once.  What the parent pays
    is the fork itself (copying the page tables) and bringing the pattern
    bins into their saved order first: the pause ds_snapshot_pause_us
    reports.  Memory: pages the parent changes while the child writes are
    copied, so a checkpoint of a busy store costs up to its size again.

    Sanitizer builds write in the calling thread instead (their allocators
    are not fork-safe; see snapshot.c): the pause is then the whole write.

    A snapshot is polled (ds_snapshot_poll, or waited for); its result and
    the child's error text come back through a pipe.  The store must not
    be destroyed before the snapshot is (the parent's copy is not read by
    the child, but destroying waits for it).
*/
#ifndef DS_SNAPSHOT_H
#define DS_SNAPSHOT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "store.h"

typedef struct ds_snapshot_t ds_snapshot_t;

//  Results of ds_snapshot_poll.
enum {
    DS_SNAPSHOT_RUNNING = 1,        //  the child is still writing
    DS_SNAPSHOT_DONE    = 0,        //  written and renamed into place
    DS_SNAPSHOT_FAILED  = -1        //  not written: ds_snapshot_error says why
};

//  Starts writing store to path in a child process.  NULL with the reason
//  in err if it could not start (no memory, fork failed); nothing was
//  written then.  Caller destroys.
ds_snapshot_t *ds_snapshot_start (ds_store_t *store, const char *path, char *err, size_t err_size);

//  The state of a snapshot; with wait, blocks until the child has ended.
int ds_snapshot_poll (ds_snapshot_t *self, bool wait);

//  Why a snapshot failed ("" while running or after success).
const char *ds_snapshot_error (const ds_snapshot_t *self);

//  Microseconds the caller was stopped by ds_snapshot_start.
int64_t ds_snapshot_pause_us (const ds_snapshot_t *self);

//  Microseconds from the start to the child's end (0 while running).
int64_t ds_snapshot_duration_us (const ds_snapshot_t *self);

//  Destroys a snapshot, waiting for its child first; NULL-safe; nulls the
//  caller's pointer.
void ds_snapshot_destroy (ds_snapshot_t **self_p);

#endif
