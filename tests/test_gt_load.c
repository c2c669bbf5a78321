/*  libs: ds_labeler ds_proto ds_common */
/*  test_gt_load.c - reading ground-truth files (services/labeler/gt_load.c):
    CSV headers, quotes and CRLF; CIDR lists with comments; directories of
    <class>_v4.txt lists in name order; CLASS=FILE specs; bad rows warned,
    counted and skipped (the first 5 of a file logged, then one line with
    their number); errors that name the file (and line).
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>
#include "scratch_fixture.h"
#include "gt.h"
#include "log.h"

static char s_dir [256];

static const char *
s_path (const char *name)
{
    static char path [4][512];
    static int next = 0;
    char *p = path [next++ % 4];
    snprintf (p, 512, "%s/%s", s_dir, name);
    return p;
}

static void
s_write (const char *name, const char *text)
{
    FILE *file = fopen (s_path (name), "w");
    assert_non_null (file);
    fputs (text, file);
    fclose (file);
}

//  The class an address gets in a built table ("" if not matched).
static const char *
s_class (const ds_gt_t *gt, const char *ip)
{
    ds_addr_t addr;
    assert_int_equal (ds_addr_parse (&addr, ip), 0);
    bool matched;
    uint16_t id = ds_gt_lookup (gt, &addr, &matched);
    return matched ? ds_gt_class_names (gt) [id] : "";
}

static int
s_setup (void **state)
{
    (void) state;
    ds_log_set_quiet (true);
    return fx_scratch_make (s_dir, sizeof s_dir, "test_gt_load");
}

static int
s_teardown (void **state)
{
    (void) state;
    return fx_scratch_remove (s_dir);
}

static void
test_csv (void **state)
{
    (void) state;
    ds_gt_t *gt = ds_gt_new ();
    char err [256];
    //  Any of the address and class column names, quotes, CRLF; a ragged
    //  row and a bad address are warned about and skipped.
    s_write ("q.csv", "\"n\",\"src_ip\",\"label\"\r\n0,\"1.1.1.1\",\"q\"\r\n1,2.2.2.2\r\n"
                      "2,not-an-ip,q\r\n3,\"3.3.3.3\",\"a \"\"b\"\"\"\r\n");
    assert_int_equal (ds_gt_load_csv (gt, s_path ("q.csv"), err, sizeof err), 0);
    assert_int_equal (ds_gt_warning_count (gt), 3);     //  ragged, bad address, bad class
    assert_int_equal (ds_gt_exact_count (gt), 1);
    assert_int_equal (ds_gt_build (gt), 0);
    assert_string_equal (s_class (gt, "1.1.1.1"), "q");
    assert_string_equal (s_class (gt, "2.2.2.2"), "");
    //  No usable header: refused, naming file:line; a missing file by name.
    s_write ("noheader.csv", "addr,kind\n1.2.3.4,x\n");
    assert_int_equal (ds_gt_load_csv (gt, s_path ("noheader.csv"), err, sizeof err), -1);
    assert_non_null (strstr (err, "noheader.csv:1"));
    assert_int_equal (ds_gt_load_csv (gt, "/nonexistent/gt.csv", err, sizeof err), -1);
    assert_non_null (strstr (err, "/nonexistent/gt.csv"));
    ds_gt_destroy (&gt);
}

static void
test_lists (void **state)
{
    (void) state;
    ds_gt_t *gt = ds_gt_new ();
    char err [256];
    //  Comments, blank lines, a bad line (warned); the class from the name.
    s_write ("censys_v4.txt", "# Censys\n1.2.3.0/24   # trailing\n\nbad line\n");
    assert_int_equal (ds_gt_load_list (gt, s_path ("censys_v4.txt"), NULL, err, sizeof err), 0);
    assert_int_equal (ds_gt_warning_count (gt), 1);
    //  A name that tells no class needs CLASS=FILE.
    s_write ("plain.txt", "10.0.0.0/8\n");
    assert_int_equal (ds_gt_load_list (gt, s_path ("plain.txt"), NULL, err, sizeof err), -1);
    assert_non_null (strstr (err, "plain.txt"));
    char spec [600];
    snprintf (spec, sizeof spec, "ten=%s", s_path ("plain.txt"));
    assert_int_equal (ds_gt_load_spec (gt, spec, err, sizeof err), 0);
    //  Bad specs and class names.
    assert_int_equal (ds_gt_load_spec (gt, "=x", err, sizeof err), -1);
    snprintf (spec, sizeof spec, "a b=%s", s_path ("plain.txt"));
    assert_int_equal (ds_gt_load_spec (gt, spec, err, sizeof err), -1);
    assert_non_null (strstr (err, "bad class name"));
    assert_int_equal (ds_gt_load_spec (gt, "/nonexistent/x_v4.txt", err, sizeof err), -1);
    assert_int_equal (ds_gt_build (gt), 0);
    assert_string_equal (s_class (gt, "1.2.3.77"), "censys");
    assert_string_equal (s_class (gt, "10.20.30.40"), "ten");
    ds_gt_destroy (&gt);

    assert_true (ds_gt_class_name_ok ("engin-umich"));
    assert_false (ds_gt_class_name_ok (""));
    assert_false (ds_gt_class_name_ok ("a=b"));
    assert_false (ds_gt_class_name_ok ("a\"b"));
}

//  A directory: every <class>_v4.txt / _v6.txt in name order (so the first
//  loaded of two conflicting entries is the same on every machine); other
//  files ignored; an empty directory refused.
static void
test_dir (void **state)
{
    (void) state;
    char dir [300], err [256];
    snprintf (dir, sizeof dir, "%s/lists", s_dir);
    assert_int_equal (mkdir (dir, 0700), 0);
    ds_gt_t *gt = ds_gt_new ();
    assert_int_equal (ds_gt_load_spec (gt, dir, err, sizeof err), -1);
    assert_non_null (strstr (err, "no <class>_v4.txt"));
    ds_gt_destroy (&gt);
    s_write ("lists/zeta_v4.txt", "5.5.5.0/24\n");
    s_write ("lists/alpha_v4.txt", "5.5.5.0/24\n");           //  conflict: alpha first
    s_write ("lists/alpha_v6.txt", "2001:db8:5::/48\n");
    s_write ("lists/readme.md", "not a list\n");
    gt = ds_gt_new ();
    assert_int_equal (ds_gt_load_spec (gt, dir, err, sizeof err), 0);
    assert_int_equal (ds_gt_prefix_count (gt), 2);
    assert_int_equal (ds_gt_warning_count (gt), 1);
    assert_int_equal (ds_gt_build (gt), 0);
    assert_string_equal (s_class (gt, "5.5.5.5"), "alpha");
    assert_string_equal (s_class (gt, "2001:db8:5::1"), "alpha");
    ds_gt_destroy (&gt);
}

//  A file with many bad lines and conflicts: every one counted, the first
//  DS_GT_WARN_SHOWN logged with file:line, then one line with their number;
//  the next file's warnings logged afresh.
static void
test_warnings_capped (void **state)
{
    (void) state;
    ds_gt_t *gt = ds_gt_new ();
    char err [256];
    s_write ("a_v4.txt", "10.0.0.1\n10.0.0.2\n");
    s_write ("b_v4.txt", "10.0.0.1\n10.0.0.2\nbad1\nbad2\nbad3\nbad4\nbad5\nbad6\n");
    s_write ("c_v4.txt", "nope\n");
    fflush (stderr);
    int saved = dup (2);
    FILE *log = tmpfile ();
    assert_non_null (log);
    dup2 (fileno (log), 2);
    ds_log_set_quiet (true);                            //  warnings still shown
    assert_int_equal (ds_gt_load_list (gt, s_path ("a_v4.txt"), "a", err, sizeof err), 0);
    assert_int_equal (ds_gt_load_list (gt, s_path ("b_v4.txt"), "b", err, sizeof err), 0);
    assert_int_equal (ds_gt_load_list (gt, s_path ("c_v4.txt"), "c", err, sizeof err), 0);
    fflush (stderr);
    dup2 (saved, 2);
    close (saved);
    assert_int_equal (ds_gt_warning_count (gt), 9);
    rewind (log);
    char line [512];
    int b_lines = 0, summaries = 0, c_lines = 0;
    while (fgets (line, sizeof line, log)) {
        if (strstr (line, "b_v4.txt:"))
            b_lines++;
        if (strstr (line, "b_v4.txt: 8 warnings, the first 5 shown"))
            summaries++;
        if (strstr (line, "c_v4.txt:1:"))
            c_lines++;
    }
    fclose (log);
    assert_int_equal (b_lines, 5 + 1);                  //  5 with their line, the summary
    assert_int_equal (summaries, 1);
    assert_int_equal (c_lines, 1);
    ds_gt_destroy (&gt);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_csv),
        cmocka_unit_test (test_lists),
        cmocka_unit_test (test_dir),
        cmocka_unit_test (test_warnings_capped),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
