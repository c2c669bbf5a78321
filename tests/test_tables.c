/*  libs: ds_labeler ds_proto ds_common */
/*  test_tables.c - a labeler's tables lent to a labelling thread: batches
    labelled as ds_labeler_label would, none once the tables are withdrawn,
    swaps while another thread labels (under ASan: a table freed while in
    use would be a use after free; every batch carries one table set), and
    a labeler actor without a data path (`darkscope run`) that lends its
    tables at start, swaps in a reload's and withdraws them when it stops.
*/
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
#include "scratch_fixture.h"
#include "labeler.h"
#include "tables.h"
#include "log.h"

static char s_dir [256];
static char s_gt [2][512];

static int
s_setup (void **state)
{
    (void) state;
    ds_log_set_quiet (true);
    assert_int_equal (fx_scratch_make (s_dir, sizeof s_dir, "test_tables"), 0);
    //  Two table sets: 10.0.0.1 is "alpha" in one and "beta" in the other.
    const char *text [2] = { "ip,class\n10.0.0.1,alpha\n10.0.0.2,gamma\n",
                             "ip,class\n10.0.0.1,beta\n10.0.0.2,gamma\n" };
    for (int i = 0; i < 2; i++) {
        snprintf (s_gt [i], sizeof s_gt [i], "%s/gt%d.csv", s_dir, i);
        FILE *file = fopen (s_gt [i], "w");
        assert_non_null (file);
        fputs (text [i], file);
        fclose (file);
    }
    return 0;
}

static int
s_teardown (void **state)
{
    (void) state;
    return fx_scratch_remove (s_dir);
}

static void
s_load (int which, ds_gt_t **gt, ds_services_t **services)
{
    ds_labeler_config_t config;
    ds_labeler_config_init (&config);
    config.gt.items [0] = s_gt [which];
    config.gt.count = 1;
    char err [512];
    assert_int_equal (ds_labeler_load_tables (&config, gt, services, err, sizeof err), 0);
}

//  A batch of n records: 10.0.0.1, 10.0.0.2, 10.0.0.3, ... to TCP/23.
static ds_batch_t *
s_batch (uint32_t n)
{
    ds_batch_t *batch = ds_batch_new (n);
    assert_non_null (batch);
    for (uint32_t i = 0; i < n; i++) {
        ds_record_t rec = { .ts = 1600000000000000LL, .port = 23, .proto = 6 };
        const uint8_t v4 [4] = { 10, 0, 0, (uint8_t) (1 + i % 3) };
        ds_addr_from_v4 (&rec.src, v4);
        assert_true (ds_batch_add (batch, &rec));
    }
    return batch;
}

static const char *
s_class (const ds_batch_t *batch, uint32_t i)
{
    return batch->class_names [batch->class_id [i]];
}

static void
test_label (void **state)
{
    (void) state;
    ds_gt_t *gt;
    ds_services_t *services;
    s_load (0, &gt, &services);
    ds_tables_t *tables = ds_tables_new ();
    assert_non_null (tables);
    ds_batch_t *batch = s_batch (6);
    assert_int_equal (ds_tables_label (tables, batch), -1);     //  none lent yet
    ds_tables_set (tables, gt, services);
    assert_int_equal (ds_tables_label (tables, batch), 0);
    assert_true (batch->labelled);
    //  The same as the labeler's own labelling.
    ds_batch_t *same = s_batch (6);
    uint8_t matched [6];
    assert_int_equal (ds_labeler_label (same, gt, services, matched), 0);
    for (uint32_t i = 0; i < 6; i++) {
        assert_string_equal (s_class (batch, i), s_class (same, i));
        assert_int_equal (batch->service_id [i], same->service_id [i]);
        assert_int_equal (batch->flags [i], same->flags [i]);
    }
    assert_string_equal (s_class (batch, 0), "alpha");
    assert_string_equal (s_class (batch, 1), "gamma");
    assert_true (batch->flags [0] & DS_FLAG_GT);
    assert_false (batch->flags [2] & DS_FLAG_GT);
    //  Withdrawn (the labeler stopped): no labelling, an error.
    ds_tables_set (tables, NULL, NULL);
    ds_batch_reset (batch);
    ds_batch_destroy (&batch);
    batch = s_batch (3);
    assert_int_equal (ds_tables_label (tables, batch), -1);
    ds_batch_destroy (&batch);
    ds_batch_destroy (&same);
    ds_tables_destroy (&tables);
    ds_tables_destroy (&tables);                    //  NULL-safe
    ds_gt_destroy (&gt);
    ds_services_destroy (&services);
}

typedef struct {
    ds_tables_t *tables;
    volatile int stop;
    uint64_t batches, mixed;
} s_worker_t;

//  Labels batches until told to stop; counts any batch whose records saw
//  two table sets.
static void *
s_labelling (void *arg)
{
    s_worker_t *w = arg;
    ds_batch_t *batch = s_batch (4096);
    while (!__atomic_load_n (&w->stop, __ATOMIC_ACQUIRE)) {
        assert_int_equal (ds_tables_label (w->tables, batch), 0);
        const char *first = s_class (batch, 0);
        for (uint32_t i = 3; i < batch->count; i += 3)
            if (strcmp (s_class (batch, i), first) != 0)
                w->mixed++;
        __atomic_add_fetch (&w->batches, 1, __ATOMIC_RELEASE);
    }
    ds_batch_destroy (&batch);
    return NULL;
}

static void
test_swap_while_labelling (void **state)
{
    (void) state;
    ds_gt_t *gt;
    ds_services_t *services;
    s_load (0, &gt, &services);
    s_worker_t w = { .tables = ds_tables_new () };
    assert_non_null (w.tables);
    ds_tables_set (w.tables, gt, services);
    pthread_t thread;
    assert_int_equal (pthread_create (&thread, NULL, s_labelling, &w), 0);
    for (int i = 1; i <= 200; i++) {
        ds_gt_t *next_gt;
        ds_services_t *next_services;
        s_load (i % 2, &next_gt, &next_services);
        ds_tables_set (w.tables, next_gt, next_services);
        ds_gt_destroy (&gt);                        //  the old ones, freed at once
        ds_services_destroy (&services);
        gt = next_gt;
        services = next_services;
    }
    while (__atomic_load_n (&w.batches, __ATOMIC_ACQUIRE) < 2)   //  a slow start
        usleep (1000);
    __atomic_store_n (&w.stop, 1, __ATOMIC_RELEASE);
    pthread_join (thread, NULL);
    assert_true (w.batches > 0);
    assert_int_equal (w.mixed, 0);
    ds_tables_set (w.tables, NULL, NULL);
    ds_tables_destroy (&w.tables);
    ds_gt_destroy (&gt);
    ds_services_destroy (&services);
}

static void
test_labeler_lends (void **state)
{
    (void) state;
    char path [600];
    snprintf (path, sizeof path, "%s/reloaded.csv", s_dir);
    FILE *file = fopen (path, "w");
    assert_non_null (file);
    fputs ("ip,class\n10.0.0.1,alpha\n", file);
    fclose (file);
    ds_tables_t *tables = ds_tables_new ();
    assert_non_null (tables);
    ds_labeler_config_t config;
    ds_labeler_config_init (&config);
    config.gt.items [0] = path;
    config.gt.count = 1;
    config.control = "inproc://test-tables-control";
    config.tables = tables;
    zactor_t *labeler = zactor_new (ds_labeler_actor, &config);
    assert_non_null (labeler);
    char data [256], control [256];
    //  Started with its control socket and no data endpoint.
    assert_int_equal (ds_labeler_endpoints (labeler, data, sizeof data, control, sizeof control), 0);
    assert_string_equal (data, "");
    assert_string_equal (control, "inproc://test-tables-control");
    ds_batch_t *batch = s_batch (3);
    assert_int_equal (ds_tables_label (tables, batch), 0);
    assert_string_equal (s_class (batch, 0), "alpha");
    //  A reload's tables are lent as soon as it reports.
    file = fopen (path, "w");
    assert_non_null (file);
    fputs ("ip,class\n10.0.0.1,beta\n", file);
    fclose (file);
    zstr_send (labeler, "RELOAD FORCE");
    char *answer = zstr_recv (labeler);
    assert_non_null (answer);
    assert_string_equal (answer, "RELOAD ok");
    zstr_free (&answer);
    ds_batch_reset (batch);
    ds_batch_destroy (&batch);
    batch = s_batch (3);
    assert_int_equal (ds_tables_label (tables, batch), 0);
    assert_string_equal (s_class (batch, 0), "beta");
    //  Stopped: withdrawn before they are freed.
    zactor_destroy (&labeler);
    ds_batch_destroy (&batch);
    batch = s_batch (3);
    assert_int_equal (ds_tables_label (tables, batch), -1);
    ds_batch_destroy (&batch);
    ds_tables_destroy (&tables);
    unlink (path);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_label),
        cmocka_unit_test (test_swap_while_labelling),
        cmocka_unit_test (test_labeler_lends),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
