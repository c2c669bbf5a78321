/*  libs: ds_darkscope ds_proto ds_common */
/*  test_report_dir.c - the report's output directory
    (services/darkscope/report_dir.c): created with its parents, refused
    when it is a file or not writable, write errors caught at close (a
    real full device: /dev/full), files under a temporary name until
    closed and abandoned when never closed, stale files removed, a staged
    report committed whole or discarded. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>
#include "scratch_fixture.h"
#include "report_dir.h"

static char s_tmp [64];              //  the scratch directory, /tmp/test_report_dir.XXXXXX

static int
setup (void **state)
{
    (void) state;
    return fx_scratch_make (s_tmp, sizeof s_tmp, "test_report_dir");
}

static int
teardown (void **state)
{
    (void) state;
    return fx_scratch_remove (s_tmp);
}

static bool
s_exists (const char *dir, const char *name)
{
    char path [PATH_MAX * 2];
    struct stat st;
    snprintf (path, sizeof path, "%s/%s", dir, name);
    return stat (path, &st) == 0;
}

static void
test_make (void **state)
{
    (void) state;
    char err [512], path [PATH_MAX];
    snprintf (path, sizeof path, "%s/a/b/c", s_tmp);
    ds_rdata_t *data = ds_rdata_new (err, sizeof err);
    ds_rdir_t *dir = ds_rdir_new (path, data);
    assert_string_equal (ds_rdir_path (dir), path);
    assert_int_equal (ds_rdir_make (dir), 0);
    assert_int_equal (ds_rdir_make (dir), 0);               //  already there: fine
    assert_true (s_exists (s_tmp, "a/b/c"));
    ds_rdir_destroy (&dir);
    assert_null (dir);
    ds_rdata_destroy (&data);

    //  A file where a directory should be: named in the error.
    char file [PATH_MAX + 8];
    snprintf (file, sizeof file, "%s/plain", s_tmp);
    FILE *f = fopen (file, "w");
    assert_non_null (f);
    fclose (f);
    data = ds_rdata_new (err, sizeof err);
    dir = ds_rdir_new (file, data);
    assert_int_equal (ds_rdir_make (dir), -1);
    assert_non_null (strstr (err, "not a directory"));
    ds_rdir_destroy (&dir);
    ds_rdata_destroy (&data);

    snprintf (path, sizeof path, "%s/plain/sub", s_tmp);
    data = ds_rdata_new (err, sizeof err);
    dir = ds_rdir_new (path, data);
    assert_int_equal (ds_rdir_make (dir), -1);
    assert_non_null (strstr (err, "cannot create report directory"));
    assert_non_null (strstr (err, "plain"));
    ds_rdir_destroy (&dir);
    ds_rdata_destroy (&data);

    data = ds_rdata_new (err, sizeof err);
    dir = ds_rdir_new ("", data);
    assert_int_equal (ds_rdir_make (dir), -1);
    assert_string_equal (err, "bad report directory \"\"");
    ds_rdir_destroy (&dir);
    ds_rdata_destroy (&data);
}

static void
test_files (void **state)
{
    (void) state;
    char err [512];
    ds_rdata_t *data = ds_rdata_new (err, sizeof err);
    ds_rdir_t *dir = ds_rdir_new (s_tmp, data);
    FILE *f = ds_rdir_open (dir, "page");
    assert_non_null (f);
    fputs ("hello\n", f);
    fflush (f);
    assert_false (s_exists (s_tmp, "page"));            //  only under a temporary name until closed
    assert_int_equal (ds_rdir_close (dir, f, "page"), 0);
    assert_true (s_exists (s_tmp, "page"));
    ds_rdir_unlink (dir, "page");
    ds_rdir_unlink (dir, "page");                       //  gone already: no failure
    assert_false (s_exists (s_tmp, "page"));
    assert_int_equal (ds_rdir_close (dir, NULL, "x"), -1);
    assert_false (ds_rdata_failed (data));

    //  A file never closed (the report failed midway) is abandoned with
    //  the handle: nothing of it is left, not even its temporary file.
    f = ds_rdir_open (dir, "index.html");
    assert_non_null (f);
    fputs ("<html>half", f);
    fflush (f);
    ds_rdir_destroy (&dir);
    assert_false (s_exists (s_tmp, "index.html"));
    char command [PATH_MAX + 32];
    snprintf (command, sizeof command, "test -z \"$(find '%s' -name '*index.html*')\"", s_tmp);
    assert_int_equal (system (command), 0);
    ds_rdata_destroy (&data);
}

//  A staged report: nothing in the directory until the commit, which puts
//  every file in place (over the old, keeping its mode) and takes the
//  stale ones away; a discarded one leaves the directory as it was, and
//  the directories made for it go if empty.
static void
test_stage (void **state)
{
    (void) state;
    char err [512], path [PATH_MAX], old [PATH_MAX + 16];
    snprintf (path, sizeof path, "%s/s/report/", s_tmp);
    ds_rdata_t *data = ds_rdata_new (err, sizeof err);
    ds_rdir_t *dir = ds_rdir_new (path, data);
    assert_int_equal (ds_rdir_make (dir), 0);
    assert_int_equal (ds_rdir_stage (dir), 0);
    assert_string_not_equal (ds_rdir_work (dir), ds_rdir_path (dir));
    FILE *f = ds_rdir_open (dir, "page");
    fputs ("new\n", f);
    assert_int_equal (ds_rdir_close (dir, f, "page"), 0);
    assert_false (s_exists (path, "page"));             //  staged only
    ds_rdir_discard (dir);
    assert_false (s_exists (s_tmp, "s"));               //  made for it, empty again: gone
    ds_rdir_destroy (&dir);

    //  Into a directory holding an earlier report and a file of someone else's.
    snprintf (path, sizeof path, "%s/t", s_tmp);
    assert_int_equal (mkdir (path, 0755), 0);
    const char *olds [] = { "page", "stale", "mine" };
    for (size_t i = 0; i < 3; i++) {
        snprintf (old, sizeof old, "%s/%s", path, olds [i]);
        f = fopen (old, "w");
        fputs ("old\n", f);
        fclose (f);
    }
    snprintf (old, sizeof old, "%s/page", path);
    assert_int_equal (chmod (old, 0600), 0);
    dir = ds_rdir_new (path, data);
    assert_int_equal (ds_rdir_make (dir), 0);
    assert_string_equal (ds_rdir_made (dir), "");
    assert_int_equal (ds_rdir_stage (dir), 0);
    const char *news [] = { "page", "index.html" };
    for (size_t i = 0; i < 2; i++) {
        f = ds_rdir_open (dir, news [i]);
        fputs ("new\n", f);
        assert_int_equal (ds_rdir_close (dir, f, news [i]), 0);
    }
    ds_rdir_unlink (dir, "stale");
    assert_true (s_exists (path, "stale"));             //  until the commit
    assert_int_equal (ds_rdir_commit (dir, "index.html"), 0);
    assert_false (ds_rdata_failed (data));
    assert_false (s_exists (path, "stale"));
    assert_true (s_exists (path, "mine"));
    struct stat st;
    assert_int_equal (stat (old, &st), 0);
    assert_int_equal (st.st_mode & 0777, 0600);         //  the old file's mode
    char command [PATH_MAX + 64];
    snprintf (command, sizeof command, "test \"$(ls -A '%s' | tr '\\n' ' ')\" = 'index.html mine page '", path);
    assert_int_equal (system (command), 0);             //  no staging directory left
    ds_rdir_discard (dir);                              //  made nothing: the directory stays
    assert_true (s_exists (path, "page"));
    ds_rdir_destroy (&dir);
    ds_rdata_destroy (&data);
}

//  A write that only fails when the buffer is flushed: the close says so.
static void
test_disk_full (void **state)
{
    (void) state;
    if (access ("/dev/full", W_OK) != 0) {
        print_message ("test_disk_full: skipped, no /dev/full\n");
        skip ();
    }
    char link [PATH_MAX + 8], err [512];
    snprintf (link, sizeof link, "%s/full.csv", s_tmp);
    assert_int_equal (symlink ("/dev/full", link), 0);
    ds_rdata_t *data = ds_rdata_new (err, sizeof err);
    ds_rdir_t *dir = ds_rdir_new (s_tmp, data);
    FILE *f = ds_rdir_open (dir, "full.csv");
    assert_non_null (f);
    fputs ("a,b\n1,2\n", f);                            //  buffered: no error yet
    assert_int_equal (ds_rdir_close (dir, f, "full.csv"), -1);
    assert_non_null (strstr (err, "full.csv"));
    assert_non_null (strstr (err, "No space left on device"));
    ds_rdir_destroy (&dir);
    ds_rdata_destroy (&data);

    //  Opening where nothing can be written.
    data = ds_rdata_new (err, sizeof err);
    dir = ds_rdir_new ("/nonexistent-report-dir", data);
    assert_null (ds_rdir_open (dir, "x.csv"));
    assert_non_null (strstr (err, "cannot write /nonexistent-report-dir/x.csv"));
    ds_rdir_destroy (&dir);
    ds_rdata_destroy (&data);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_make),
        cmocka_unit_test (test_files),
        cmocka_unit_test (test_stage),
        cmocka_unit_test (test_disk_full),
    };
    return cmocka_run_group_tests (tests, setup, teardown);
}
