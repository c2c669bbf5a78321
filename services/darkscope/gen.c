/*  gen.c - the synthetic darknet month of `darkscope gen` (see gen.h).

    Two phases.  First the population (gen_sources.c): every source's kind,
    address, packet count for the month and active days, drawn from one
    xoshiro256** stream (rng.h) seeded by splitmix64 (seed), so the month is
    fixed by (config, seed).  Then day by day: each active source's packets
    of that day get a time, a port and a type (gen_packets.c) from the same
    stream; the day is radix-sorted by time and written as pcap records
    (gen_pcap.c) into a buffered file, their header fields drawn from a
    second stream in time order.
*/
#include "gen.h"
#include "gen_packets.h"
#include "gen_pcap.h"
#include "gen_sources.h"
#include "civil.h"
#include "log.h"

#include <czmq.h>
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define S_BUF_SIZE (1 << 20)

typedef struct {
    const ds_gen_config_t *cfg;
    ds_rng_t rng;               //  population and per-day draws
    ds_rng_t wrng;              //  header fields, drawn in write order
    ds_gen_sources_t *sources;
    ds_gen_telescope_t tele;
    int64_t day0_s;             //  epoch seconds of the first day
    FILE *out;
    uint8_t *buf;
    size_t buf_len;
    ds_gen_packet_t *day, *tmp; //  one day's packets, and the sort's scratch
    size_t cap;                 //  packets both hold
    ds_gen_summary_t sum;
} s_gen_t;

//  Stable LSD radix sort by t (< 2^37): three passes of 13/12/12 bits.
static void
s_sort (ds_gen_packet_t *a, ds_gen_packet_t *tmp, size_t n)
{
    static const int shift [3] = { 0, 13, 25 };
    static const int bits [3] = { 13, 12, 12 };
    size_t count [1 << 13];
    for (int pass = 0; pass < 3; pass++) {
        size_t nb = (size_t) 1 << bits [pass];
        uint64_t mask = nb - 1;
        memset (count, 0, nb * sizeof (size_t));
        for (size_t i = 0; i < n; i++)
            count [(a [i].t >> shift [pass]) & mask]++;
        size_t sum = 0;
        for (size_t b = 0; b < nb; b++) {
            size_t c = count [b];
            count [b] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++)
            tmp [count [(a [i].t >> shift [pass]) & mask]++] = a [i];
        ds_gen_packet_t *x = a;
        a = tmp;
        tmp = x;
    }
    //  three passes: the sorted data is in the original tmp; copy it back
    memcpy (tmp, a, n * sizeof (ds_gen_packet_t));
}

static int
s_flush (s_gen_t *g)
{
    if (g->buf_len && fwrite (g->buf, 1, g->buf_len, g->out) != g->buf_len) {
        ds_log_error ("gen: %s: %s", g->cfg->out_path, strerror (errno));
        return -1;
    }
    g->sum.bytes += g->buf_len;
    g->buf_len = 0;
    return 0;
}

//  Packets of source s on day d of days (its month's packets spread evenly
//  over its active days, which wrap around the end in a steady stream).
static uint64_t
s_packets_on (const ds_gen_source_t *s, int d, int days, bool wrap)
{
    int j = d - s->first_day;
    if (j < 0 && wrap)
        j += days;
    if (j < 0 || j >= s->ndays)
        return 0;
    return (uint64_t) s->packets * (uint64_t) (j + 1) / s->ndays
         - (uint64_t) s->packets * (uint64_t) j / s->ndays;
}

//  Day d: draws every active source's packets, sorts them by time and
//  writes them.  0, or -1 after logging why.
static int
s_day (s_gen_t *g, int d)
{
    size_t nsrc;
    const ds_gen_source_t *src = ds_gen_sources_all (g->sources, &nsrc);
    size_t n = 0;
    for (size_t i = 0; i < nsrc; i++)
        n += (size_t) s_packets_on (&src [i], d, g->cfg->days, g->cfg->max_active_days > 0);
    if (n > g->cap) {
        free (g->day);
        free (g->tmp);
        g->cap = n + n / 8;
        g->day = malloc (g->cap * sizeof (ds_gen_packet_t));
        g->tmp = malloc (g->cap * sizeof (ds_gen_packet_t));
        if (!g->day || !g->tmp) {
            ds_log_error ("gen: out of memory for %zu packets of day %d", n, d);
            return -1;
        }
    }
    size_t k = 0;
    for (size_t i = 0; i < nsrc; i++) {
        uint64_t m = s_packets_on (&src [i], d, g->cfg->days, g->cfg->max_active_days > 0);
        for (uint64_t x = 0; x < m; x++) {
            ds_gen_packets_draw (&g->rng, &src [i], d, &g->day [k]);
            g->day [k++].src = (uint32_t) i;
        }
    }
    if (n > 0)
        s_sort (g->day, g->tmp, n);
    int64_t start_s = g->day0_s + (int64_t) d * 86400;
    for (size_t i = 0; i < n; i++) {
        if (g->buf_len + DS_GEN_PCAP_FRAME_MAX > S_BUF_SIZE && s_flush (g))
            return -1;
        const ds_gen_source_t *s = &src [g->day [i].src];
        g->buf_len += ds_gen_pcap_frame (g->buf + g->buf_len, &g->day [i], s,
                                         s->v6 ? ds_gen_sources_v6 (g->sources, s) : NULL,
                                         &g->tele, &g->wrng, start_s);
    }
    g->sum.packets += n;
    return 0;
}

static int
s_parse_config (s_gen_t *g)
{
    const ds_gen_config_t *cfg = g->cfg;
    if (!cfg->out_path) {
        ds_log_error ("gen: no output pcap given");
        return -1;
    }
    if (cfg->days < 1 || cfg->days > 3660) {
        ds_log_error ("gen: days %d out of range 1..3660", cfg->days);
        return -1;
    }
    if (cfg->max_active_days < 0 || cfg->max_active_days > cfg->days) {
        ds_log_error ("gen: max active days %d out of range 0..%d (the days)",
                      cfg->max_active_days, cfg->days);
        return -1;
    }
    if (cfg->packets < 1000 || cfg->packets > 4000000000ULL) {
        ds_log_error ("gen: packets %llu out of range 1000..4e9", (unsigned long long) cfg->packets);
        return -1;
    }
    int y, m, d;
    char tail;
    const char *day = cfg->start_day ? cfg->start_day : "2021-03-02";
    if (sscanf (day, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3
    ||  m < 1 || m > 12 || d < 1 || d > 31 || y < 1970 || y > 2100) {
        ds_log_error ("gen: start day '%s' is not YYYY-MM-DD", day);
        return -1;
    }
    g->day0_s = ds_civil_to_days (y, (unsigned) m, (unsigned) d) * 86400;
    const char *tele = cfg->telescope ? cfg->telescope : "203.0.113.0/24";
    char addr [32];
    int len;
    struct in_addr in;
    if (sscanf (tele, "%31[0-9.]/%d%c", addr, &len, &tail) != 2
    ||  len < 8 || len > 32 || inet_pton (AF_INET, addr, &in) != 1) {
        ds_log_error ("gen: telescope '%s' is not an IPv4 prefix a.b.c.d/8..32", tele);
        return -1;
    }
    g->tele.mask = len == 32 ? 0 : 0xffffffffu >> len;
    g->tele.base = ntohl (in.s_addr) & ~g->tele.mask;
    return 0;
}

void
ds_gen_config_defaults (ds_gen_config_t *cfg)
{
    memset (cfg, 0, sizeof (*cfg));
    cfg->days = 30;
    cfg->packets = 2000000;
    cfg->seed = 1;
    cfg->start_day = "2021-03-02";
    cfg->telescope = "203.0.113.0/24";
}


int
ds_gen_run (const ds_gen_config_t *cfg, ds_gen_summary_t *summary)
{
    int64_t t0 = zclock_usecs ();
    s_gen_t g;
    memset (&g, 0, sizeof (g));
    g.cfg = cfg;
    int rc = -1;
    if (s_parse_config (&g))
        goto done;
    ds_rng_seed (&g.rng, cfg->seed);
    ds_rng_seed (&g.wrng, cfg->seed ^ 0x5eed5eed5eed5eedULL);
    g.sources = ds_gen_sources_new (cfg->packets, cfg->days, cfg->max_active_days, g.tele.base, g.tele.mask, &g.rng);
    if (!g.sources)
        goto done;
    ds_gen_sources_summarise (g.sources, &g.sum);
    if (cfg->gt_path && ds_gen_sources_write_gt (g.sources, cfg->gt_path, &g.sum.gt_entries))
        goto done;

    g.out = strcmp (cfg->out_path, "-") == 0 ? fdopen (dup (STDOUT_FILENO), "wb")
                                             : fopen (cfg->out_path, "wb");
    g.buf = malloc (S_BUF_SIZE);
    if (!g.out || !g.buf) {
        ds_log_error ("gen: %s: %s", cfg->out_path, strerror (errno));
        goto done;
    }
    ds_gen_pcap_header (g.buf);
    g.buf_len = DS_GEN_PCAP_HEADER;
    bool progress = !cfg->quiet && isatty (2);
    for (int d = 0; d < cfg->days; d++) {
        if (s_day (&g, d))
            goto done;
        if (progress)
            fprintf (stderr, "\rgen: day %d/%d, %llu packets", d + 1, cfg->days,
                     (unsigned long long) g.sum.packets);
    }
    if (s_flush (&g))
        goto done;
    if (fclose (g.out) != 0) {
        g.out = NULL;
        ds_log_error ("gen: %s: %s", cfg->out_path, strerror (errno));
        goto done;
    }
    g.out = NULL;
    if (progress)
        fputc ('\n', stderr);
    rc = 0;
done:
    if (g.out)
        fclose (g.out);
    g.sum.seconds = (double) (zclock_usecs () - t0) / 1e6;
    if (summary)
        *summary = g.sum;
    free (g.day);
    free (g.tmp);
    free (g.buf);
    ds_gen_sources_destroy (&g.sources);
    return rc;
}
