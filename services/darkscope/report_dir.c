/*  report_dir.c - the report's output directory; see report_dir.h. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report_dir.h"

struct _ds_rdir_t {
    const char *path;
    ds_rdata_t *errors;
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
            if (mkdir (path, 0755) != 0 && errno != EEXIST)
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
ds_rdir_open (ds_rdir_t *self, const char *name, const char *mode)
{
    char path [PATH_MAX];
    if (snprintf (path, sizeof path, "%s/%s", self->path, name) >= (int) sizeof path) {
        ds_rdata_fail (self->errors, "report path too long: %s/%s", self->path, name);
        return NULL;
    }
    FILE *file = fopen (path, mode);
    if (!file)
        ds_rdata_fail (self->errors, "cannot write %s: %s", path, strerror (errno));
    return file;
}

int
ds_rdir_close (ds_rdir_t *self, FILE *file, const char *name)
{
    if (!file)
        return -1;
    bool bad = ferror (file) != 0;
    if (fclose (file) != 0 || bad)
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

int
ds_rdir_rename (ds_rdir_t *self, const char *from, const char *to)
{
    char from_path [PATH_MAX], to_path [PATH_MAX];
    snprintf (from_path, sizeof from_path, "%s/%s", self->path, from);
    snprintf (to_path, sizeof to_path, "%s/%s", self->path, to);
    if (rename (from_path, to_path) != 0)
        return ds_rdata_fail (self->errors, "cannot write %s: %s", to_path, strerror (errno));
    return 0;
}
