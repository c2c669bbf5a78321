/*  libs: ds_ingest ds_common */
/*  fuzz_source.c - libFuzzer target: the capture reader on any file.  The
    first bytes pick a classic pcap header (magic of either precision or the
    other byte order, a snapshot length, a link type), so most inputs reach
    the reader's own fast path; the rest of the input is the records.  The
    file is read three ways -- by libpcap, by the fast reader into its
    buffer, and by the fast reader mapping it in windows of one page -- and
    every result code, record, counter and final offset must be the same. */
#include "source.h"
#include "filemap.h"
#include "log.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

enum { S_STEPS_MAX = 4096 };

typedef struct {
    int rc [S_STEPS_MAX];
    ds_record_t rec [S_STEPS_MAX];
    size_t n;
    ds_ingest_stats_t stats;
    uint64_t offset;
} s_trace_t;

static char s_path [64];
static s_trace_t s_traces [3];

static void
s_read (int how, s_trace_t *t)
{
    memset (t, 0, sizeof *t);
    ds_source_set_fast_path (how != 0);
    ds_source_set_map (how == 2 ? 4096 : 0);
    char err [512];
    ds_source_t *source = ds_source_open_file (s_path, err, sizeof err);
    if (!source)
        return;
    while (t->n < S_STEPS_MAX) {
        ds_record_t rec;
        memset (&rec, 0, sizeof rec);
        int rc = ds_source_next (source, &rec, &t->stats);
        t->rc [t->n] = rc;
        if (rc == DS_SOURCE_RECORD)
            t->rec [t->n] = rec;
        t->n++;
        if (rc == DS_SOURCE_END || rc == DS_SOURCE_ERROR)
            break;
    }
    t->offset = ds_source_offset (source);
    ds_source_destroy (&source);
}

static void
s_put32 (uint8_t *p, uint32_t v, int swap)
{
    if (swap)
        v = __builtin_bswap32 (v);
    memcpy (p, &v, 4);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (!s_path [0]) {
        ds_log_init ("fuzz_source");
        ds_log_set_quiet (true);
        snprintf (s_path, sizeof s_path, "/tmp/fuzz_source.%d.pcap", (int) getpid ());
    }
    if (size < 3)
        return 0;
    static const uint32_t magics [] = { 0xa1b2c3d4u, 0xa1b23c4du };
    static const uint32_t links [] = { 1, 101, 113, 0, 228 };
    static const uint32_t snaps [] = { 65535, 96, 262144, 16 };
    int swap = (data [0] >> 2) & 1;
    uint8_t head [24];
    s_put32 (head, magics [data [0] & 1], swap);
    uint16_t version [2] = { 2, 4 };
    if (swap) {
        version [0] = __builtin_bswap16 (version [0]);
        version [1] = __builtin_bswap16 (version [1]);
    }
    memcpy (head + 4, version, 4);
    s_put32 (head + 8, 0, swap);
    s_put32 (head + 12, 0, swap);
    s_put32 (head + 16, snaps [data [1] % 4], swap);
    s_put32 (head + 20, links [data [2] % 5], swap);
    FILE *f = fopen (s_path, "wb");
    if (!f)
        abort ();
    if (fwrite (head, 1, sizeof head, f) != sizeof head
    ||  (size > 3 && fwrite (data + 3, 1, size - 3, f) != size - 3))
        abort ();
    fclose (f);
    for (int how = 0; how < 3; how++)
        s_read (how, &s_traces [how]);
    const s_trace_t *ref = &s_traces [0];
    for (int how = 1; how < 3; how++) {
        const s_trace_t *t = &s_traces [how];
        if (t->n != ref->n || t->offset != ref->offset
        ||  memcmp (&t->stats, &ref->stats, sizeof t->stats) != 0)
            abort ();
        for (size_t i = 0; i < t->n; i++) {
            if (t->rc [i] != ref->rc [i])
                abort ();
            const ds_record_t *x = &t->rec [i], *y = &ref->rec [i];
            if (x->ts != y->ts || memcmp (&x->src, &y->src, sizeof x->src) != 0
            ||  x->port != y->port || x->proto != y->proto || x->flags != y->flags)
                abort ();
        }
    }
    unlink (s_path);
    ds_source_set_fast_path (true);
    ds_source_set_map (DS_FILEMAP_WINDOW);
    return 0;
}
