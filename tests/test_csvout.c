/*  libs: ds_ingest ds_proto ds_common */
/*  test_csvout.c - DarkVec's intermediate CSV writer: the exact text of
    every kind of record (IPv4, IPv6, no port, before 1970, the per-second
    timestamp cache across seconds), the extra columns, a file that cannot
    be created, and a full disk reported once at close. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "scratch_fixture.h"
#include "csvout.h"
#include "log.h"

static char s_dir [64];

static int
setup (void **state)
{
    (void) state;
    assert_int_equal (fx_scratch_make (s_dir, sizeof s_dir, "ds_test_csvout"), 0);
    ds_log_init ("test_csvout");
    ds_log_set_quiet (true);
    return 0;
}

static int
teardown (void **state)
{
    (void) state;
    return fx_scratch_remove (s_dir);
}

static void
record (ds_record_t *rec, int64_t ts, const char *ip, int32_t port, int proto, int flags)
{
    memset (rec, 0, sizeof *rec);
    rec->ts = ts;
    assert_int_equal (ds_addr_parse (&rec->src, ip), 0);
    rec->port = port;
    rec->proto = (uint8_t) proto;
    rec->flags = (uint8_t) flags;
}

static const char *
slurp (const char *path)
{
    static char text [4096];
    FILE *f = fopen (path, "r");
    assert_non_null (f);
    size_t n = fread (text, 1, sizeof text - 1, f);
    text [n] = 0;
    fclose (f);
    return text;
}

//  The records every case writes: same second twice, the next second,
//  a second before 1970 (floor, not truncation), IPv6, no port.
static int
write_records (ds_csvout_t *csv)
{
    ds_record_t recs [6];
    record (&recs [0], 1614643200000001LL, "198.51.100.7", 23, DS_PROTO_TCP, DS_FLAG_MIRAI);
    record (&recs [1], 1614643200999999LL, "198.51.100.8", 2323, DS_PROTO_TCP, 0);
    record (&recs [2], 1614643201000000LL, "2001:db8::1", 53, DS_PROTO_UDP, 0);
    record (&recs [3], 1614643201500000LL, "203.0.113.9", DS_PORT_NONE, DS_PROTO_ICMP, 0);
    record (&recs [4], -1, "192.0.2.1", 445, DS_PROTO_OTH, DS_FLAG_ZMAP);
    record (&recs [5], 1614643201500001LL, "10.1.2.3", DS_PORT_NONE, DS_PROTO_GRE, 0);
    for (int i = 0; i < 6; i++)
        if (ds_csvout_write (csv, &recs [i]))
            return -1;
    return 0;
}

static void
test_text (void **state)
{
    (void) state;
    char path [128];
    snprintf (path, sizeof path, "%s/plain.csv", s_dir);
    ds_csvout_t *csv = ds_csvout_new (path, false, NULL);
    assert_non_null (csv);
    assert_int_equal (write_records (csv), 0);
    assert_int_equal (ds_csvout_records (csv), 6);
    assert_int_equal (ds_csvout_close (csv), 0);
    assert_int_equal (ds_csvout_close (csv), 0);        //  closing twice is harmless
    ds_csvout_destroy (&csv);
    assert_null (csv);
    ds_csvout_destroy (&csv);
    assert_string_equal (slurp (path),
        "ts,ip,port,proto,pp\n"
        "2021-03-02 00:00:00.000001,198.51.100.7,23,TCP,23/TCP\n"
        "2021-03-02 00:00:00.999999,198.51.100.8,2323,TCP,2323/TCP\n"
        "2021-03-02 00:00:01.000000,2001:db8::1,53,UDP,53/UDP\n"
        "2021-03-02 00:00:01.500000,203.0.113.9,-,ICMP,-/ICMP\n"
        "1969-12-31 23:59:59.999999,192.0.2.1,445,OTH,445/OTH\n"
        "2021-03-02 00:00:01.500001,10.1.2.3,-,GRE,-/GRE\n");
}

static void
test_extra_columns (void **state)
{
    (void) state;
    char path [128];
    snprintf (path, sizeof path, "%s/extra.csv", s_dir);
    ds_csvout_t *csv = ds_csvout_new (path, true, NULL);
    assert_non_null (csv);
    assert_int_equal (write_records (csv), 0);
    assert_int_equal (ds_csvout_flush (csv), 0);
    ds_csvout_destroy (&csv);                           //  closes too
    assert_string_equal (slurp (path),
        "ts,ip,port,proto,pp,mirai,ts_us\n"
        "2021-03-02 00:00:00.000001,198.51.100.7,23,TCP,23/TCP,1,1614643200000001\n"
        "2021-03-02 00:00:00.999999,198.51.100.8,2323,TCP,2323/TCP,0,1614643200999999\n"
        "2021-03-02 00:00:01.000000,2001:db8::1,53,UDP,53/UDP,0,1614643201000000\n"
        "2021-03-02 00:00:01.500000,203.0.113.9,-,ICMP,-/ICMP,0,1614643201500000\n"
        "1969-12-31 23:59:59.999999,192.0.2.1,445,OTH,445/OTH,0,-1\n"
        "2021-03-02 00:00:01.500001,10.1.2.3,-,GRE,-/GRE,0,1614643201500001\n");
}

static void
test_errors (void **state)
{
    (void) state;
    char path [128];
    snprintf (path, sizeof path, "%s/no/such/dir/x.csv", s_dir);
    assert_null (ds_csvout_new (path, false, NULL));
    //  A full disk: the lines sit in the buffer, so close reports it.
    assert_int_equal (access ("/dev/full", W_OK), 0);
    ds_csvout_t *csv = ds_csvout_new ("/dev/full", false, NULL);
    assert_non_null (csv);
    assert_int_equal (write_records (csv), 0);
    assert_int_equal (ds_csvout_close (csv), -1);
    assert_int_equal (ds_csvout_close (csv), -1);       //  stays failed
    ds_csvout_destroy (&csv);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_text),
        cmocka_unit_test (test_extra_columns),
        cmocka_unit_test (test_errors),
    };
    return cmocka_run_group_tests (tests, setup, teardown);
}
