/*  libs: ds_common */
/*  test_text.c - UTF-8 validity, CSV fields, grouped and rounded numbers
    (services/common/text.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "text.h"

//  What ds_text_csv writes for len bytes at ptr (caller frees).
static char *
s_capture_csv (const char *ptr, size_t len)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *out = open_memstream (&buf, &size);
    assert_non_null (out);
    ds_text_csv (out, ptr, len);
    fclose (out);
    return buf;
}

static void
s_upper (FILE *out, unsigned char c)
{
    fputc (c >= 'a' && c <= 'z' ? c - 32 : c, out);
}

static void
test_utf8_len (void **state)
{
    (void) state;
    static const struct { const char *bytes; size_t n; size_t want; } cases [] = {
        { "a", 1, 1 },
        { "\xc3\xa9", 2, 2 },                   //  e-acute
        { "\xc3\xa9", 1, 0 },                   //  cut short
        { "\xe2\x82\xac", 3, 3 },               //  euro sign
        { "\xf0\x9f\x98\x80", 4, 4 },           //  emoji
        { "\xc0\xaf", 2, 0 },                   //  overlong '/'
        { "\xe0\x80\xaf", 3, 0 },               //  overlong, 3 bytes
        { "\xed\xa0\x80", 3, 0 },               //  a surrogate
        { "\xf4\x90\x80\x80", 4, 0 },           //  above U+10FFFF
        { "\x80", 1, 0 },                       //  a continuation byte alone
        { "\xc3\x28", 2, 0 },                   //  lead byte, then no continuation
        { "\xff", 1, 0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        assert_int_equal (ds_text_utf8_len ((const unsigned char *) cases [i].bytes, cases [i].n),
                          cases [i].want);
}

static void
test_write (void **state)
{
    (void) state;
    char *buf = NULL;
    size_t size = 0;
    FILE *out = open_memstream (&buf, &size);
    const char text [] = "caf\xc3\xa9 x\x01y\x7f\xff\xc3";
    ds_text_write (out, text, sizeof text - 1, s_upper);
    fclose (out);
    //  ASCII through the callback, controls and DEL as '?', invalid bytes as '?'.
    assert_string_equal (buf, "CAF\xc3\xa9 X?Y???");
    free (buf);
}

static void
test_csv (void **state)
{
    (void) state;
    static const struct { const char *in; size_t len; const char *want; } cases [] = {
        { "plain", 5, "plain" },
        { "", 0, "" },
        { "a,b", 3, "\"a,b\"" },
        { "say \"hi\"", 8, "\"say \"\"hi\"\"\"" },
        { "line\nbreak", 10, "\"line\nbreak\"" },
        { "cr\r", 3, "\"cr\r\"" },
        { "nul\0byte", 8, "nul?byte" },         //  a NUL is neither quoted nor kept
        { "<script>alert('x&y')</script>", 29, "<script>alert('x&y')</script>" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *got = s_capture_csv (cases [i].in, cases [i].len);
        assert_string_equal (got, cases [i].want);
        free (got);
    }
}

static void
test_group (void **state)
{
    (void) state;
    char buf [32];
    assert_string_equal (ds_text_group (0, buf, sizeof buf), "0");
    assert_string_equal (ds_text_group (999, buf, sizeof buf), "999");
    assert_string_equal (ds_text_group (1000, buf, sizeof buf), "1,000");
    assert_string_equal (ds_text_group (63562427, buf, sizeof buf), "63,562,427");
    assert_string_equal (ds_text_group (-1234567, buf, sizeof buf), "-1,234,567");
    assert_string_equal (ds_text_group (INT64_MIN, buf, sizeof buf), "-9,223,372,036,854,775,808");
    char small [6];
    assert_string_equal (ds_text_group (1234567, small, sizeof small), "1,234");   //  truncated, terminated
}

static void
test_round (void **state)
{
    (void) state;
    char buf [32];
    //  As Python prints round(x, 2) / round(x, 1).
    assert_string_equal (ds_text_round (100.0 * 5000 / 12000, 2, buf, sizeof buf), "41.67");
    assert_string_equal (ds_text_round (100.0 * 1500 / 12000, 2, buf, sizeof buf), "12.5");
    assert_string_equal (ds_text_round (40.0, 2, buf, sizeof buf), "40.0");
    assert_string_equal (ds_text_round (100.0, 2, buf, sizeof buf), "100.0");
    assert_string_equal (ds_text_round (0.0, 2, buf, sizeof buf), "0.0");
    assert_string_equal (ds_text_round (100.0 * 2 / 3, 1, buf, sizeof buf), "66.7");
    assert_string_equal (ds_text_round (0.034, 2, buf, sizeof buf), "0.03");
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_utf8_len),
        cmocka_unit_test (test_write),
        cmocka_unit_test (test_csv),
        cmocka_unit_test (test_group),
        cmocka_unit_test (test_round),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
