/*  libs: ds_labeler_fixture ds_labeler ds_proto ds_common */
/*  test_reload.c - labeler reloads: the loss check, refusals and forcing
    over the control socket, and the load running off the data thread.

    - ds_reload_check on its own, case by case;
    - a labeler actor whose GT file is rewritten between "reload" requests:
      a header-only file, a file of bad lines, one with fewer than half the
      entries are refused (old tables kept, lookups unchanged, status names
      the reason); half the entries, a forced reload and a reload of tables
      that had nothing to lose are accepted, each a new generation;
      --force-reload (config.force_reload) accepts what would be refused;
    - the GT file replaced by a FIFO: the load blocks in open(2) until the
      test writes it, and meanwhile batches are labelled (old tables) and
      forwarded; once written, the reply comes and new batches carry the
      new class.
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
#include "labeler.h"
#include "reload.h"
#include "ds_proto.h"
#include "labeler_fixture.h"

static char s_dir [64];
static char s_csv [128];

//  A GT CSV naming 10.0.0.0 .. 10.0.0.(n-1) as class_name.
static void
s_write_gt (const char *path, int n, const char *class_name)
{
    char text [16384];
    size_t used = (size_t) snprintf (text, sizeof text, "ip,class\n");
    for (int i = 0; i < n; i++)
        used += (size_t) snprintf (text + used, sizeof text - used, "10.0.0.%d,%s\n", i, class_name);
    fx_write (path, text);
}

static void
test_check (void **state)
{
    (void) state;
    static const struct {
        ds_reload_counts_t now, next;
        bool refused;
        const char *why;
    } cases [] = {
        { { 100, 0, 50 }, { 100, 0, 50 }, false, NULL },
        { { 100, 0, 50 }, { 50, 0, 50 }, false, NULL },        //  half: kept
        { { 100, 0, 50 }, { 49, 3, 50 }, true, "fewer than half" },
        { { 100, 0, 50 }, { 0, 0, 50 }, true, "empty" },
        { { 100, 0, 50 }, { 0, 7, 50 }, true, "7 lines could not be read" },
        { { 0, 0, 50 }, { 0, 0, 50 }, false, NULL },           //  nothing to lose
        { { 1, 0, 50 }, { 0, 0, 50 }, true, "empty" },
        { { 100, 0, 50 }, { 200, 0, 24 }, true, "services table" },
        { { 100, 0, 50 }, { 200, 0, 25 }, false, NULL },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char why [256] = "";
        int rc = ds_reload_check (&cases [i].now, &cases [i].next, why, sizeof why);
        assert_int_equal (rc, cases [i].refused ? -1 : 0);
        if (cases [i].why && !strstr (why, cases [i].why))
            fail_msg ("case %zu: reason '%s' lacks '%s'", i, why, cases [i].why);
    }
}

//  The class of ip, looked up over the control socket.
static bool
s_class_is (zsock_t *req, msgpack_zone *zone, const char *ip, const char *class_name)
{
    const msgpack_object *result;
    char err [512];
    assert_int_equal (fx_ask (req, zone, "lookup", ip, false, &result, err, sizeof err), DS_OK);
    return fx_str_is (ds_mp_get (result, "class"), class_name);
}

//  The status's "tables" map.
static const msgpack_object *
s_tables (zsock_t *req, msgpack_zone *zone)
{
    const msgpack_object *result;
    char err [512];
    assert_int_equal (fx_ask (req, zone, "status", NULL, false, &result, err, sizeof err), DS_OK);
    const msgpack_object *tables = ds_mp_get (result, "tables");
    assert_non_null (tables);
    return tables;
}

static void
test_refusals (void **state)
{
    (void) state;
    s_write_gt (s_csv, 40, "alpha");
    ds_labeler_config_t config;
    fx_labeler_config (&config, s_csv, "inproc://test-reload-no-ingest");
    char data [256], control [256];
    zactor_t *labeler = fx_labeler_start (&config, data, sizeof data, control, sizeof control);
    zsock_t *req = zsock_new_req (control);
    assert_non_null (req);
    msgpack_zone zone;
    msgpack_zone_init (&zone, 4096);
    const msgpack_object *result, *tables, *last;
    char err [512];

    tables = s_tables (req, &zone);
    assert_int_equal (fx_uint (ds_mp_get (tables, "generation")), 1);
    assert_int_equal (fx_uint (ds_mp_get (tables, "gt_entries")), 40);
    assert_int_equal (ds_mp_get (tables, "last_reload")->type, MSGPACK_OBJECT_NIL);

    //  Refused: header only, bad lines only, fewer than half.
    static const struct { const char *text; const char *why; } refused [] = {
        { "ip,class\n", "is empty" },
        { "ip,class\nnot-an-address,alpha\n10.0.0.300,alpha\n", "no usable entry (2 lines" },
        { "ip,class\n10.0.0.1,alpha\n10.0.0.2,beta\n", "fewer than half of the current 40" },
    };
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
        fx_write (s_csv, refused [i].text);
        assert_int_not_equal (fx_ask (req, &zone, "reload", NULL, false, &result, err, sizeof err), DS_OK);
        if (!strstr (err, "reload refused") || !strstr (err, refused [i].why))
            fail_msg ("refusal %zu: '%s' lacks '%s'", i, err, refused [i].why);
        assert_true (s_class_is (req, &zone, "10.0.0.5", "alpha"));      //  old tables kept
        tables = s_tables (req, &zone);
        assert_int_equal (fx_uint (ds_mp_get (tables, "generation")), 1);
        assert_int_equal (fx_uint (ds_mp_get (tables, "reload_refusals")), i + 1);
        last = ds_mp_get (tables, "last_reload");
        assert_true (fx_str_is (ds_mp_get (last, "result"), "refused"));
        const msgpack_object *why = ds_mp_get (last, "error");
        assert_true (why && why->type == MSGPACK_OBJECT_STR
                     && memmem (why->via.str.ptr, why->via.str.size, refused [i].why,
                                strlen (refused [i].why)));
        assert_true (ds_mp_get (last, "at")->type == MSGPACK_OBJECT_STR);
    }
    //  Half the entries: accepted.
    s_write_gt (s_csv, 20, "beta");
    assert_int_equal (fx_ask (req, &zone, "reload", NULL, false, &result, err, sizeof err), DS_OK);
    assert_int_equal (fx_uint (ds_mp_get (result, "generation")), 2);
    assert_true (s_class_is (req, &zone, "10.0.0.5", "beta"));
    tables = s_tables (req, &zone);
    assert_int_equal (fx_uint (ds_mp_get (tables, "gt_entries")), 20);
    last = ds_mp_get (tables, "last_reload");
    assert_true (fx_str_is (ds_mp_get (last, "result"), "ok"));
    assert_int_equal (ds_mp_get (last, "error")->type, MSGPACK_OBJECT_NIL);
    //  Forced: the header-only file is accepted, every source unknown.
    fx_write (s_csv, "ip,class\n");
    assert_int_equal (fx_ask (req, &zone, "reload", NULL, true, &result, err, sizeof err), DS_OK);
    assert_int_equal (fx_uint (ds_mp_get (result, "generation")), 3);
    assert_true (ds_mp_get (result, "forced")->via.boolean);
    assert_true (s_class_is (req, &zone, "10.0.0.5", "unknown"));
    //  Nothing left to lose: the same empty file again is no loss.
    assert_int_equal (fx_ask (req, &zone, "reload", NULL, false, &result, err, sizeof err), DS_OK);
    assert_int_equal (fx_uint (ds_mp_get (result, "generation")), 4);
    //  A pipe RELOAD answers on the pipe.
    s_write_gt (s_csv, 30, "gamma");
    zstr_send (labeler, "RELOAD");
    assert_true (fx_wait_readable (zactor_sock (labeler), FX_TIMEOUT_MS));
    char *answer = zstr_recv (labeler);
    assert_string_equal (answer, "RELOAD ok");
    zstr_free (&answer);
    fx_write (s_csv, "ip,class\n");
    zstr_send (labeler, "RELOAD");
    assert_true (fx_wait_readable (zactor_sock (labeler), FX_TIMEOUT_MS));
    answer = zstr_recv (labeler);
    assert_non_null (strstr (answer, "RELOAD refused: the new ground truth is empty"));
    zstr_free (&answer);
    assert_true (s_class_is (req, &zone, "10.0.0.5", "gamma"));
    zsock_destroy (&req);
    zactor_destroy (&labeler);

    //  --force-reload: every reload is accepted.
    s_write_gt (s_csv, 40, "alpha");
    config.force_reload = true;
    labeler = fx_labeler_start (&config, data, sizeof data, control, sizeof control);
    req = zsock_new_req (control);
    fx_write (s_csv, "ip,class\n");
    assert_int_equal (fx_ask (req, &zone, "reload", NULL, false, &result, err, sizeof err), DS_OK);
    assert_true (ds_mp_get (result, "forced")->via.boolean);
    assert_true (s_class_is (req, &zone, "10.0.0.5", "unknown"));
    tables = s_tables (req, &zone);
    assert_true (ds_mp_get (tables, "force_reload")->via.boolean);
    zsock_destroy (&req);
    zactor_destroy (&labeler);
    msgpack_zone_destroy (&zone);
}

//  Publishes one batch of one record from 10.0.0.5 (seq) on pkt.0000.
static void
s_publish (zsock_t *pub, uint64_t seq)
{
    ds_batch_t *batch = ds_batch_new (1);
    batch->sensor = 1;
    batch->seq = seq;
    ds_record_t rec = { .ts = (int64_t) seq, .port = 23, .proto = DS_PROTO_TCP };
    assert_int_equal (ds_addr_parse (&rec.src, "10.0.0.5"), 0);
    assert_true (ds_batch_add (batch, &rec));
    msgpack_sbuffer buf;
    msgpack_sbuffer_init (&buf);
    assert_int_equal (ds_batch_encode (batch, &buf), DS_OK);
    assert_true (zmq_send (zsock_resolve (pub), "pkt.0000", 8, ZMQ_SNDMORE) >= 0);
    assert_true (zmq_send (zsock_resolve (pub), buf.data, buf.size, 0) >= 0);
    msgpack_sbuffer_destroy (&buf);
    ds_batch_destroy (&batch);
}

//  Receives one labelled batch and returns its record's class (static).
static const char *
s_receive_class (zsock_t *sub, ds_batch_t *batch)
{
    static char class_name [DS_NAME_MAX];
    assert_true (fx_wait_readable (sub, FX_TIMEOUT_MS));
    zmsg_t *msg = zmsg_recv (sub);
    assert_int_equal (zmsg_size (msg), 2);
    zframe_t *body = zmsg_last (msg);
    assert_int_equal (ds_batch_decode (zframe_data (body), zframe_size (body), batch), DS_OK);
    assert_int_equal (batch->count, 1);
    snprintf (class_name, sizeof class_name, "%s", batch->class_names [batch->class_id [0]]);
    zmsg_destroy (&msg);
    return class_name;
}

static void
test_load_off_thread (void **state)
{
    (void) state;
    s_write_gt (s_csv, 10, "alpha");
    zsock_t *pub = fx_ingest_pub ();
    ds_labeler_config_t config;
    fx_labeler_config (&config, s_csv, zsock_endpoint (pub));
    char data [256], control [256];
    zactor_t *labeler = fx_labeler_start (&config, data, sizeof data, control, sizeof control);
    zsock_t *sub = zsock_new_sub (data, "lab.0000");    //  shard 0's own topic
    zsock_t *req = zsock_new_req (control);
    fx_wait_subscribed (pub);
    ds_batch_t *batch = ds_batch_new (1);
    s_publish (pub, 0);
    assert_string_equal (s_receive_class (sub, batch), "alpha");

    //  The GT file becomes a FIFO: the load blocks until it is written.
    char fifo [160];
    snprintf (fifo, sizeof fifo, "%s/fifo", s_dir);
    assert_int_equal (mkfifo (fifo, 0600), 0);
    assert_int_equal (rename (fifo, s_csv), 0);
    fx_send (req, "reload", NULL, false);
    //  Meanwhile batches are labelled (old tables) and forwarded.
    for (uint64_t seq = 1; seq <= 3; seq++) {
        s_publish (pub, seq);
        assert_string_equal (s_receive_class (sub, batch), "alpha");
    }
    assert_false (fx_wait_readable (req, 0));                     //  still loading
    FILE *writer = fopen (s_csv, "w");                          //  the loader is its reader
    assert_non_null (writer);
    fputs ("ip,class\n", writer);
    for (int i = 0; i < 10; i++)
        fprintf (writer, "10.0.0.%d,beta\n", i);
    fclose (writer);
    msgpack_zone zone;
    msgpack_zone_init (&zone, 4096);
    const msgpack_object *result;
    char err [512];
    assert_int_equal (fx_recv (req, &zone, &result, err, sizeof err), DS_OK);
    assert_int_equal (fx_uint (ds_mp_get (result, "generation")), 2);
    s_publish (pub, 4);
    assert_string_equal (s_receive_class (sub, batch), "beta");

    msgpack_zone_destroy (&zone);
    ds_batch_destroy (&batch);
    zsock_destroy (&req);
    zsock_destroy (&sub);
    zactor_destroy (&labeler);
    zsock_destroy (&pub);
    unlink (s_csv);
}

static int
s_setup (void **state)
{
    (void) state;
    assert_int_equal (fx_scratch_make (s_dir, sizeof s_dir, "test_reload"), 0);
    snprintf (s_csv, sizeof s_csv, "%s/gt.csv", s_dir);
    return 0;
}

static int
s_teardown (void **state)
{
    (void) state;
    return fx_scratch_remove (s_dir);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_check),
        cmocka_unit_test (test_refusals),
        cmocka_unit_test (test_load_off_thread),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
