/*  libs: ds_ingest ds_common */
/*  test_source_fast.c - the fast reader of classic pcap files against
    libpcap's own reader: every record, every counter, every result code
    and the final offset must be the same, for the real captures of
    shared/data/pcaps and for files built here to hit each irregular case
    (nanosecond and out-of-range timestamps, a frame above the snapshot
    length, a frame or header cut short, an insane captured length, files
    larger than the read buffer, the other byte order, pcap 2.3).  The
    fast reader runs three ways: reading into its buffer, mapping the file
    in the default windows, and in windows of three pages.  A file cut
    while it is mapped reads as libpcap reads the cut file, one that grows
    is read to its new end, and a SIGBUS that is not the maps' still ends
    the process. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <cmocka.h>
#include "scratch_fixture.h"
#include "source.h"
#include "filemap.h"
#include "log.h"

static char s_dir [256];

static int
setup (void **state)
{
    (void) state;
    assert_int_equal (fx_scratch_make (s_dir, sizeof s_dir, "ds_test_source_fast"), 0);
    ds_log_init ("test_source_fast");
    ds_log_set_quiet (true);
    return 0;
}

static int
teardown (void **state)
{
    (void) state;
    ds_source_set_fast_path (true);
    ds_source_set_map (DS_FILEMAP_WINDOW);
    return fx_scratch_remove (s_dir);
}

typedef struct {
    int rc;
    ds_record_t rec;
} s_step_t;

typedef struct {
    s_step_t *steps;
    size_t n;
    ds_ingest_stats_t stats;
    uint64_t offset;
    bool was_fast;                  //  the fast reader read the first record
} s_trace_t;

//  How a file is read: by libpcap, or by the fast reader into its buffer,
//  mapped in the default windows, or mapped in windows of 3 pages.
typedef enum { S_LIBPCAP, S_BUFFER, S_MAP, S_MAP_SMALL } s_how_t;

//  A change made to a file while it is read.
typedef void (s_change_fn) (const char *path, void *arg);

//  Reads path to its end as how says; after `after` steps (0: never)
//  change (path, arg) alters the file.
static void
s_read_at (const char *path, s_how_t how, s_trace_t *trace, size_t after, s_change_fn *change,
           void *arg)
{
    memset (trace, 0, sizeof *trace);
    ds_source_set_fast_path (how != S_LIBPCAP);
    ds_source_set_map (how == S_BUFFER ? 0 : how == S_MAP_SMALL ? 3 * 4096 : DS_FILEMAP_WINDOW);
    char err [512];
    ds_source_t *source = ds_source_open_file (path, err, sizeof err);
    assert_non_null (source);
    trace->was_fast = ds_source_is_fast (source);
    size_t cap = 0;
    while (true) {
        if (after && trace->n == after)
            change (path, arg);
        ds_record_t rec;
        memset (&rec, 0, sizeof rec);
        int rc = ds_source_next (source, &rec, &trace->stats);
        if (trace->n == cap) {
            cap = cap ? cap * 2 : 1024;
            trace->steps = realloc (trace->steps, cap * sizeof *trace->steps);
            assert_non_null (trace->steps);
        }
        s_step_t *step = &trace->steps [trace->n++];
        memset (step, 0, sizeof *step);
        step->rc = rc;
        if (rc == DS_SOURCE_RECORD)
            step->rec = rec;
        if (rc == DS_SOURCE_END || rc == DS_SOURCE_ERROR)
            break;
    }
    trace->offset = ds_source_offset (source);
    ds_source_destroy (&source);
    ds_source_set_fast_path (true);
    ds_source_set_map (DS_FILEMAP_WINDOW);
}

static void
s_read (const char *path, s_how_t how, s_trace_t *trace)
{
    s_read_at (path, how, trace, 0, NULL, NULL);
}

//  s_change_fn: cuts the file to *(off_t *) arg bytes.
static void
s_cut (const char *path, void *arg)
{
    assert_int_equal (truncate (path, *(off_t *) arg), 0);
}

//  s_change_fn: appends the bytes of arg (s_bytes_t) to the file.
typedef struct {
    const uint8_t *data;
    size_t size;
} s_bytes_t;

//  Writes size bytes of data to path, opened with mode ("wb", "ab").
static void
s_put (const char *path, const char *mode, const void *data, size_t size)
{
    FILE *f = fopen (path, mode);
    assert_non_null (f);
    assert_int_equal (fwrite (data, 1, size, f), size);
    assert_int_equal (fclose (f), 0);
}

static void
s_append (const char *path, void *arg)
{
    const s_bytes_t *b = arg;
    s_put (path, "ab", b->data, b->size);
}

//  Two traces are the same: every step, the counters, the final offset.
static void
s_same (const char *path, const s_trace_t *a, const s_trace_t *b)
{
    assert_int_equal (a->n, b->n);
    for (size_t i = 0; i < a->n; i++) {
        if (a->steps [i].rc != b->steps [i].rc)
            fail_msg ("%s: step %zu: rc %d (fast) vs %d (libpcap)", path, i,
                      a->steps [i].rc, b->steps [i].rc);
        const ds_record_t *x = &a->steps [i].rec, *y = &b->steps [i].rec;
        if (x->ts != y->ts || memcmp (&x->src, &y->src, sizeof x->src) != 0
        ||  x->port != y->port || x->proto != y->proto || x->flags != y->flags)
            fail_msg ("%s: step %zu: records differ (ts %lld vs %lld)", path, i,
                      (long long) x->ts, (long long) y->ts);
    }
    assert_memory_equal (&a->stats, &b->stats, sizeof a->stats);
    assert_int_equal (a->offset, b->offset);
}

//  The fast reader, each way, gives libpcap's trace; returns the number of
//  steps.
static size_t
s_compare (const char *path, bool expect_fast)
{
    s_trace_t ref;
    s_read (path, S_LIBPCAP, &ref);
    assert_false (ref.was_fast);
    for (s_how_t how = S_BUFFER; how <= S_MAP_SMALL; how++) {
        s_trace_t a;
        s_read (path, how, &a);
        if (expect_fast)
            assert_true (a.was_fast);
        s_same (path, &a, &ref);
        free (a.steps);
    }
    free (ref.steps);
    return ref.n;
}

//  --------------------------------------------------------------------------
//  Building captures

typedef struct {
    FILE *f;
    bool swap;
} s_writer_t;

static uint32_t
s_sw (const s_writer_t *w, uint32_t v)
{
    return w->swap ? __builtin_bswap32 (v) : v;
}

static void
s_put32 (s_writer_t *w, uint32_t v)
{
    v = s_sw (w, v);
    assert_int_equal (fwrite (&v, 4, 1, w->f), 1);
}

static void
s_begin (s_writer_t *w, const char *path, uint32_t magic, uint16_t major, uint16_t minor,
         uint32_t snaplen, bool swap)
{
    w->f = fopen (path, "wb");
    assert_non_null (w->f);
    w->swap = swap;
    s_put32 (w, magic);
    uint16_t version [2] = { major, minor };
    if (swap) {
        version [0] = __builtin_bswap16 (version [0]);
        version [1] = __builtin_bswap16 (version [1]);
    }
    assert_int_equal (fwrite (version, 2, 2, w->f), 2);
    s_put32 (w, 0);
    s_put32 (w, 0);
    s_put32 (w, snaplen);
    s_put32 (w, 1);                             //  LINKTYPE_ETHERNET
}

//  An Ethernet + IPv4 + TCP SYN frame of `size` bytes (>= 54) from src.
static void
s_frame (uint8_t *frame, size_t size, uint32_t src, uint16_t port)
{
    memset (frame, 0, size);
    frame [12] = 0x08;                          //  IPv4
    uint8_t *ip = frame + 14;
    ip [0] = 0x45;
    ip [2] = 0;
    ip [3] = 40;
    ip [8] = 64;
    ip [9] = 6;
    ip [12] = (uint8_t) (src >> 24);
    ip [13] = (uint8_t) (src >> 16);
    ip [14] = (uint8_t) (src >> 8);
    ip [15] = (uint8_t) src;
    ip [16] = 192;
    ip [19] = 7;
    uint8_t *tcp = ip + 20;
    tcp [2] = (uint8_t) (port >> 8);
    tcp [3] = (uint8_t) port;
    tcp [12] = 0x50;
    tcp [13] = 0x02;                            //  SYN
}

//  One record: header fields as given, then `stored` bytes of a frame.
static void
s_record (s_writer_t *w, uint32_t sec, uint32_t frac, uint32_t caplen, uint32_t stored,
          uint32_t src)
{
    s_put32 (w, sec);
    s_put32 (w, frac);
    s_put32 (w, caplen);
    s_put32 (w, caplen);
    static uint8_t frame [300000];
    s_frame (frame, stored > 54 ? stored : 54, src, (uint16_t) (src & 0xffff));
    if (stored)
        assert_int_equal (fwrite (frame, 1, stored, w->f), stored);
}

static const char *
s_path (const char *name, char *buf, size_t size)
{
    snprintf (buf, size, "%s/%s", s_dir, name);
    return buf;
}

//  --------------------------------------------------------------------------
//  Tests

static void
test_real_captures (void **state)
{
    (void) state;
    const char *data = getenv ("DS_SHARED_DATA");
    if (!data || !*data) {
        print_message ("DS_SHARED_DATA not set: real captures skipped\n");
        skip ();
    }
    char dir [512];
    snprintf (dir, sizeof dir, "%s/pcaps", data);
    DIR *d = opendir (dir);
    if (!d) {
        print_message ("%s absent: real captures skipped\n", dir);
        skip ();
    }
    struct dirent *e;
    int compared = 0;
    while ((e = readdir (d))) {
        if (e->d_name [0] == '.')
            continue;
        char path [1024];
        snprintf (path, sizeof path, "%s/%s", dir, e->d_name);
        s_compare (path, false);
        compared++;
    }
    closedir (d);
    assert_true (compared > 0);
}

static void
test_timestamps (void **state)
{
    (void) state;
    static const uint32_t ts [][2] = {
        { 1614556800, 123456 }, { 0xF0000000u, 5 }, { 5, 0xFFFFFFFBu }, { 5, 0xFFFFEC78u },
        { 7, 1999999999u }, { 0x7fffffff, 999999 }, { 0, 0 }, { 0xffffffffu, 0xffffffffu }
    };
    static const uint32_t magics [2] = { 0xa1b2c3d4u, 0xa1b23c4du };
    for (int m = 0; m < 2; m++) {
        char path [300];
        s_path (m ? "nsec.pcap" : "usec.pcap", path, sizeof path);
        s_writer_t w;
        s_begin (&w, path, magics [m], 2, 4, 65535, false);
        for (size_t i = 0; i < sizeof ts / sizeof ts [0]; i++)
            s_record (&w, ts [i][0], ts [i][1], 60, 60, 0xc6336401u + (uint32_t) i);
        fclose (w.f);
        assert_int_equal (s_compare (path, true), 9);
    }
}

//  A frame above the snapshot length hands over to libpcap mid-file.
static void
test_above_snapshot (void **state)
{
    (void) state;
    char path [300];
    s_path ("snap.pcap", path, sizeof path);
    s_writer_t w;
    s_begin (&w, path, 0xa1b2c3d4u, 2, 4, 64, false);
    for (uint32_t i = 0; i < 5; i++)
        s_record (&w, 1614556800 + i, i, 60, 60, 0x0a000001u + i);
    s_record (&w, 1614556900, 0, 100, 100, 0x0a0000ffu);
    for (uint32_t i = 0; i < 5; i++)
        s_record (&w, 1614557000 + i, i, 60, 60, 0x0a000101u + i);
    fclose (w.f);
    assert_int_equal (s_compare (path, true), 12);
}

//  Cut short: the last frame, then the last header; and an insane length.
static void
test_truncated_and_insane (void **state)
{
    (void) state;
    static const struct { const char *name; uint32_t caplen, stored; bool header_only; } cases [] = {
        { "cut-frame.pcap", 60, 30, false },
        { "cut-header.pcap", 0, 0, true },
        { "insane.pcap", 300000, 0, false },
        { "empty-frame.pcap", 0, 0, false },
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases [0]; c++) {
        char path [300];
        s_path (cases [c].name, path, sizeof path);
        s_writer_t w;
        s_begin (&w, path, 0xa1b2c3d4u, 2, 4, 65535, false);
        for (uint32_t i = 0; i < 3; i++)
            s_record (&w, 1614556800 + i, i, 60, 60, 0x0a000001u + i);
        if (cases [c].header_only) {
            uint8_t partial [10] = { 1, 2, 3 };
            assert_int_equal (fwrite (partial, 1, sizeof partial, w.f), sizeof partial);
        }
        else
            s_record (&w, 1614556900, 0, cases [c].caplen, cases [c].stored, 0x0a0000ffu);
        fclose (w.f);
        s_compare (path, true);
    }
}

//  Several buffer refills, records straddling every refill.
static void
test_large_file (void **state)
{
    (void) state;
    char path [300];
    s_path ("large.pcap", path, sizeof path);
    s_writer_t w;
    s_begin (&w, path, 0xa1b2c3d4u, 2, 4, 262144, false);
    uint32_t n = 0;
    for (uint32_t i = 0; i < 40000; i++, n++)
        s_record (&w, 1614556800 + i / 100, i, 54 + (i * 7919) % 200, 54 + (i * 7919) % 200,
                  0x0a000000u + (i % 5000));
    s_record (&w, 1614600000, 0, 262144, 262144, 0x0b000001u);      //  the largest frame
    n++;
    for (uint32_t i = 0; i < 1000; i++, n++)
        s_record (&w, 1614600001, i, 60, 60, 0x0c000000u + i);
    fclose (w.f);
    assert_int_equal (s_compare (path, true), n + 1);
}

//  Files the fast reader leaves to libpcap still read the same.
static void
test_not_fast (void **state)
{
    (void) state;
    char path [300];
    s_path ("swapped.pcap", path, sizeof path);
    s_writer_t w;
    s_begin (&w, path, 0xa1b2c3d4u, 2, 4, 65535, true);
    for (uint32_t i = 0; i < 5; i++)
        s_record (&w, 1614556800 + i, i, 60, 60, 0x0a000001u + i);
    fclose (w.f);
    s_trace_t t;
    s_read (path, S_MAP, &t);
    assert_false (t.was_fast);
    free (t.steps);
    assert_int_equal (s_compare (path, false), 6);

    s_path ("v23.pcap", path, sizeof path);
    s_begin (&w, path, 0xa1b2c3d4u, 2, 3, 65535, false);
    for (uint32_t i = 0; i < 5; i++)
        s_record (&w, 1614556800 + i, i, 60, 60, 0x0a000001u + i);
    fclose (w.f);
    s_read (path, S_MAP, &t);
    assert_false (t.was_fast);
    free (t.steps);
    assert_int_equal (s_compare (path, false), 6);
}

//  A capture whose records end on page boundaries every 32 records: a
//  first record up to byte 4096, then 128-byte records.
static void
s_paged_capture (const char *path, uint32_t records)
{
    s_writer_t w;
    s_begin (&w, path, 0xa1b2c3d4u, 2, 4, 65535, false);
    s_record (&w, 1614556800, 0, 4096 - 24 - 16, 4096 - 24 - 16, 0x0a000001u);
    for (uint32_t i = 1; i < records; i++)
        s_record (&w, 1614556800 + i / 50, i, 112, 112, 0x0a000000u + i);
    fclose (w.f);
}

//  The file is cut ahead of the reader while its window is mapped: the
//  pages past the cut vanish from the map (SIGBUS, caught), and the run
//  reads on as libpcap reads the cut file.  Cut at a page boundary that
//  is also a record's, the two are exactly the same.
static void
test_cut_while_mapped (void **state)
{
    (void) state;
    char path [300], copy [300];
    s_path ("cut-live.pcap", path, sizeof path);
    s_path ("cut-ref.pcap", copy, sizeof copy);
    for (int small = 0; small < 2; small++) {
        s_paged_capture (path, 2000);
        s_paged_capture (copy, 2000);
        //  100 steps: the reader is near byte 16768, in the window of three
        //  pages from 16384 or in the first default window; cut at 28672.
        off_t cut = 7 * 4096;
        s_trace_t a, ref;
        s_read_at (path, small ? S_MAP_SMALL : S_MAP, &a, 100, s_cut, &cut);
        assert_true (a.was_fast);
        assert_int_equal (truncate (copy, cut), 0);
        s_read (copy, S_LIBPCAP, &ref);
        assert_int_equal (ref.n, 1 + (cut - 4096) / 128 + 1);       //  the records, then the end
        s_same (path, &a, &ref);
        free (a.steps);
        free (ref.steps);
    }
}

//  A capture that grows while it is read (its capture tool still writing)
//  is read to its new end, every way: mapped, the window that ended at the
//  old end is mapped again at the new size.  The same records as libpcap
//  reading the grown file.
static void
test_grows_while_read (void **state)
{
    (void) state;
    char path [300], whole [300];
    s_path ("grow-live.pcap", path, sizeof path);
    s_path ("grow-whole.pcap", whole, sizeof whole);
    s_paged_capture (whole, 2500);
    size_t first = 4096 + 1999 * 128;           //  the first 2000 records
    FILE *f = fopen (whole, "rb");
    assert_non_null (f);
    static uint8_t bytes [4096 + 2499 * 128];
    assert_int_equal (fread (bytes, 1, sizeof bytes, f), sizeof bytes);
    assert_int_equal (fgetc (f), EOF);
    fclose (f);
    s_trace_t ref;
    s_read (whole, S_LIBPCAP, &ref);
    assert_int_equal (ref.n, 2501);
    for (s_how_t how = S_BUFFER; how <= S_MAP_SMALL; how++) {
        s_put (path, "wb", bytes, first);
        s_bytes_t rest = { bytes + first, sizeof bytes - first };
        s_trace_t a;
        s_read_at (path, how, &a, 100, s_append, &rest);
        assert_true (a.was_fast);
        s_same (path, &a, &ref);
        free (a.steps);
    }
    free (ref.steps);
}

//  A SIGBUS outside the maps' windows still ends the process (through the
//  handler that was there before, here the default).
static void
test_foreign_sigbus (void **state)
{
    (void) state;
    char path [300], other [300];
    s_path ("foreign.pcap", path, sizeof path);
    s_path ("foreign.bin", other, sizeof other);
    s_paged_capture (path, 64);
    static uint8_t page [8192];
    s_put (other, "wb", page, sizeof page);
    pid_t pid = fork ();
    assert_true (pid >= 0);
    if (pid == 0) {
        //  SIGBUS handled by default (not by the test harness), a map
        //  (its handler installed), then a foreign fault.
        signal (SIGBUS, SIG_DFL);
        char err [256];
        ds_source_t *source = ds_source_open_file (path, err, sizeof err);
        ds_record_t rec;
        ds_ingest_stats_t stats;
        memset (&stats, 0, sizeof stats);
        if (!source || !ds_source_is_fast (source) || ds_source_next (source, &rec, &stats) != DS_SOURCE_RECORD)
            _exit (3);
        int fd = open (other, O_RDONLY);
        volatile uint8_t *p = fd >= 0 ? mmap (NULL, sizeof page, PROT_READ, MAP_SHARED, fd, 0) : MAP_FAILED;
        if (p == MAP_FAILED || truncate (other, 0) != 0)
            _exit (4);
        (void) p [4096];                        //  SIGBUS
        _exit (0);                              //  survived: wrong
    }
    int status = 0;
    assert_int_equal (waitpid (pid, &status, 0), pid);
    if (WIFEXITED (status))
        fail_msg ("the child exited with %d instead of dying of SIGBUS", WEXITSTATUS (status));
    assert_true (WIFSIGNALED (status));
    assert_int_equal (WTERMSIG (status), SIGBUS);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_real_captures),
        cmocka_unit_test (test_timestamps),
        cmocka_unit_test (test_above_snapshot),
        cmocka_unit_test (test_truncated_and_insane),
        cmocka_unit_test (test_large_file),
        cmocka_unit_test (test_not_fast),
        cmocka_unit_test (test_cut_while_mapped),
        cmocka_unit_test (test_grows_while_read),
        cmocka_unit_test (test_foreign_sigbus),
    };
    return cmocka_run_group_tests (tests, setup, teardown);
}
