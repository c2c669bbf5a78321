/*  libs: ds_darkscope ds_proto ds_common */
/*  test_report_heatmap.c - the class x service heatmap figure
    (services/darkscope/report_heatmap.c): a cell per (service, class) in
    the CSV, names as gnuplot tics, the figure's size from the matrix,
    every malformed matrix refused with what is wrong, "no data". */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "report_heatmap.h"
#include "report_fixture.h"

static const ds_rfig_row_t s_row = {
    "heatmap", "Classes and services (last day)", NULL, NULL,
    "class_index,service_index,fraction,class,service", 0, 0,
    ds_rheatmap_prepare, ds_rheatmap_caption, ds_rheatmap_plot };

typedef enum { OK, ROWS_SHORT, CLASS_NOT_STR, SERVICE_NOT_STR, ROW_SHORT, CELL_NOT_NUM } defect_t;

//  {"heatmap": {"classes": [...], "services": [...], "fraction": [[...]]}}
//  with nc classes and ns services, cell (s, c) = (s * nc + c + 1) / 8
//  (an integer 1 in the last cell), and one defect.
static msgpack_object
s_overview (fx_packer_t *p, uint32_t nc, uint32_t ns, defect_t defect)
{
    static const char *classes [] = { "mirai", "it's", "c,2", "d", "e", "f", "g", "h", "i", "j" };
    static const char *services [] = { "telnet", "http", "others" };
    msgpack_packer *pk = fx_pack (p);
    msgpack_pack_map (pk, 1);
    fx_str (pk, "heatmap");
    msgpack_pack_map (pk, 3);
    fx_str (pk, "classes");
    msgpack_pack_array (pk, nc);
    for (uint32_t c = 0; c < nc; c++)
        if (defect == CLASS_NOT_STR && c == 1)
            msgpack_pack_int (pk, 1);
        else
            fx_str (pk, classes [c % 10]);
    fx_str (pk, "services");
    msgpack_pack_array (pk, ns);
    for (uint32_t s = 0; s < ns; s++)
        if (defect == SERVICE_NOT_STR && s == 1)
            msgpack_pack_nil (pk);
        else
            fx_str (pk, services [s % 3]);
    fx_str (pk, "fraction");
    uint32_t rows = defect == ROWS_SHORT ? ns - 1 : ns;
    msgpack_pack_array (pk, rows);
    for (uint32_t s = 0; s < rows; s++) {
        uint32_t cells = defect == ROW_SHORT && s == 1 ? nc - 1 : nc;
        msgpack_pack_array (pk, cells);
        for (uint32_t c = 0; c < cells; c++)
            if (defect == CELL_NOT_NUM && s == ns - 1 && c == nc - 1)
                fx_str (pk, "x");
            else
            if (s == ns - 1 && c == nc - 1)
                msgpack_pack_int (pk, 1);
            else
                msgpack_pack_double (pk, (s * nc + c + 1) / 8.0);
    }
    return fx_object (p);
}

static void
test_heatmap (void **state)
{
    (void) state;
    fx_packer_t p;
    msgpack_object ov = s_overview (&p, 3, 2, OK);
    fx_t c;
    fx_open (&c, &s_row);
    assert_int_equal (fx_draw (&c, &ov), 0);
    char *csv = fx_slurp ("fig-heatmap.csv");
    assert_string_equal (csv,
        "class_index,service_index,fraction,class,service\n"
        "0,0,0.125,mirai,telnet\n1,0,0.25,it's,telnet\n2,0,0.375,\"c,2\",telnet\n"
        "0,1,0.5,mirai,http\n1,1,0.625,it's,http\n2,1,1.0,\"c,2\",http\n");
    free (csv);
    const ds_rfig_page_t *page = ds_rfig_page (c.fig);
    assert_true (page->has_data);
    assert_int_equal (page->width, 700);                //  260 + 64 * 3, at least 700
    assert_int_equal (page->height, 420);               //  190 + 34 * 2, at least 420
    assert_non_null (strstr (page->caption, "on the last day (2021-03-08), sources with at least 10 packets"));
    assert_non_null (strstr (c.gp, "set xrange [-0.5:2.5]\nset yrange [1.5:-0.5]\n"));
    assert_non_null (strstr (c.gp, "set xtics rotate by 45 right ('mirai' 0, 'it''s' 1, 'c,2' 2)\n"
                                   "set ytics ('telnet' 0, 'http' 1)\n"));
    assert_non_null (strstr (c.gp, "plot 'fig-heatmap.csv' skip 1 using 1:2:(0.5):(0.5):3 with boxxyerror"));
    fx_close (&c);
    fx_pack_free (&p);

    //  Many classes: wider, up to 3200 pixels.
    ov = s_overview (&p, 60, 3, OK);
    fx_open (&c, &s_row);
    assert_int_equal (fx_draw (&c, &ov), 0);
    assert_int_equal (ds_rfig_page (c.fig)->width, 3200);
    assert_int_equal (ds_rfig_page (c.fig)->height, 420);
    fx_close (&c);
    fx_pack_free (&p);

    //  No class, no service: no figure.
    ov = s_overview (&p, 0, 0, OK);
    fx_open (&c, &s_row);
    assert_int_equal (fx_draw (&c, &ov), 0);
    assert_false (ds_rfig_page (c.fig)->has_data);
    assert_string_equal (ds_rfig_page (c.fig)->nodata,
                         "No data: no filtered source sent packets on the last day (2021-03-08).");
    fx_close (&c);
    fx_pack_free (&p);
}

static void
test_malformed (void **state)
{
    (void) state;
    static const struct { defect_t defect; const char *err; } cases [] = {
        { ROWS_SHORT,      "unexpected result shape: overview.heatmap.fraction has 1 rows for 2 services" },
        { CLASS_NOT_STR,   "unexpected result shape: overview.heatmap.classes[1] is not a string" },
        { SERVICE_NOT_STR, "unexpected result shape: overview.heatmap.services[1] is not a string" },
        { ROW_SHORT,       "unexpected result shape: overview.heatmap.fraction[1] does not have 3 numbers" },
        { CELL_NOT_NUM,    "unexpected result shape: overview.heatmap.fraction[1][2] is not a number" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        fx_packer_t p;
        msgpack_object ov = s_overview (&p, 3, 2, cases [i].defect);
        fx_refused (&s_row, &ov, &p, cases [i].err);
    }
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_heatmap),
        cmocka_unit_test (test_malformed),
    };
    return cmocka_run_group_tests (tests, fx_setup, fx_teardown);
}
