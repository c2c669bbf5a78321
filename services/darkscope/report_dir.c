/*  report_dir.c - the report's output directory; see report_dir.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "report_dir.h"
#include "afile.h"
#include "log.h"

#define S_OPEN_MAX  8                   //  files open at once (the report has 2)
#define S_STALE_MAX 64                  //  files of an earlier report to remove at the commit
#define S_STAGE_PREFIX ".darkscope-report."
#define S_STAGE     S_STAGE_PREFIX "XXXXXX"
#define S_STALE_S   60                  //  a staging directory untouched this long, unlocked: left

struct _ds_rdir_t {
    const char *path;
    ds_rdata_t *errors;
    ds_afile_t *open [S_OPEN_MAX];      //  files being written, each under a temporary name
    char made [PATH_MAX];               //  the shallowest directory ds_rdir_make created, or ""
    char stage [PATH_MAX];              //  the staging directory, or "" (files go to path)
    int stage_fd;                       //  open on it, locked while this run lives; or -1
    char stale [S_STALE_MAX][128];      //  names ds_rdir_unlink deferred to the commit
    size_t stales;
};

static int
s_remove (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void) st; (void) flag; (void) ftw;
    remove (path);
    return 0;                           //  on with the rest: what stays, stays
}

//  Removes the staging directory and what is in it: depth first, never
//  following a link out of it.
static void
s_unstage (ds_rdir_t *self)
{
    if (self->stage [0])
        nftw (self->stage, s_remove, 16, FTW_DEPTH | FTW_PHYS);
    self->stage [0] = 0;
    if (self->stage_fd >= 0)
        close (self->stage_fd);         //  and its lock
    self->stage_fd = -1;
}

//  Removes the staging directories that runs killed before their commit
//  left in the directory: unlocked (their run is gone) and untouched for
//  S_STALE_S seconds (not one that a run is creating this moment).
static void
s_sweep (ds_rdir_t *self)
{
    DIR *dir = opendir (self->path);
    if (!dir)
        return;
    struct dirent *e;
    while ((e = readdir (dir))) {
        if (strncmp (e->d_name, S_STAGE_PREFIX, sizeof S_STAGE_PREFIX - 1) != 0)
            continue;
        char path [PATH_MAX];
        if (snprintf (path, sizeof path, "%s/%s", self->path, e->d_name) >= (int) sizeof path)
            continue;
        int fd = open (path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
            continue;
        struct stat st;
        if (fstat (fd, &st) == 0 && time (NULL) - st.st_mtime >= S_STALE_S
        &&  flock (fd, LOCK_EX | LOCK_NB) == 0) {
            nftw (path, s_remove, 16, FTW_DEPTH | FTW_PHYS);
            ds_log_info ("removed %s, left by a report that did not finish", path);
        }
        close (fd);
    }
    closedir (dir);
}

ds_rdir_t *
ds_rdir_new (const char *path, ds_rdata_t *errors)
{
    ds_rdir_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->path = path;
    self->errors = errors;
    self->stage_fd = -1;
    return self;
}

void
ds_rdir_destroy (ds_rdir_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    for (int i = 0; i < S_OPEN_MAX; i++)
        ds_afile_destroy (&(*self_p)->open [i]);       //  never closed: abandoned
    s_unstage (*self_p);                                //  never committed: abandoned
    free (*self_p);
    *self_p = NULL;
}

const char *
ds_rdir_path (const ds_rdir_t *self)
{
    return self->path;
}

const char *
ds_rdir_work (const ds_rdir_t *self)
{
    return self->stage [0] ? self->stage : self->path;
}

const char *
ds_rdir_made (const ds_rdir_t *self)
{
    return self->made;
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

int
ds_rdir_stage (ds_rdir_t *self)
{
    s_sweep (self);
    int err = ENAMETOOLONG;
    if (snprintf (self->stage, sizeof self->stage, "%s/" S_STAGE, self->path) < (int) sizeof self->stage) {
        if (mkdtemp (self->stage)) {
            self->stage_fd = open (self->stage, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (self->stage_fd >= 0)
                flock (self->stage_fd, LOCK_EX);
            return 0;
        }
        err = errno;
    }
    self->stage [0] = 0;
    return ds_rdata_fail (self->errors, "cannot write in report directory %s: %s", self->path, strerror (err));
}

FILE *
ds_rdir_open (ds_rdir_t *self, const char *name)
{
    char path [PATH_MAX];
    if (snprintf (path, sizeof path, "%s/%s", ds_rdir_work (self), name) >= (int) sizeof path) {
        ds_rdata_fail (self->errors, "report path too long: %s/%s", self->path, name);
        return NULL;
    }
    int slot = 0;
    while (slot < S_OPEN_MAX && self->open [slot])
        slot++;
    if (slot == S_OPEN_MAX) {
        ds_rdata_fail (self->errors, "cannot write %s/%s: too many report files open", self->path, name);
        return NULL;
    }
    self->open [slot] = ds_afile_new (path);
    if (!self->open [slot]) {
        ds_rdata_fail (self->errors, "cannot write %s/%s: %s", self->path, name, strerror (errno));
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
    if (self->stage [0]) {
        if (self->stales == S_STALE_MAX || strlen (name) >= sizeof self->stale [0])
            ds_rdata_fail (self->errors, "cannot remove %s/%s: too many files to remove", self->path, name);
        else
            snprintf (self->stale [self->stales++], sizeof self->stale [0], "%s", name);
        return;
    }
    char path [PATH_MAX];
    if (snprintf (path, sizeof path, "%s/%s", self->path, name) < (int) sizeof path)
        unlink (path);
}

//  --------------------------------------------------------------------------
//  The commit: a journal of moves between the staging directory (fd
//  stage) and the directory (fd dir), undone in reverse if one fails.

typedef enum {
    S_PLACED,                           //  new file, no old one: undo moves it back
    S_SWAPPED,                          //  exchanged with the old file: undo exchanges again
    S_REPLACED,                         //  renamed over the old file (no RENAME_EXCHANGE): no undo
    S_REMOVED                           //  a stale file moved into the staging directory: undo moves it back
} s_how_t;

typedef struct {
    const char *name;
    s_how_t how;
} s_move_t;

//  Moves staged file name over the directory's; 0, or -1 with errno set.
static int
s_place (int stage, int dir, const char *name, s_how_t *how)
{
    struct stat st;
    if (fstatat (dir, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno != ENOENT)
            return -1;
        *how = S_PLACED;
        return renameat (stage, name, dir, name);
    }
    if (S_ISDIR (st.st_mode)) {
        errno = EISDIR;                 //  never swap a directory away to be removed
        return -1;
    }
    if (S_ISREG (st.st_mode))
        fchmodat (stage, name, st.st_mode & 07777, 0);
    *how = S_SWAPPED;
    if (renameat2 (stage, name, dir, name, RENAME_EXCHANGE) == 0)
        return 0;
    if (errno != EINVAL && errno != ENOSYS)
        return -1;
    *how = S_REPLACED;                  //  the file system cannot exchange
    return renameat (stage, name, dir, name);
}

static void
s_undo (int stage, int dir, const s_move_t *moves, size_t count)
{
    while (count-- > 0) {
        const char *name = moves [count].name;
        if (moves [count].how == S_SWAPPED)
            renameat2 (stage, name, dir, name, RENAME_EXCHANGE);
        else
        if (moves [count].how == S_PLACED)
            renameat (dir, name, stage, name);
        else
        if (moves [count].how == S_REMOVED)
            renameat (stage, name, dir, name);
    }
}

static int
s_by_name (const void *a, const void *b)
{
    return strcmp (*(char *const *) a, *(char *const *) b);
}

//  The staged files' names, sorted, `last` at the end; NULL on failure.
static char **
s_staged (const char *stage, const char *last, size_t *count)
{
    DIR *d = opendir (stage);
    char **names = NULL;
    size_t n = 0, size = 0;
    struct dirent *entry = NULL;
    while (d && (entry = readdir (d))) {
        if (strcmp (entry->d_name, ".") == 0 || strcmp (entry->d_name, "..") == 0)
            continue;
        if (n == size) {
            char **more = realloc (names, (size = size ? 2 * size : 32) * sizeof *names);
            if (!more)
                break;
            names = more;
        }
        if (!(names [n] = strdup (entry->d_name)))
            break;
        n++;
    }
    bool whole = d && !entry;
    if (d)
        closedir (d);
    if (!whole) {
        while (n > 0)
            free (names [--n]);
        free (names);
        return NULL;
    }
    qsort (names, n, sizeof *names, s_by_name);
    for (size_t i = 0; last && i + 1 < n; i++)
        if (strcmp (names [i], last) == 0) {
            char *keep = names [i];
            memmove (names + i, names + i + 1, (n - i - 1) * sizeof *names);
            names [n - 1] = keep;
            break;
        }
    *count = n;
    return names ? names : calloc (1, sizeof *names);
}

static bool
s_listed (char *const *names, size_t count, const char *name)
{
    for (size_t i = 0; i < count; i++)
        if (strcmp (names [i], name) == 0)
            return true;
    return false;
}

int
ds_rdir_commit (ds_rdir_t *self, const char *last)
{
    if (!self->stage [0])
        return 0;                       //  unstaged: every file is in place already
    size_t count = 0;
    char **names = s_staged (self->stage, last, &count);
    s_move_t *moves = names ? calloc (count + self->stales + 1, sizeof *moves) : NULL;
    int stage = open (self->stage, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int dir = open (self->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    size_t done = 0;
    const char *failed = NULL;          //  the name a move failed on
    int rc = -1;
    if (!names || !moves || stage < 0 || dir < 0)
        ds_rdata_fail (self->errors, "cannot write in report directory %s: %s", self->path, strerror (errno));
    else {
        for (size_t i = 0; i < count && !failed; i++) {
            moves [done].name = names [i];
            if (s_place (stage, dir, names [i], &moves [done].how) == 0)
                done++;
            else
                failed = names [i];
        }
        //  The earlier report's files this one does not write.
        struct stat st;
        for (size_t i = 0; i < self->stales && !failed; i++) {
            const char *name = self->stale [i];
            if (s_listed (names, count, name) || fstatat (dir, name, &st, AT_SYMLINK_NOFOLLOW) != 0
            ||  S_ISDIR (st.st_mode))
                continue;
            moves [done] = (s_move_t) { .name = name, .how = S_REMOVED };
            if (renameat (dir, name, stage, name) == 0)
                done++;
            else
                failed = name;
        }
        if (failed) {
            int err = errno;
            s_undo (stage, dir, moves, done);
            ds_rdata_fail (self->errors, "cannot write %s/%s: %s (the earlier report is kept)",
                           self->path, failed, strerror (err));
        }
        else
            rc = 0;
    }
    if (stage >= 0)
        close (stage);
    if (dir >= 0)
        close (dir);
    for (size_t i = 0; names && i < count; i++)
        free (names [i]);
    free (names);
    free (moves);
    s_unstage (self);                   //  with the old files now in it
    self->stales = 0;
    return rc;
}

void
ds_rdir_discard (ds_rdir_t *self)
{
    s_unstage (self);
    ds_rdir_unmake (self->path, self->made);
    self->made [0] = 0;
}

void
ds_rdir_unmake (const char *path, const char *made)
{
    if (!made || !*made)
        return;
    char dir [PATH_MAX];
    snprintf (dir, sizeof dir, "%s", path);
    size_t floor = strlen (made);
    for (size_t len = strlen (dir); len >= floor; len = strlen (dir)) {
        while (len > 1 && dir [len - 1] == '/')
            dir [--len] = 0;            //  "out/report/": rmdir "out/report", then "out"
        if (len < floor || (rmdir (dir) != 0 && errno != ENOENT))
            break;                      //  not empty (or not ours to remove): it stays, and its parents
        char *slash = strrchr (dir, '/');
        if (!slash)
            break;
        *slash = 0;
    }
}
