/*  libs: ds_darkscope ds_proto ds_common */
/*  test_report_plot.c - gnuplot for the report (services/darkscope/report_plot.c):
    the script's blocks and strings as gnuplot reads them, rasters on disk,
    and the real gnuplot process: a figure drawn, a figure missing, a
    script error quoted, a gnuplot that fails or is not there. */
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
#include "report_plot.h"
#include "ds_proto.h"

static char s_tmp [64];                 //  the scratch directory, /tmp/test_report_plot.XXXXXX

static int
setup (void **state)
{
    (void) state;
    return fx_scratch_make (s_tmp, sizeof s_tmp, "test_report_plot");
}

static int
teardown (void **state)
{
    (void) state;
    return fx_scratch_remove (s_tmp);
}

//  A memory stream and what was written to it.
typedef struct {
    char *buf;
    size_t size;
    FILE *out;
} memout_t;

static void
mem_open (memout_t *m)
{
    m->buf = NULL;
    m->out = open_memstream (&m->buf, &m->size);
    assert_non_null (m->out);
}

static char *
mem_close (memout_t *m)
{
    fclose (m->out);
    return m->buf;
}

static void
s_write_file (const char *name, const char *text)
{
    char path [128];
    snprintf (path, sizeof path, "%s/%s", s_tmp, name);
    FILE *f = fopen (path, "w");
    assert_non_null (f);
    fputs (text, f);
    fclose (f);
}

static long
s_file_size (const char *name)
{
    char path [128];
    struct stat st;
    snprintf (path, sizeof path, "%s/%s", s_tmp, name);
    return stat (path, &st) == 0 ? (long) st.st_size : -1;
}

static void
test_script_text (void **state)
{
    (void) state;
    memout_t m;
    mem_open (&m);
    ds_rplot_begin (m.out, "daily", "Distinct source IPs per day", 800, 500);
    char *text = mem_close (&m);
    assert_string_equal (text,
        "\n#  Distinct source IPs per day\n"
        "reset\n"
        "set terminal svg size 800,500 font 'Helvetica,13' noenhanced background rgb 'white'\n"
        "set output 'fig-daily.svg'.svg_tmp\n"
        "set datafile separator comma\n"
        "set border lw 1.2\n"
        "set grid lc rgb '#dddddd' lw 1\n");
    free (text);

    //  Quotes doubled, UTF-8 kept, invalid bytes and controls as '?'.
    mem_open (&m);
    const char name [] = "it's caf\xc3\xa9\xff\n";
    ds_rplot_str (m.out, name, sizeof name - 1);
    text = mem_close (&m);
    assert_string_equal (text, "'it''s caf\xc3\xa9?" "?'");
    free (text);

    //  Tic labels of an array of strings.
    msgpack_object items [2] = {
        { .type = MSGPACK_OBJECT_STR, .via.str = { .size = 6, .ptr = "telnet" } },
        { .type = MSGPACK_OBJECT_STR, .via.str = { .size = 5, .ptr = "o'her" } } };
    msgpack_object names = { .type = MSGPACK_OBJECT_ARRAY, .via.array = { .size = 2, .ptr = items } };
    mem_open (&m);
    ds_rplot_tics (m.out, &names);
    text = mem_close (&m);
    assert_string_equal (text, "'telnet' 0, 'o''her' 1");
    free (text);

    mem_open (&m);
    ds_rplot_raster_plot (m.out, "pattern", 640, 360, 1000.0, -0.5, 10.0, 2.0, 4, "#9db6e3", "#1f4e9a");
    text = mem_close (&m);
    assert_string_equal (text,
        "unset colorbox\n"
        "set grid front\n"
        "set cbrange [0:4]\n"
        "set palette defined (0 'white', 0.5 'white', 0.51 '#9db6e3', 4 '#1f4e9a')\n"
        "plot 'fig-pattern.raster' binary array=(640,360) format='%uint8' "
        "origin=(1005.000,0.500000) dx=10.000000 dy=2.000000 with image\n");
    free (text);
}

//  A raster drawn by the real gnuplot: on disk as written, embedded in the SVG.
static void
test_raster_drawn (void **state)
{
    (void) state;
    char err [512];
    ds_rdata_t *data = ds_rdata_new (err, sizeof err);
    ds_rdir_t *dir = ds_rdir_new (s_tmp, data);
    uint8_t cells [4 * 3] = { 0, 1, 2, 3, 4, 4, 0, 0, 1, 0, 0, 1 };
    assert_int_equal (ds_rplot_raster_write (dir, "r", cells, 4, 3), 0);
    assert_int_equal (s_file_size ("fig-r.raster"), 12);

    memout_t m;
    mem_open (&m);
    ds_rplot_begin (m.out, "r", "A raster", 320, 240);
    ds_rplot_raster_plot (m.out, "r", 4, 3, 0, 0, 1, 1, 4, "#9db6e3", "#1f4e9a");
    char *script = mem_close (&m);
    s_write_file ("report.gp", script);
    free (script);
    const char *names [] = { "r" };
    if (ds_rplot_run (dir, data, names, 1) != 0)
        fail_msg ("%s", err);
    assert_true (s_file_size ("fig-r.svg") > 0);
    assert_int_equal (s_file_size ("fig-r.svg.tmp"), -1);      //  drawn there, then renamed
    assert_int_equal (s_file_size ("report.gp.log"), -1);      //  removed after a clean run
    char path [128];
    snprintf (path, sizeof path, "%s/fig-r.svg", s_tmp);
    FILE *f = fopen (path, "r");
    char line [4096];
    bool image = false;
    while (fgets (line, sizeof line, f))
        image |= strstr (line, "<image") != NULL && strstr (line, "image/png") != NULL;
    fclose (f);
    assert_true (image);
    ds_rdir_destroy (&dir);
    ds_rdata_destroy (&data);
}

static void
test_run_errors (void **state)
{
    (void) state;
    char err [512];
    ds_rdata_t *data = ds_rdata_new (err, sizeof err);
    ds_rdir_t *dir = ds_rdir_new (s_tmp, data);
    const char *names [] = { "nothing" };

    //  gnuplot ran fine but did not draw a figure it was asked for.
    s_write_file ("report.gp", "print 'no figures'\n");
    assert_int_equal (ds_rplot_run (dir, data, names, 1), -1);
    assert_non_null (strstr (err, "did not write"));
    assert_non_null (strstr (err, "fig-nothing.svg"));
    ds_rdata_destroy (&data);

    //  A script error: gnuplot's line quoted, the log kept.
    data = ds_rdata_new (err, sizeof err);
    s_write_file ("report.gp", "set output '/nonexistent/fig.svg'\n");
    assert_int_equal (ds_rplot_run (dir, data, names, 0), -1);
    assert_non_null (strstr (err, "gnuplot failed drawing the figures (exit 1): "));
    assert_non_null (strstr (err, "No such file or directory; see "));
    assert_true (s_file_size ("report.gp.log") > 0);
    ds_rdata_destroy (&data);

    //  gnuplot fails after drawing a figure: the SVG of the report before
    //  stays whole, the half-drawn one is removed.
    data = ds_rdata_new (err, sizeof err);
    s_write_file ("fig-nothing.svg", "<svg>old</svg>\n");
    memout_t m;
    mem_open (&m);
    ds_rplot_head (m.out, "a test");
    ds_rplot_begin (m.out, "nothing", "A figure", 320, 240);
    fputs ("plot x\nset output\nundefined_command\n", m.out);
    char *script = mem_close (&m);
    s_write_file ("report.gp", script);
    free (script);
    assert_int_equal (ds_rplot_run (dir, data, names, 1), -1);
    assert_non_null (strstr (err, "gnuplot failed drawing the figures (exit 1)"));
    assert_int_equal (s_file_size ("fig-nothing.svg"), 15);
    assert_int_equal (s_file_size ("fig-nothing.svg.tmp"), -1);
    ds_rdata_destroy (&data);

    //  The same script run by hand (no svg_tmp given) draws fig-*.svg itself.
    char command [256];
    snprintf (command, sizeof command, "cd '%s' && gnuplot report.gp 2>/dev/null", s_tmp);
    assert_int_not_equal (system (command), 0);                 //  undefined_command
    assert_true (s_file_size ("fig-nothing.svg") > 15);
    assert_int_equal (s_file_size ("fig-nothing.svg.tmp"), -1);

    //  A gnuplot that is not there, one that fails.
    data = ds_rdata_new (err, sizeof err);
    setenv ("DARKSCOPE_GNUPLOT", "/nonexistent/gnuplot", 1);
    assert_int_equal (ds_rplot_run (dir, data, names, 0), -1);
    assert_non_null (strstr (err, "cannot run /nonexistent/gnuplot to draw the figures"));
    ds_rdata_destroy (&data);
    data = ds_rdata_new (err, sizeof err);
    setenv ("DARKSCOPE_GNUPLOT", "false", 1);
    assert_int_equal (ds_rplot_run (dir, data, names, 0), -1);
    assert_non_null (strstr (err, "false failed drawing the figures (exit 1)"));
    unsetenv ("DARKSCOPE_GNUPLOT");
    ds_rdata_destroy (&data);
    ds_rdir_destroy (&dir);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_script_text),
        cmocka_unit_test (test_raster_drawn),
        cmocka_unit_test (test_run_errors),
    };
    return cmocka_run_group_tests (tests, setup, teardown);
}
