/*  libs: ds_common */
/*  test_afile.c - output files that appear whole (services/common/afile.c):
    the target keeps its old content until commit and nothing else shows in
    the directory but one temporary file; an abandoned file leaves no trace
    (nor one finished after a failed write);
    a symbolic link keeps pointing at the replaced file; an existing file's
    mode is kept; a FIFO is written in place; a missing directory is an
    error with errno. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>
#include "scratch_fixture.h"
#include "afile.h"

static char s_tmp [64];              //  the scratch directory, /tmp/test_afile.XXXXXX

static int
setup (void **state)
{
    (void) state;
    return fx_scratch_make (s_tmp, sizeof s_tmp, "test_afile");
}

static int
teardown (void **state)
{
    (void) state;
    return fx_scratch_remove (s_tmp);
}

//  Names in the test directory, sorted, joined with ' '.
static void
s_listing (char *out, size_t size)
{
    struct dirent **names;
    int n = scandir (s_tmp, &names, NULL, alphasort);
    assert_true (n >= 0);
    *out = 0;
    for (int i = 0; i < n; i++) {
        if (strcmp (names [i]->d_name, ".") && strcmp (names [i]->d_name, ".."))
            snprintf (out + strlen (out), size - strlen (out), "%s%s", *out ? " " : "", names [i]->d_name);
        free (names [i]);
    }
    free (names);
}

static void
s_path (char *path, const char *name)
{
    snprintf (path, PATH_MAX, "%s/%s", s_tmp, name);
}

static void
s_put (const char *name, const char *text)
{
    char path [PATH_MAX];
    s_path (path, name);
    FILE *f = fopen (path, "w");
    assert_non_null (f);
    fputs (text, f);
    assert_int_equal (fclose (f), 0);
}

static void
s_expect (const char *name, const char *text)
{
    char path [PATH_MAX], got [256] = "";
    s_path (path, name);
    FILE *f = fopen (path, "r");
    assert_non_null (f);
    size_t n = fread (got, 1, sizeof got - 1, f);
    got [n] = 0;
    fclose (f);
    assert_string_equal (got, text);
}

static void
test_new_file (void **state)
{
    (void) state;
    char path [PATH_MAX], list [1024];
    s_path (path, "o.json");
    ds_afile_t *file = ds_afile_new (path);
    assert_non_null (file);
    fputs ("{\"a\": 1}\n", ds_afile_stream (file));
    fflush (ds_afile_stream (file));
    //  Written but not committed: only a hidden temporary file is there.
    s_listing (list, sizeof list);
    assert_int_equal (strncmp (list, ".o.json.", 8), 0);
    assert_non_null (strstr (list, ".tmp"));
    assert_null (strchr (list, ' '));
    assert_int_equal (ds_afile_commit (&file), 0);
    assert_null (file);
    s_listing (list, sizeof list);
    assert_string_equal (list, "o.json");
    s_expect ("o.json", "{\"a\": 1}\n");
    struct stat st;
    assert_int_equal (stat (path, &st), 0);
    mode_t mask = umask (0);
    umask (mask);
    assert_int_equal (st.st_mode & 0777, 0666 & ~mask);         //  as fopen would make it
    unlink (path);
}

static void
test_replace_and_abandon (void **state)
{
    (void) state;
    char path [PATH_MAX], list [1024];
    s_put ("o.json", "old\n");
    s_path (path, "o.json");
    assert_int_equal (chmod (path, 0600), 0);
    ds_afile_t *file = ds_afile_new (path);
    assert_non_null (file);
    fputs ("new, much longer than the old\n", ds_afile_stream (file));
    fflush (ds_afile_stream (file));
    s_expect ("o.json", "old\n");                               //  a reader still sees the old whole
    assert_int_equal (ds_afile_commit (&file), 0);
    s_expect ("o.json", "new, much longer than the old\n");
    struct stat st;
    assert_int_equal (stat (path, &st), 0);
    assert_int_equal (st.st_mode & 0777, 0600);                 //  a private file stays private

    //  Abandoned: the target as it was, no temporary file left.
    file = ds_afile_new (path);
    assert_non_null (file);
    fputs ("half", ds_afile_stream (file));
    fflush (ds_afile_stream (file));
    ds_afile_destroy (&file);
    assert_null (file);
    ds_afile_destroy (&file);                                   //  NULL-safe
    s_expect ("o.json", "new, much longer than the old\n");
    s_listing (list, sizeof list);
    assert_string_equal (list, "o.json");

    //  Finished after a failed write (rc -1): abandoned, the write's
    //  errno kept; after a good one (rc 0): committed.
    file = ds_afile_new (path);
    assert_non_null (file);
    fputs ("failed", ds_afile_stream (file));
    errno = ENOSPC;
    assert_int_equal (ds_afile_finish (&file, -1), -1);
    assert_int_equal (errno, ENOSPC);
    assert_null (file);
    s_expect ("o.json", "new, much longer than the old\n");
    s_listing (list, sizeof list);
    assert_string_equal (list, "o.json");
    file = ds_afile_new (path);
    assert_non_null (file);
    fputs ("finished\n", ds_afile_stream (file));
    assert_int_equal (ds_afile_finish (&file, 0), 0);
    assert_null (file);
    s_expect ("o.json", "finished\n");
    unlink (path);
}

static void
test_symlink (void **state)
{
    (void) state;
    char path [PATH_MAX], link [PATH_MAX], list [1024];
    assert_int_equal (mkdir (strcat (strcpy (path, s_tmp), "/real"), 0755), 0);
    s_put ("real/o.json", "old\n");
    s_path (link, "link.json");
    assert_int_equal (symlink ("real/o.json", link), 0);
    ds_afile_t *file = ds_afile_new (link);
    assert_non_null (file);
    fputs ("new\n", ds_afile_stream (file));
    assert_int_equal (ds_afile_commit (&file), 0);
    struct stat st;
    assert_int_equal (lstat (link, &st), 0);
    assert_true (S_ISLNK (st.st_mode));                         //  still the link
    s_expect ("real/o.json", "new\n");
    s_listing (list, sizeof list);
    assert_string_equal (list, "link.json real");
    unlink (link);
    s_path (path, "real/o.json");
    unlink (path);
    s_path (path, "real");
    rmdir (path);
}

static void
test_fifo_in_place (void **state)
{
    (void) state;
    char path [PATH_MAX], list [1024], got [64] = "";
    s_path (path, "pipe");
    assert_int_equal (mkfifo (path, 0600), 0);
    int reader = open (path, O_RDONLY | O_NONBLOCK);
    assert_true (reader >= 0);
    ds_afile_t *file = ds_afile_new (path);
    assert_non_null (file);
    fputs ("through the pipe\n", ds_afile_stream (file));
    assert_int_equal (ds_afile_commit (&file), 0);
    ssize_t n = read (reader, got, sizeof got - 1);
    assert_int_equal (n, 17);
    assert_string_equal (got, "through the pipe\n");
    close (reader);
    struct stat st;
    assert_int_equal (lstat (path, &st), 0);
    assert_true (S_ISFIFO (st.st_mode));                        //  not replaced by a file
    s_listing (list, sizeof list);
    assert_string_equal (list, "pipe");
    unlink (path);
}

static void
test_errors (void **state)
{
    (void) state;
    char path [PATH_MAX];
    s_path (path, "no/such/dir/o.json");
    errno = 0;
    assert_null (ds_afile_new (path));
    assert_int_equal (errno, ENOENT);
    errno = 0;
    ds_afile_t *none = NULL;
    assert_int_equal (ds_afile_commit (&none), -1);
    assert_int_equal (errno, EINVAL);
    //  A write error that shows only at the flush (a full device, written
    //  in place: it is not a regular file) fails the commit.
    if (access ("/dev/full", W_OK) == 0) {
        ds_afile_t *full = ds_afile_new ("/dev/full");
        assert_non_null (full);
        fputs ("x", ds_afile_stream (full));
        errno = 0;
        assert_int_equal (ds_afile_commit (&full), -1);
        assert_int_equal (errno, ENOSPC);
        assert_null (full);
    }
}

static void
test_check (void **state)
{
    (void) state;
    char path [PATH_MAX];
    s_path (path, "new.json");
    assert_int_equal (ds_afile_check (path), 0);                //  not there yet: its directory counts
    s_put ("old.json", "x");
    s_path (path, "old.json");
    assert_int_equal (ds_afile_check (path), 0);
    s_path (path, "no/dir/o.json");
    errno = 0;
    assert_int_equal (ds_afile_check (path), -1);
    assert_int_equal (errno, ENOENT);
    errno = 0;
    assert_int_equal (ds_afile_check (s_tmp), -1);              //  a directory
    assert_int_equal (errno, EISDIR);
    assert_int_equal (ds_afile_check ("/dev/null"), 0);        //  written in place
    if (geteuid () != 0) {                                      //  root may write anywhere
        assert_int_equal (ds_afile_check ("/proc/o.json"), -1);
    }
    unlink (path);
    s_path (path, "old.json");
    unlink (path);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_new_file),
        cmocka_unit_test (test_replace_and_abandon),
        cmocka_unit_test (test_symlink),
        cmocka_unit_test (test_fifo_in_place),
        cmocka_unit_test (test_errors),
        cmocka_unit_test (test_check),
    };
    return cmocka_run_group_tests (tests, setup, teardown);
}
