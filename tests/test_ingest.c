/*  libs: ds_ingest ds_proto ds_common */
/*  test_ingest.c - the ingest unit beyond the parser: DarkVec logs (both
    layouts, bad lines), CSV output and its write errors, nanosecond and
    NULL-link captures, unsupported link types, and the czmq actor (DONE,
    $TERM during the wait for subscribers). */
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
#include <czmq.h>
#include <pcap/pcap.h>
#include <zlib.h>
#include "ingest.h"
#include "darkvec.h"
#include "ds_proto.h"
#include "log.h"
#include "tz.h"

static char s_dir [256];
static const ds_tz_t *s_zone;       //  of CSV timestamps (NULL: UTC)

static int
setup (void **state)
{
    (void) state;
    assert_int_equal (fx_scratch_make (s_dir, sizeof s_dir, "ds_test_ingest"), 0);
    ds_log_init ("test_ingest");
    ds_log_set_quiet (true);
    return 0;
}

static int
teardown (void **state)
{
    (void) state;
    return fx_scratch_remove (s_dir);
}

static const char *
path_in_dir (const char *name, char *buf, size_t size)
{
    snprintf (buf, size, "%s/%s", s_dir, name);
    return buf;
}

static void
write_text (const char *path, const char *text, bool gz)
{
    if (gz) {
        gzFile f = gzopen (path, "wb");
        assert_non_null (f);
        gzputs (f, text);
        gzclose (f);
        return;
    }
    FILE *f = fopen (path, "w");
    assert_non_null (f);
    fputs (text, f);
    fclose (f);
}

//  Runs ingest with CSV output of input (a pcap or a log) into out;
//  returns ds_ingest_run's result.
static int
run_csv (const char *input, bool is_log, const char *out, bool extra, ds_ingest_stats_t *stats)
{
    ds_ingest_config_t cfg;
    ds_ingest_config_init (&cfg);
    const char *inputs [1] = { input };
    if (is_log) { cfg.logs = inputs; cfg.n_logs = 1; }
    else        { cfg.pcaps = inputs; cfg.n_pcaps = 1; }
    cfg.output = DS_INGEST_CSV;
    cfg.out = out;
    cfg.csv_extra = extra;
    cfg.progress = false;
    cfg.tz = s_zone;
    return ds_ingest_run (&cfg, stats);
}

static char *
slurp (const char *path)
{
    FILE *f = fopen (path, "r");
    assert_non_null (f);
    static char buf [65536];
    size_t n = fread (buf, 1, sizeof buf - 1, f);
    buf [n] = 0;
    fclose (f);
    return buf;
}

static void
test_parse_ts (void **state)
{
    (void) state;
    static const struct { const char *text; int64_t us; int rc; } cases [] = {
        { "1619827200.2047381", 1619827200204738, 0 },     //  truncated, not rounded
        { "1619827200.9999999", 1619827200999999, 0 },
        { "1619827200", 1619827200000000, 0 },
        { "1619827200.5", 1619827200500000, 0 },
        { "1619827200.", 1619827200000000, 0 },
        { "0.000001", 1, 0 },
        { "", 0, -1 }, { ".5", 0, -1 }, { "-1", 0, -1 }, { "1e9", 0, -1 },
        { "1.2.3", 0, -1 }, { "12 ", 0, -1 }, { "9999999999999", 0, -1 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        int64_t us = 0;
        int rc = ds_darkvec_parse_ts (cases [i].text, strlen (cases [i].text), &us);
        assert_int_equal (rc, cases [i].rc);
        if (rc == 0)
            assert_int_equal (us, cases [i].us);
    }
}

//  The raw packets.log layout: blanks between fields, columns by name (here
//  in an order unlike DarkVec's), bad lines reported and skipped.
static void
test_darkvec_raw_log (void **state)
{
    (void) state;
    char log [300], out [300];
    path_in_dir ("packets.log.gz", log, sizeof log);
    path_in_dir ("raw.csv", out, sizeof out);
    write_text (log,
        "proto  dst_port ts src_ip extra\n"
        "6 23 1619827200.1234567 192.0.2.1 x\n"
        "17\t53\t1619827201.5 2001:db8::1 y\n"
        "1 8 1619827202 src_ipaddr7 z\n"              //  ICMP: the port is not kept
        "6 - 1619827203 192.0.2.1 x\n"                //  TCP with "-" (a fragment)
        "132 2905 1619827204.000001 192.0.2.9 x\n"    //  SCTP keeps its port
        "6 23 16198x7200 192.0.2.1 x\n"                //  bad ts
        "300 23 1619827200 192.0.2.1 x\n"              //  bad proto
        "6 70000 1619827200 192.0.2.1 x\n"             //  bad port
        "6 23 1619827200 192.0.2.1\n"                  //  a field missing
        "\n"                                           //  blank line
        "47 - 1619827205.25 192.0.2.2 x\r\n", true);
    ds_ingest_stats_t stats;
    assert_int_equal (run_csv (log, true, out, true, &stats), 0);
    //  The token maps through the shared function (record.h).
    ds_addr_t a;
    char token [64], want [1024];
    ds_addr_from_token (&a, "src_ipaddr7", 11);
    ds_addr_format (&a, token, sizeof token);
    assert_int_equal (strncmp (token, "100::", 5), 0);
    snprintf (want, sizeof want,
        "ts,ip,port,proto,pp,mirai,ts_us\n"
        "2021-05-01 00:00:00.123456,192.0.2.1,23,TCP,23/TCP,0,1619827200123456\n"
        "2021-05-01 00:00:01.500000,2001:db8::1,53,UDP,53/UDP,0,1619827201500000\n"
        "2021-05-01 00:00:02.000000,%s,-,ICMP,-/ICMP,0,1619827202000000\n"
        "2021-05-01 00:00:03.000000,192.0.2.1,-,TCP,-/TCP,0,1619827203000000\n"
        "2021-05-01 00:00:04.000001,192.0.2.9,2905,OTH,2905/OTH,0,1619827204000001\n"
        "2021-05-01 00:00:05.250000,192.0.2.2,-,GRE,-/GRE,0,1619827205250000\n", token);
    assert_string_equal (slurp (out), want);
    assert_int_equal (stats.packets_read, 11);
    assert_int_equal (stats.records, 6);
    assert_int_equal (stats.bad_lines, 5);
    assert_int_equal (stats.malformed, 5);
}

//  The 17-column comma layout of DarkVec's samples, with the index column
//  and the mirai column; --tz moves the timestamps.
static void
test_darkvec_csv_log (void **state)
{
    (void) state;
    char log [300], out [300];
    path_in_dir ("darknet.csv", log, sizeof log);
    path_in_dir ("dv.csv", out, sizeof out);
    write_text (log,
        "0,ts,ethtype,src_ip,src_port,dst_ip,dst_port,proto,pck_len,tcp_flags,mirai,tcp_seq,ttl,t_mss,t_win,t_ts,t_sack,t_sackp\n"
        "2021-05-01 00:00:00.1,1619827200.160742,2048,src_ipaddr0,57340,dst_ipaddr0,23,6,60,2,1,1,243,-,-,-,-,-\n"
        "2021-05-01 00:00:00.2,1619827200.2047381,2048,src_ipaddr1,57026,dst_ipaddr1,3702,17,60,-,-,-,235,-,-,-,-,-\n"
        "2021-05-01 00:00:00.3,1619827200.3,2048,src_ipaddr1,57026,dst_ipaddr1,23,6,60,2,7,1,235,-,-,-,-,-\n", false);
    ds_tz_t *rome = ds_tz_load ("Europe/Rome", NULL, 0);
    assert_non_null (rome);
    s_zone = rome;
    ds_ingest_stats_t stats;
    assert_int_equal (run_csv (log, true, out, true, &stats), 0);
    s_zone = NULL;
    ds_tz_destroy (&rome);
    char *csv = slurp (out);
    assert_non_null (strstr (csv, "2021-05-01 02:00:00.160742,"));
    assert_non_null (strstr (csv, ",23,TCP,23/TCP,1,1619827200160742\n"));
    assert_non_null (strstr (csv, ",3702,UDP,3702/UDP,0,1619827200204738\n"));
    assert_int_equal (stats.records, 2);
    assert_int_equal (stats.bad_lines, 1);      //  mirai "7"
    //  A header without a needed column is refused at open, naming it.
    write_text (log, "ts,src,dst_port,proto\n1,a,2,6\n", false);
    char err [256] = "";
    ds_darkvec_t *reader = ds_darkvec_open (log, err, sizeof err);
    assert_null (reader);
    assert_non_null (strstr (err, "src_ip"));
    assert_int_equal (run_csv (log, true, out, false, NULL), -1);
    write_text (log, "", false);
    assert_null (ds_darkvec_open (log, err, sizeof err));
}

typedef struct {
    int64_t ts_unit;                //  seconds, sub-second in the pcap's unit
    uint8_t bytes [80];
    uint32_t len;
} pkt_t;

static void
write_pcap (const char *path, int dlt, u_int precision, const pkt_t *pkts, size_t n)
{
    pcap_t *dead = pcap_open_dead_with_tstamp_precision (dlt, 65535, precision);
    assert_non_null (dead);
    pcap_dumper_t *dump = pcap_dump_open (dead, path);
    assert_non_null (dump);
    for (size_t i = 0; i < n; i++) {
        struct pcap_pkthdr hdr = { .caplen = pkts [i].len, .len = pkts [i].len };
        hdr.ts.tv_sec = 1600000000;
        hdr.ts.tv_usec = (suseconds_t) pkts [i].ts_unit;
        pcap_dump ((u_char *) dump, &hdr, pkts [i].bytes);
    }
    pcap_dump_close (dump);
    pcap_close (dead);
}

static const uint8_t s_ipv4_udp [28] = {
    0x45, 0, 0, 28, 0, 1, 0, 0, 64, 17, 0, 0, 203, 0, 113, 5, 10, 0, 0, 1,
    0x13, 0x88, 0x00, 0x35, 0, 8, 0, 0
};

//  Nanosecond captures are read at microseconds, truncated; the NULL link
//  works end to end and is counted per link type.
static void
test_nanosecond_null_capture (void **state)
{
    (void) state;
    pkt_t pkts [3];
    memset (pkts, 0, sizeof pkts);
    for (int i = 0; i < 3; i++) {
        pkts [i].bytes [0] = 2;                    //  AF_INET, little-endian writer
        memcpy (pkts [i].bytes + 4, s_ipv4_udp, sizeof s_ipv4_udp);
        pkts [i].len = 4 + sizeof s_ipv4_udp;
    }
    pkts [0].ts_unit = 999999999;
    pkts [1].ts_unit = 1000;
    pkts [2].len = 10;                              //  truncated IP header
    char pcap [300], out [300];
    path_in_dir ("nano.pcap", pcap, sizeof pcap);
    path_in_dir ("nano.csv", out, sizeof out);
    write_pcap (pcap, DLT_NULL, PCAP_TSTAMP_PRECISION_NANO, pkts, 3);
    ds_ingest_stats_t stats;
    assert_int_equal (run_csv (pcap, false, out, true, &stats), 0);
    assert_string_equal (slurp (out),
        "ts,ip,port,proto,pp,mirai,ts_us\n"
        "2020-09-13 12:26:40.999999,203.0.113.5,53,UDP,53/UDP,0,1600000000999999\n"
        "2020-09-13 12:26:40.000001,203.0.113.5,53,UDP,53/UDP,0,1600000000000001\n");
    assert_int_equal (stats.packets_read, 3);
    assert_int_equal (stats.malformed, 1);
    assert_int_equal (stats.link [ds_link_index (DLT_NULL)], 3);
}

static void
test_unsupported_link_and_bad_files (void **state)
{
    (void) state;
    pkt_t pkt = { .len = 20 };
    char pcap [300], out [300];
    path_in_dir ("wifi.pcap", pcap, sizeof pcap);
    path_in_dir ("wifi.csv", out, sizeof out);
    write_pcap (pcap, DLT_IEEE802_11, PCAP_TSTAMP_PRECISION_MICRO, &pkt, 1);
    char err [512] = "";
    ds_source_t *source = ds_source_open_file (pcap, err, sizeof err);
    assert_null (source);
    assert_non_null (strstr (err, "unsupported link type 105"));
    assert_non_null (strstr (err, "IEEE802_11"));
    assert_int_equal (run_csv (pcap, false, out, false, NULL), -1);
    //  Not a capture at all; a file that does not exist.
    path_in_dir ("text.pcap", pcap, sizeof pcap);
    write_text (pcap, "hello\n", false);
    assert_null (ds_source_open_file (pcap, err, sizeof err));
    assert_non_null (strstr (err, "text.pcap"));
    assert_int_equal (run_csv ("/nonexistent/x*.pcap", false, out, false, NULL), -1);
}

//  A full disk is an error naming the file, never a silent truncation.
static void
test_csv_write_error (void **state)
{
    (void) state;
    if (access ("/dev/full", W_OK) != 0) {
        skip ();
        return;
    }
    pkt_t pkts [64];
    memset (pkts, 0, sizeof pkts);
    for (int i = 0; i < 64; i++) {
        memcpy (pkts [i].bytes, s_ipv4_udp, sizeof s_ipv4_udp);
        pkts [i].len = sizeof s_ipv4_udp;
    }
    char pcap [300];
    path_in_dir ("raw.pcap", pcap, sizeof pcap);
    write_pcap (pcap, DLT_RAW, PCAP_TSTAMP_PRECISION_MICRO, pkts, 64);
    assert_int_equal (run_csv (pcap, false, "/dev/full", false, NULL), -1);
    char out [300];
    path_in_dir ("raw.csv", out, sizeof out);
    ds_ingest_stats_t stats;
    assert_int_equal (run_csv (pcap, false, out, false, &stats), 0);
    assert_int_equal (stats.records, 64);
    assert_int_equal (stats.link [ds_link_index (DLT_RAW)], 64);
    //  A capture cut inside its last frame: that frame is one malformed
    //  frame, everything before it is read, the run succeeds.
    struct stat st;
    assert_int_equal (stat (pcap, &st), 0);
    assert_int_equal (truncate (pcap, st.st_size - 5), 0);
    assert_int_equal (run_csv (pcap, false, out, false, &stats), 0);
    assert_int_equal (stats.packets_read, 64);
    assert_int_equal (stats.records, 63);
    assert_int_equal (stats.malformed, 1);
}

//  The actor: binds, signals, waits for subscribers, publishes, sends
//  "DONE"; and $TERM interrupts it while it waits for a subscriber.
static void
test_actor (void **state)
{
    (void) state;
    pkt_t pkts [10];
    memset (pkts, 0, sizeof pkts);
    for (int i = 0; i < 10; i++) {
        memcpy (pkts [i].bytes, s_ipv4_udp, sizeof s_ipv4_udp);
        pkts [i].bytes [15] = (uint8_t) i;      //  ten sources
        pkts [i].len = sizeof s_ipv4_udp;
    }
    char pcap [300], endpoint [256];
    path_in_dir ("actor.pcap", pcap, sizeof pcap);
    write_pcap (pcap, DLT_RAW, PCAP_TSTAMP_PRECISION_MICRO, pkts, 10);
    const char *inputs [1] = { pcap };
    ds_ingest_config_t cfg;
    ds_ingest_config_init (&cfg);
    cfg.pcaps = inputs;
    cfg.n_pcaps = 1;
    cfg.shards = 2;
    cfg.sensor = 7;
    cfg.endpoint = "tcp://127.0.0.1:*";      //  the port it got comes back in bound
    cfg.bound = endpoint;
    cfg.bound_size = sizeof endpoint;
    cfg.wait_s = 20;
    cfg.progress = false;
    zactor_t *actor = zactor_new (ds_ingest_actor, &cfg);
    assert_non_null (actor);
    zsock_t *sub = zsock_new_sub (endpoint, "pkt.");
    assert_non_null (sub);
    zsock_set_rcvtimeo (sub, 10000);
    uint64_t records = 0;
    int eos = 0, stats [2] = { 0, 0 };
    ds_batch_t *batch = ds_batch_new (16);
    while (eos < 2) {
        zmsg_t *msg = zmsg_recv (sub);
        assert_non_null (msg);
        assert_int_equal (zmsg_size (msg), 2);
        zframe_t *topic = zmsg_first (msg);
        zframe_t *body = zmsg_next (msg);
        int type = 0;
        assert_int_equal (ds_msg_peek (zframe_data (body), zframe_size (body), &type), 0);
        if (type == DS_MSG_EOS) {
            ds_eos_t e;
            assert_int_equal (ds_eos_decode (zframe_data (body), zframe_size (body), &e), 0);
            assert_int_equal (e.sensor, 7);
            assert_int_equal (e.packets_read, 10);
            assert_int_equal (e.epoch, 0);              //  files
            eos++;
        }
        else
        if (type == DS_MSG_STATS) {
            //  The counters come first on each stream, before any batch.
            ds_stats_t st;
            assert_int_equal (ds_stats_decode (zframe_data (body), zframe_size (body), &st), 0);
            assert_int_equal (st.sensor, 7);
            assert_int_equal (st.epoch, 0);
            assert_true (st.shard < 2);
            if (!stats [st.shard])
                assert_int_equal (st.batches, 0);
            assert_true (st.sent_us > 1600000000000000LL);
            stats [st.shard]++;
        }
        else {
            assert_int_equal (ds_batch_decode (zframe_data (body), zframe_size (body), batch), 0);
            char want [16];
            ds_topic_format (want, "pkt", batch->shard);
            assert_memory_equal (zframe_data (topic), want, 8);
            assert_true (stats [batch->shard] > 0);
            records += batch->count;
        }
        zmsg_destroy (&msg);
    }
    assert_int_equal (records, 10);
    assert_true (stats [0] >= 1 && stats [1] >= 1);
    zsock_set_rcvtimeo (actor, 10000);
    char *done = zstr_recv (actor);
    assert_non_null (done);
    assert_string_equal (done, "DONE");
    zstr_free (&done);
    zactor_destroy (&actor);
    zsock_destroy (&sub);
    ds_batch_destroy (&batch);

    //  No subscriber ever: $TERM ends the wait at once.
    cfg.wait_s = -1;
    actor = zactor_new (ds_ingest_actor, &cfg);
    assert_non_null (actor);
    int64_t t0 = zclock_mono ();
    zactor_destroy (&actor);
    assert_true (zclock_mono () - t0 < 5000);

    //  "STOP" ends the input, here during the wait: "FAILED", at once.
    actor = zactor_new (ds_ingest_actor, &cfg);
    assert_non_null (actor);
    zstr_send (actor, "STOP");
    zsock_set_rcvtimeo (actor, 10000);
    char *stopped = zstr_recv (actor);
    assert_non_null (stopped);
    assert_string_equal (stopped, "FAILED");
    zstr_free (&stopped);
    zactor_destroy (&actor);

    //  A wait that times out fails with "FAILED" on the pipe.
    cfg.wait_s = 1;
    actor = zactor_new (ds_ingest_actor, &cfg);
    zsock_set_rcvtimeo (actor, 10000);
    char *failed = zstr_recv (actor);
    assert_non_null (failed);
    assert_string_equal (failed, "FAILED");
    zstr_free (&failed);
    zactor_destroy (&actor);
}

//  libpcap's drop counters are 32-bit and wrap: the totals stay right
//  across a wrap of either.
static void
test_pcap_drops_wrap (void **state)
{
    (void) state;
    uint32_t last [2] = { 0, 0 };
    uint64_t total = ds_source_drops_add (0, last, 100, 7);
    assert_int_equal (total, 107);
    total = ds_source_drops_add (total, last, UINT32_MAX - 5, 7);     //  +2^32-106
    assert_true (total == 107 + (uint64_t) UINT32_MAX - 5 - 100);
    total = ds_source_drops_add (total, last, 10, 9);                 //  wrapped: +16, +2
    assert_true (total == 107 + (uint64_t) UINT32_MAX - 5 - 100 + 16 + 2);
    assert_true (total > UINT32_MAX);
    total = ds_source_drops_add (total, last, 10, 9);                 //  unchanged
    assert_true (total == 107 + (uint64_t) UINT32_MAX - 5 - 100 + 16 + 2);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_parse_ts),
        cmocka_unit_test (test_darkvec_raw_log),
        cmocka_unit_test (test_darkvec_csv_log),
        cmocka_unit_test (test_nanosecond_null_capture),
        cmocka_unit_test (test_unsupported_link_and_bad_files),
        cmocka_unit_test (test_csv_write_error),
        cmocka_unit_test (test_actor),
        cmocka_unit_test (test_pcap_drops_wrap),
    };
    int rc = cmocka_run_group_tests (tests, setup, teardown);
    zsys_shutdown ();
    return rc;
}
