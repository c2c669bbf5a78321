/*  report_dir.h - the report's output directory.

    Created with its parents and checked writable before anything is
    fetched.  Once staged (ds_rdir_stage), the report is written into a
    hidden directory inside it (.darkscope-report.XXXXXX) and moved into
    place by ds_rdir_commit only when every file of it is written: a
    report that fails leaves the old report as it was, never a mix of old
    and new files, and a directory it created is removed again.  Files are
    opened by name, each written under a temporary name and renamed when
    closed (afile.h); a late write error (disk full) is caught when a file
    is closed.  A run holds a lock on its staging directory while it
    lives; staging sweeps away the ones whose run is gone (killed before
    its commit) and that nobody touched for a minute.  Failures name the
    path and go to the report's error path (report_data.h).  Unstaged (the unit tests of the figures), files go
    straight into the directory.
*/
#ifndef DS_REPORT_DIR_H
#define DS_REPORT_DIR_H

#include <stdbool.h>
#include <stdio.h>
#include "report_data.h"

typedef struct _ds_rdir_t ds_rdir_t;

//  Creates the handle of directory path; failures are recorded in errors.
//  Both are borrowed and must outlive the handle.  Caller destroys.
ds_rdir_t *ds_rdir_new (const char *path, ds_rdata_t *errors);

//  Destroys the handle: a file opened and never closed is abandoned, a
//  staged report never committed is removed (the directory is left as it
//  was).  NULL-safe, nulls *self_p.
void ds_rdir_destroy (ds_rdir_t **self_p);

//  The directory as given.
const char *ds_rdir_path (const ds_rdir_t *self);

//  The directory files are written into now: the staging directory once
//  staged, else the directory itself.
const char *ds_rdir_work (const ds_rdir_t *self);

//  Creates the directory and its parents (mkdir -p) and checks that it is
//  a writable directory.  Returns 0 or -1.
int ds_rdir_make (ds_rdir_t *self);

//  The shallowest directory ds_rdir_make created ("" if none).
const char *ds_rdir_made (const ds_rdir_t *self);

//  Creates the staging directory in the directory (made), after removing
//  those that runs killed before their commit left: from now on files are
//  written there until ds_rdir_commit.  Returns 0 or -1.
int ds_rdir_stage (ds_rdir_t *self);

//  Opens <dir>/name for writing, under a temporary name until it is
//  closed (at most 8 at once); NULL after recording why.
FILE *ds_rdir_open (ds_rdir_t *self, const char *name);

//  Closes a file of ds_rdir_open and renames it into place, turning a
//  write error that showed late (disk full) into a failure (the old file
//  then stays).  NULL file: -1, nothing recorded.
int ds_rdir_close (ds_rdir_t *self, FILE *file, const char *name);

//  Removes <dir>/name if it is there (a file of an earlier report that
//  this one does not write): at once, or when staged at the commit;
//  never fails.
void ds_rdir_unlink (ds_rdir_t *self, const char *name);

//  Moves every staged file into the directory (name `last` after the
//  others, so a reader of it finds what it names), each replacing the old
//  file of that name, removes the files ds_rdir_unlink named, and removes
//  the staging directory.  If a move fails, the ones done are undone (the
//  old report stays; on a file system without RENAME_EXCHANGE, replaced
//  files cannot be put back).  A file that replaces one keeps its
//  permission bits; a symbolic link of that name is replaced, not written
//  through (unlike afile.h), and a directory of that name fails the
//  commit.  Returns 0, or -1 after recording why.
int ds_rdir_commit (ds_rdir_t *self, const char *last);

//  After a failed report: removes the staging directory with what this
//  report wrote there, then the directories ds_rdir_make created, each
//  only if it is empty, so a failure leaves nothing behind.  A directory
//  that was there before is left as it is.
void ds_rdir_discard (ds_rdir_t *self);

//  Removes path and its parents up to made (the shallowest directory that
//  was created, as ds_rdir_made gave), each only if it is empty; "" made:
//  nothing.
void ds_rdir_unmake (const char *path, const char *made);

#endif
