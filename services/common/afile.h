/*  afile.h - an output file that appears whole or not at all.

    What a run or a report writes (the overview JSON, the report's pages
    and figures, the embedding's vectors) is often read by someone else
    while it is written: a watcher, a web server, a script polling for the
    file.  An afile writes into a temporary file beside the target (same
    directory, so the same file system: ".NAME.PID-N.tmp", created
    O_EXCL|O_NOFOLLOW with the mode fopen would give) and renames it over
    the target on commit: a reader sees the old file or the new one, never
    half of one.  Abandoned (destroyed without commit, or a write failed),
    the temporary file is removed and the target is left as it was.

    A target that is a symbolic link is resolved first: the file it names
    is replaced and the link stays.  A target that exists and is not a
    regular file (a FIFO, /dev/stdout, a terminal, /dev/full) cannot be
    replaced by a rename: it is written in place, as fopen would.
    Not fsync'd: the rename makes the file whole for readers, not durable
    across a power cut (checkpoints, which must survive one, do their own).
*/
#ifndef DS_AFILE_H
#define DS_AFILE_H

#include <stdio.h>

typedef struct _ds_afile_t ds_afile_t;

//  Opens a temporary file to become path on commit (an existing target
//  keeps its permission bits).  NULL with errno set if it cannot be
//  created (missing directory, no permission).  Caller commits or destroys.
ds_afile_t *ds_afile_new (const char *path);

//  Checks, before the work that produces it, that path could be written
//  now: it is not a directory, its directory exists and may be written
//  in (or, not a regular file, it may be written itself).  Returns 0, or
//  -1 with errno set (ENOENT, EACCES, EISDIR, ...).
int ds_afile_check (const char *path);

//  The stream to write to; owned by the afile.
FILE *ds_afile_stream (ds_afile_t *self);

//  Flushes and closes the stream and renames the temporary file over the
//  target.  Returns 0, or -1 with errno set (a write error that showed at
//  the flush, such as a full disk, or the rename): the target is then
//  left as it was.  Destroys the afile either way and nulls *self_p.
int ds_afile_commit (ds_afile_t **self_p);

//  Ends a file whose writing returned rc: commits it if rc is 0, else
//  abandons it (errno as the failed write left it).  Returns 0, or -1.
int ds_afile_finish (ds_afile_t **self_p, int rc);

//  Abandons the file: closes the stream and removes the temporary file,
//  leaving the target as it was.  NULL-safe, nulls *self_p.
void ds_afile_destroy (ds_afile_t **self_p);

#endif
