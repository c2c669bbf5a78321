/*  report_dir.c - the report's output directory; see report_dir.h. */
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report_dir.h"
#include "afile.h"

#define S_OPEN_MAX 8                    //  files open at once (the report has 2)

struct _ds_rdir_t {
    const char *path;
    ds_rdata_t *errors;
    ds_afile_t *open [S_OPEN_MAX];      //  files being written, each under a temporary name
    char made [PATH_MAX];               //  the shallowest directory ds_rdir_make created, or ""
};

ds_rdir_t *
ds_rdir_new (const char *path, ds_rdata_t *errors)
{
    ds_rdir_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->path = path;
    self->errors = errors;
    return self;
}

void
ds_rdir_destroy (ds_rdir_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    for (int i = 0; i < S_OPEN_MAX; i++)
        ds_afile_destroy (&(*self_p)->open [i]);       //  never closed: abandoned
    free (*self_p);
    *self_p = NULL;
}

const char *
ds_rdir_path (const ds_rdir_t *self)
{
    return self->path;
}

int
ds_rdir_make (ds_rdir_t *self)
{
    const char *dir = self->path;
    char path [PATH_MAX];
    if (!*dir || snprintf (path, sizeof path, "%s", dir) >= (int) sizeof path)
        return ds_rdata_fail (self->errors, "bad report directory \"%s\"", dir);
    for (char *p = path + 1; ; p++) {
        if (*p == '/' || *p == 0) {
            char saved = *p;
            *p = 0;
            if (mkdir (path, 0755) == 0) {
                if (!self->made [0])
                    snprintf (self->made, sizeof self->made, "%s", path);
            }
            else
            if (errno != EEXIST)
                return ds_rdata_fail (self->errors, "cannot create report directory %s: %s", path, strerror (errno));
            *p = saved;
            if (!saved)
                break;
        }
    }
    struct stat st;
    if (stat (dir, &st) != 0)
        return ds_rdata_fail (self->errors, "report directory %s: %s", dir, strerror (errno));
    if (!S_ISDIR (st.st_mode))
        return ds_rdata_fail (self->errors, "report directory %s: not a directory", dir);
    if (access (dir, W_OK | X_OK) != 0)
        return ds_rdata_fail (self->errors, "report directory %s is not writable: %s", dir, strerror (errno));
    return 0;
}

FILE *
ds_rdir_open (ds_rdir_t *self, const char *name)
{
    char path [PATH_MAX];
    if (snprintf (path, sizeof path, "%s/%s", self->path, name) >= (int) sizeof path) {
        ds_rdata_fail (self->errors, "report path too long: %s/%s", self->path, name);
        return NULL;
    }
    int slot = 0;
    while (slot < S_OPEN_MAX && self->open [slot])
        slot++;
    if (slot == S_OPEN_MAX) {
        ds_rdata_fail (self->errors, "cannot write %s: too many report files open", path);
        return NULL;
    }
    self->open [slot] = ds_afile_new (path);
    if (!self->open [slot]) {
        ds_rdata_fail (self->errors, "cannot write %s: %s", path, strerror (errno));
        return NULL;
    }
    return ds_afile_stream (self->open [slot]);
}

int
ds_rdir_close (ds_rdir_t *self, FILE *file, const char *name)
{
    if (!file)
        return -1;
    int slot = 0;
    while (slot < S_OPEN_MAX && !(self->open [slot] && ds_afile_stream (self->open [slot]) == file))
        slot++;
    if (slot == S_OPEN_MAX)
        return ds_rdata_fail (self->errors, "cannot write %s/%s: not opened here", self->path, name);
    if (ds_afile_commit (&self->open [slot]) != 0)
        return ds_rdata_fail (self->errors, "cannot write %s/%s: %s", self->path, name,
                              strerror (errno ? errno : EIO));
    return 0;
}

void
ds_rdir_unlink (ds_rdir_t *self, const char *name)
{
    char path [PATH_MAX];
    if (snprintf (path, sizeof path, "%s/%s", self->path, name) < (int) sizeof path)
        unlink (path);
}

static int
s_remove (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void) st; (void) flag; (void) ftw;
    remove (path);
    return 0;                           //  on with the rest: what stays, stays
}

void
ds_rdir_discard (ds_rdir_t *self)
{
    //  Only what this report made moments ago: depth first, never
    //  following a link out of it.
    if (self->made [0])
        nftw (self->made, s_remove, 16, FTW_DEPTH | FTW_PHYS);
    self->made [0] = 0;
}
