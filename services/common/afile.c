/*  afile.c - an output file that appears whole or not at all; see afile.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "afile.h"

struct _ds_afile_t {
    FILE *stream;
    char *target;                       //  resolved target; NULL when written in place
    char *tmp;                          //  the temporary file beside it; NULL in place
};

static unsigned s_counter;              //  tells apart the afiles of one process

//  Creates the temporary file beside target with the mode fopen would give
//  (or the existing target's); returns its descriptor or -1 (errno set).
static int
s_create_tmp (ds_afile_t *self, const struct stat *existing)
{
    const char *slash = strrchr (self->target, '/');
    int dir_len = slash ? (int) (slash - self->target + 1) : 0;
    const char *base = slash ? slash + 1 : self->target;
    for (int attempt = 0; attempt < 100; attempt++) {
        unsigned n = __atomic_fetch_add (&s_counter, 1, __ATOMIC_RELAXED);
        free (self->tmp);
        //  The base name shortened so the temporary one stays within NAME_MAX.
        if (asprintf (&self->tmp, "%.*s.%.200s.%d-%u.tmp", dir_len, self->target, base,
                      (int) getpid (), n) < 0) {
            self->tmp = NULL;
            errno = ENOMEM;
            return -1;
        }
        int fd = open (self->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
        if (fd >= 0) {
            if (existing)
                (void) fchmod (fd, existing->st_mode & 07777);
            return fd;
        }
        if (errno != EEXIST)
            break;
    }
    int err = errno;
    free (self->tmp);
    self->tmp = NULL;
    errno = err;
    return -1;
}

ds_afile_t *
ds_afile_new (const char *path)
{
    ds_afile_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    struct stat st;
    char *resolved = NULL;
    bool link = lstat (path, &st) == 0 && S_ISLNK (st.st_mode);
    if (link)
        resolved = realpath (path, NULL);
    bool dangling = link && !resolved;  //  fopen creates the file it names, as before
    const char *target = resolved ? resolved : path;
    bool exists = !dangling && stat (target, &st) == 0;
    bool in_place = dangling || (exists && !S_ISREG (st.st_mode));
    if (in_place) {
        self->stream = fopen (target, "w");
        free (resolved);
        if (!self->stream) {
            int err = errno;
            free (self);
            errno = err;
            return NULL;
        }
        return self;
    }
    self->target = resolved ? resolved : strdup (path);
    int fd = self->target ? s_create_tmp (self, exists ? &st : NULL) : -1;
    if (fd >= 0 && !(self->stream = fdopen (fd, "w")))
        close (fd);
    if (!self->stream) {
        int err = self->target ? errno : ENOMEM;
        ds_afile_destroy (&self);
        errno = err;
        return NULL;
    }
    return self;
}

int
ds_afile_check (const char *path)
{
    struct stat st;
    if (stat (path, &st) == 0) {
        if (S_ISDIR (st.st_mode)) {
            errno = EISDIR;
            return -1;
        }
        if (!S_ISREG (st.st_mode))
            return access (path, W_OK);             //  a FIFO or device: written in place
    }
    else
    if (errno != ENOENT)
        return -1;
    //  The directory it will be created in (a link's target's, as ds_afile_new).
    char *resolved = realpath (path, NULL);
    const char *target = resolved ? resolved : path;
    const char *slash = strrchr (target, '/');
    char *dir = slash == target ? strdup ("/") : slash ? strndup (target, (size_t) (slash - target))
                                                       : strdup (".");
    int rc = dir ? access (dir, W_OK | X_OK) : -1;
    if (!dir)
        errno = ENOMEM;
    int err = errno;
    free (dir);
    free (resolved);
    errno = err;
    return rc;
}

FILE *
ds_afile_stream (ds_afile_t *self)
{
    return self->stream;
}

int
ds_afile_commit (ds_afile_t **self_p)
{
    ds_afile_t *self = self_p ? *self_p : NULL;
    if (!self) {
        errno = EINVAL;
        return -1;
    }
    int err = 0;
    errno = 0;
    bool bad = ferror (self->stream) != 0;
    if (fclose (self->stream) != 0 || bad)
        err = errno ? errno : EIO;
    self->stream = NULL;
    if (!err && self->tmp && rename (self->tmp, self->target) != 0)
        err = errno;
    if (!err) {
        free (self->tmp);
        self->tmp = NULL;               //  renamed: nothing to remove
    }
    ds_afile_destroy (self_p);
    errno = err;
    return err ? -1 : 0;
}

int
ds_afile_finish (ds_afile_t **self_p, int rc)
{
    if (rc == 0)
        return ds_afile_commit (self_p);
    int err = errno;
    ds_afile_destroy (self_p);
    errno = err;
    return -1;
}

void
ds_afile_destroy (ds_afile_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ds_afile_t *self = *self_p;
    if (self->stream)
        fclose (self->stream);
    if (self->tmp)
        unlink (self->tmp);
    free (self->tmp);
    free (self->target);
    free (self);
    *self_p = NULL;
}
