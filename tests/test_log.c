/*  libs: ds_common */
/*  test_log.c - log lines (services/common/log.c): the text form, and the
    JSON form read back field by field: escapes, invalid UTF-8, the
    calling thread's service and context field, typed fields (key=value in
    text, a "fields" object in JSON), lines too long for the buffer, the
    thread's name. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <pthread.h>
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
    assert_non_null (strstr (out, "Z\",\"level\":\"info\",\"service\":\"labeler\",\"message\":\"plain 42\",\"fields\":{}}\n"));
    assert_non_null (strstr (line2, "\"level\":\"warning\""));
    assert_non_null (strstr (line2,
        "\"message\":\"a \\\"quote\\\", a \\\\ and a\\u000anewline\\u0009\\u0001 and bad \\ufffd utf-8 \xc3\xa9\",\"fields\":{}}\n"));
    assert_non_null (strstr (line3, "\"service\":\"aggregator\",\"shard\":3,\"message\":\"from a shard\",\"fields\":{}}\n"));
    //  Millisecond timestamps: 2026-01-02T03:04:05.678Z
    assert_int_equal (out [9 + 19], '.');
    assert_int_equal (out [9 + 23], 'Z');
    free (out);
}

static void
s_field_lines (void)
{
    uint64_t records = 18446744073709551615ULL;
    int64_t delta = -5;
    unsigned shard = 2;
    char path [] = "/var/lib/a b/\"x\".ckpt";
    ds_log_info_kv (DS_FIELDS (DS_KV ("records", records), DS_KV ("delta", delta), DS_KV ("shard", shard),
                               DS_KV ("ms", 1.5), DS_KV ("ok", (bool) true), DS_KV ("path", path),
                               DS_KV ("plain", "word"), DS_KV ("empty", ""), DS_KV ("none", (const char *) NULL),
                               DS_KV ("nan", 0.0 / 0.0), DS_KV ("ctl", "a\nb\x01")),
                    "checkpoint %s", "written");
    ds_log_thread ("ingest", "sensor", "s-1");
    ds_log_warn_kv (DS_FIELDS (DS_KV ("utf8", "caf\xc3\xa9 \xff")), "odd");
    ds_log_thread (NULL, NULL, NULL);
}

static void
test_fields_text (void **state)
{
    (void) state;
    ds_log_init ("aggregator");
    assert_int_equal (ds_log_set_format ("text"), 0);
    char *out = s_capture (s_field_lines);
    assert_non_null (strstr (out, "Z aggregator info: checkpoint written records=18446744073709551615 delta=-5 "
                                  "shard=2 ms=1.5 ok=true path=\"/var/lib/a b/\\\"x\\\".ckpt\" plain=word "
                                  "empty=\"\" none=- nan=nan ctl=\"a\\nb\\x01\"\n"));
    assert_non_null (strstr (out, "Z ingest warning: odd utf8=\"caf\xc3\xa9 \xff\"\n"));
    free (out);
}

static void
test_fields_json (void **state)
{
    (void) state;
    ds_log_init ("aggregator");
    assert_int_equal (ds_log_set_format ("json"), 0);
    char *out = s_capture (s_field_lines);
    ds_log_set_format ("text");
    assert_non_null (strstr (out, "\"service\":\"aggregator\",\"message\":\"checkpoint written\",\"fields\":{"
                                  "\"records\":18446744073709551615,\"delta\":-5,\"shard\":2,\"ms\":1.5,"
                                  "\"ok\":true,\"path\":\"/var/lib/a b/\\\"x\\\".ckpt\",\"plain\":\"word\","
                                  "\"empty\":\"\",\"none\":null,\"nan\":null,\"ctl\":\"a\\u000ab\\u0001\"}}\n"));
    //  A context value that is not a number stays a string.
    assert_non_null (strstr (out, "\"service\":\"ingest\",\"sensor\":\"s-1\",\"message\":\"odd\","
                                  "\"fields\":{\"utf8\":\"caf\xc3\xa9 \\ufffd\"}}\n"));
    free (out);
}

static void
s_long_lines (void)
{
    static char big [6000];
    memset (big, '"', sizeof big - 1);          //  6 bytes each escaped
    ds_log_info_kv (DS_FIELDS (DS_KV ("first", 1), DS_KV ("big", big), DS_KV ("after", 2)), "%s", big);
}

static void
test_long_line (void **state)
{
    (void) state;
    ds_log_init ("query");
    assert_int_equal (ds_log_set_format ("json"), 0);
    char *out = s_capture (s_long_lines);
    ds_log_set_format ("text");
    //  One line, cut but closed: the message's end and the fields that do
    //  not fit whole are left out.
    size_t n = strlen (out);
    assert_true (n < 8192);
    assert_ptr_equal (strchr (out, '\n'), out + n - 1);
    assert_non_null (strstr (out, "\\\"\",\"fields\":{\"first\":1}}\n"));
    free (out);
}

//  Names itself as a shard's aggregator would, then as a service with no
//  context field; returns both names as the system reports them.
static void *
s_named (void *arg)
{
    char (*names) [16] = arg;
    ds_log_thread ("aggregator", "shard", "12");
    pthread_getname_np (pthread_self (), names [0], 16);
    ds_log_thread ("a-service-with-a-long-name", NULL, NULL);
    pthread_getname_np (pthread_self (), names [1], 16);
    return NULL;
}

static void
test_thread_name (void **state)
{
    (void) state;
    char names [2][16] = { "", "" };
    pthread_t thread;
    assert_int_equal (pthread_create (&thread, NULL, s_named, names), 0);
    pthread_join (thread, NULL);
    assert_string_equal (names [0], "aggregator-12");
    assert_string_equal (names [1], "a-service-with-");   //  15 bytes at most
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_text),
        cmocka_unit_test (test_json),
        cmocka_unit_test (test_fields_text),
        cmocka_unit_test (test_fields_json),
        cmocka_unit_test (test_long_line),
        cmocka_unit_test (test_thread_name),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
