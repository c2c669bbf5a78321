/*  libs: ds_common */
/*  test_log.c - log lines (services/common/log.c): the text form, and the
    JSON form read back field by field: escapes, invalid UTF-8, the
    calling thread's service and context field. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "log.h"

//  Runs fn with stderr going to a file; returns what it wrote (caller frees).
static char *
s_capture (void (*fn) (void))
{
    fflush (stderr);
    char path [] = "/tmp/ds-test-log-XXXXXX";
    int fd = mkstemp (path);
    int saved = dup (STDERR_FILENO);
    dup2 (fd, STDERR_FILENO);
    fn ();
    fflush (stderr);
    dup2 (saved, STDERR_FILENO);
    close (saved);
    FILE *f = fopen (path, "r");
    char *text = calloc (1, 65536);
    size_t n = fread (text, 1, 65535, f);
    text [n] = 0;
    fclose (f);
    close (fd);
    unlink (path);
    return text;
}

static void
s_lines (void)
{
    ds_log_info ("plain %d", 42);
    ds_log_warn ("a \"quote\", a \\ and a\nnewline\t\x01 and bad \xff utf-8 \xc3\xa9");
    ds_log_thread ("aggregator", "shard", "3");
    ds_log_error ("from a shard");
    ds_log_thread (NULL, NULL, NULL);
}

static void
test_text (void **state)
{
    (void) state;
    ds_log_init ("labeler");
    assert_int_equal (ds_log_set_format ("text"), 0);
    char *out = s_capture (s_lines);
    assert_non_null (strstr (out, "Z labeler info: plain 42\n"));
    assert_non_null (strstr (out, "Z aggregator error: from a shard\n"));
    free (out);
}

static void
test_json (void **state)
{
    (void) state;
    ds_log_init ("labeler");
    assert_int_equal (ds_log_set_format ("xml"), -1);
    assert_int_equal (ds_log_set_format ("json"), 0);
    char *out = s_capture (s_lines);
    ds_log_set_format ("text");
    char *line2 = strchr (out, '\n') + 1;
    char *line3 = strchr (line2, '\n') + 1;
    assert_int_equal (strncmp (out, "{\"time\":\"", 9), 0);
    assert_non_null (strstr (out, "Z\",\"level\":\"info\",\"service\":\"labeler\",\"message\":\"plain 42\"}\n"));
    assert_non_null (strstr (line2, "\"level\":\"warning\""));
    assert_non_null (strstr (line2,
        "\"message\":\"a \\\"quote\\\", a \\\\ and a\\u000anewline\\u0009\\u0001 and bad \\ufffd utf-8 \xc3\xa9\"}\n"));
    assert_non_null (strstr (line3, "\"service\":\"aggregator\",\"shard\":\"3\",\"message\":\"from a shard\"}\n"));
    //  Millisecond timestamps: 2026-01-02T03:04:05.678Z
    assert_int_equal (out [9 + 19], '.');
    assert_int_equal (out [9 + 23], 'Z');
    free (out);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_text),
        cmocka_unit_test (test_json),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
