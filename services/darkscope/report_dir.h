/*  report_dir.h - the report's output directory.

    Created with its parents and checked writable before anything is
    fetched; files opened by name inside it; a late write error (disk
    full) caught when a file is closed.  Failures name the path and go to
    the report's error path (report_data.h).
*/
#ifndef DS_REPORT_DIR_H
#define DS_REPORT_DIR_H

#include <stdio.h>
#include "report_data.h"

typedef struct _ds_rdir_t ds_rdir_t;

//  Creates the handle of directory path; failures are recorded in errors.
//  Both are borrowed and must outlive the handle.  Caller destroys.
ds_rdir_t *ds_rdir_new (const char *path, ds_rdata_t *errors);

//  Destroys the handle (not the directory); NULL-safe, nulls *self_p.
void ds_rdir_destroy (ds_rdir_t **self_p);

//  The directory as given.
const char *ds_rdir_path (const ds_rdir_t *self);

//  Creates the directory and its parents (mkdir -p) and checks that it is
//  a writable directory.  Returns 0 or -1.
int ds_rdir_make (ds_rdir_t *self);

//  Opens <dir>/name with fopen mode; NULL after recording why.
FILE *ds_rdir_open (ds_rdir_t *self, const char *name, const char *mode);

//  Closes a file opened for writing, turning a write error that showed
//  late (disk full) into a failure.  NULL file: -1, nothing recorded.
int ds_rdir_close (ds_rdir_t *self, FILE *file, const char *name);

//  Removes <dir>/name if it is there (a file of an earlier report that
//  this one does not write); never fails.
void ds_rdir_unlink (ds_rdir_t *self, const char *name);

//  Renames <dir>/from to <dir>/to (atomically replacing it).  Returns 0 or -1.
int ds_rdir_rename (ds_rdir_t *self, const char *from, const char *to);

#endif
