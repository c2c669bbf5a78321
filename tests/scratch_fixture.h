/*  scratch_fixture.h - a test program's scratch directory: made under
    $TMPDIR or /tmp with a unique name (mkdtemp), removed with everything in it
    (depth first, links not followed; no shell, so no quoting of the
    path).  Shared by every test that writes files.  Header only (static
    inline), included after cmocka.h.

        static char s_dir [64];
        static int setup (void **state) { return fx_scratch_make (s_dir, sizeof s_dir, "test_x"); }
        static int teardown (void **state) { return fx_scratch_remove (s_dir); }
*/
#ifndef SCRATCH_FIXTURE_H
#define SCRATCH_FIXTURE_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

//  Makes $TMPDIR/<name>.XXXXXX (/tmp without TMPDIR) into dir (size
//  bytes).  0, or -1 (dir too small, or mkdtemp failed), for a group
//  setup's return.
static inline int
fx_scratch_make (char *dir, size_t size, const char *name)
{
    const char *tmp = getenv ("TMPDIR");
    if (snprintf (dir, size, "%s/%s.XXXXXX", tmp && *tmp ? tmp : "/tmp", name) >= (int) size)
        return -1;
    return mkdtemp (dir) ? 0 : -1;
}

static inline int
fx_scratch_remove_one (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void) st; (void) flag; (void) ftw;
    return remove (path);
}

//  Removes dir and everything in it; a dir already gone is fine.  0, or
//  -1 if something stayed, for a group teardown's return.
static inline int
fx_scratch_remove (const char *dir)
{
    struct stat st;
    if (!dir [0] || lstat (dir, &st) != 0)
        return 0;
    return nftw (dir, fx_scratch_remove_one, 16, FTW_DEPTH | FTW_PHYS) == 0 ? 0 : -1;
}

#endif
