/*  report_dir.h - the report's output directory.

    Created with its parents and checked writable before anything is
    fetched; files opened by name inside it, each written under a
    temporary name and renamed into place when closed (afile.h), so a
    browser or a watcher never reads half a page, figure or CSV; a late
    write error (disk full) caught when a file is closed; a directory this
    report created is removed again when the report fails.  Failures name
    the path and go to the report's error path (report_data.h).
*/
#ifndef DS_REPORT_DIR_H
#define DS_REPORT_DIR_H

#include <stdio.h>
#include "report_data.h"

typedef struct _ds_rdir_t ds_rdir_t;

//  Creates the handle of directory path; failures are recorded in errors.
//  Both are borrowed and must outlive the handle.  Caller destroys.
ds_rdir_t *ds_rdir_new (const char *path, ds_rdata_t *errors);

//  Destroys the handle (not the directory): a file opened and never
//  closed is abandoned (its target left as it was).  NULL-safe, nulls *self_p.
void ds_rdir_destroy (ds_rdir_t **self_p);

//  The directory as given.
const char *ds_rdir_path (const ds_rdir_t *self);

//  Creates the directory and its parents (mkdir -p) and checks that it is
//  a writable directory.  Returns 0 or -1.
int ds_rdir_make (ds_rdir_t *self);

//  Opens <dir>/name for writing, under a temporary name until it is
//  closed (at most 8 at once); NULL after recording why.
FILE *ds_rdir_open (ds_rdir_t *self, const char *name);

//  Closes a file of ds_rdir_open and renames it into place, turning a
//  write error that showed late (disk full) into a failure (the old file
//  then stays).  NULL file: -1, nothing recorded.
int ds_rdir_close (ds_rdir_t *self, FILE *file, const char *name);

//  After a failed report: removes the directory (and the parents) that
//  ds_rdir_make created, with what this report put there, so a failure
//  leaves nothing behind.  A directory that was there before is left as
//  it is.
void ds_rdir_discard (ds_rdir_t *self);

//  Removes <dir>/name if it is there (a file of an earlier report that
//  this one does not write); never fails.
void ds_rdir_unlink (ds_rdir_t *self, const char *name);

#endif
