/*  overview.c - what each query of the overview family shows of the
    merged overview; see overview.h.
*/
#include "overview.h"
#include "record.h"
#include "tzday.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
ds_overview_pp_text (const ds_overview_pp_t *pp, char text [16])
{
    ds_pp_format (text, 16, pp->port, (int) pp->proto);
}

int
ds_overview_pp_rank (const void *x, const void *y)
{
    const ds_overview_pp_t *a = x, *b = y;
    if (a->packets != b->packets)
        return a->packets > b->packets ? -1 : 1;
    char ta [16], tb [16];             //  ties only: rare among the top rows
    ds_overview_pp_text (a, ta);
    ds_overview_pp_text (b, tb);
    return strcmp (ta, tb);
}

int
ds_overview_pp_key (const void *x, const void *y)
{
    const ds_overview_pp_t *a = x, *b = y;
    if (a->port != b->port)
        return a->port < b->port ? -1 : 1;
    return a->proto < b->proto ? -1 : a->proto > b->proto;
}

//  Sums adjacent rows of equal key in v (sorted by key); returns the count.
static size_t
s_pp_sum_runs (ds_overview_pp_t *v, size_t n)
{
    size_t out = 0;
    for (size_t i = 1; i < n; i++)
        if (v [i].port == v [out].port && v [i].proto == v [out].proto) {
            v [out].packets += v [i].packets;
            v [out].sources += v [i].sources;
        }
        else
            v [++out] = v [i];
    return out + 1;
}

#define S_PORT_BUCKETS  65537           //  DS_PORT_NONE (-1) and 0..65535
#define S_SMALL_COMBINE 4096            //  fewer rows: a qsort is cheaper

size_t
ds_overview_pp_combine (ds_overview_pp_t *v, size_t n)
{
    if (n == 0)
        return 0;
    uint32_t *start = n >= S_SMALL_COMBINE ? calloc (S_PORT_BUCKETS + 1, sizeof *start) : NULL;
    ds_overview_pp_t *by_port = start ? malloc (n * sizeof *by_port) : NULL;
    if (!by_port) {
        free (start);
        qsort (v, n, sizeof *v, ds_overview_pp_key);
        return s_pp_sum_runs (v, n);
    }
    //  Counting sort by port (ports are checked by the partial decoder),
    //  then the few protos of each port in place.
    for (size_t i = 0; i < n; i++)
        start [v [i].port + 2]++;
    for (size_t b = 1; b <= S_PORT_BUCKETS; b++)
        start [b] += start [b - 1];
    for (size_t i = 0; i < n; i++)
        by_port [start [v [i].port + 1]++] = v [i];
    size_t out = 0;
    for (size_t i = 0; i < n; ) {
        size_t end = i + 1;
        while (end < n && by_port [end].port == by_port [i].port)
            end++;
        for (size_t j = i + 1; j < end; j++)           //  insertion sort by proto
            for (size_t m = j; m > i && by_port [m].proto < by_port [m - 1].proto; m--) {
                ds_overview_pp_t t = by_port [m];
                by_port [m] = by_port [m - 1];
                by_port [m - 1] = t;
            }
        memcpy (v + out, by_port + i, (end - i) * sizeof *v);
        out += s_pp_sum_runs (v + out, end - i);
        i = end;
    }
    free (start);
    free (by_port);
    return out;
}

size_t
ds_overview_pp_top (const ds_overview_pp_t *v, size_t n, size_t k, ds_overview_pp_t *top)
{
    size_t have = 0;
    for (size_t i = 0; i < n && k > 0; i++) {
        if (have == k && ds_overview_pp_rank (&v [i], &top [k - 1]) >= 0)
            continue;
        size_t at = have < k ? have++ : k - 1;
        while (at > 0 && ds_overview_pp_rank (&v [i], &top [at - 1]) < 0) {
            top [at] = top [at - 1];
            at--;
        }
        top [at] = v [i];
    }
    return have;
}

static int
s_cmp_named_key (const void *x, const void *y)
{
    return strcmp (((const ds_overview_named_t *) x)->name, ((const ds_overview_named_t *) y)->name);
}

static int
s_cmp_named_rank (const void *x, const void *y)
{
    const ds_overview_named_t *a = x, *b = y;
    if (a->packets != b->packets)
        return a->packets > b->packets ? -1 : 1;
    return strcmp (a->name, b->name);
}

size_t
ds_overview_named_combine (ds_overview_named_t *v, size_t n)
{
    if (n == 0)
        return 0;
    qsort (v, n, sizeof *v, s_cmp_named_key);
    size_t out = 0;
    for (size_t i = 1; i < n; i++)
        if (strcmp (v [i].name, v [out].name) == 0)
            v [out].packets += v [i].packets;
        else
            v [++out] = v [i];
    return out + 1;
}

void
ds_overview_free (ds_overview_t *o)
{
    free (o->window_pps);
    free (o->last_pps);
    free (o->hist);
    free (o->days);
    for (size_t i = 0; o->classes && i < o->n_classes; i++) {
        free (o->classes [i].pps);
        free (o->classes [i].services);
    }
    free (o->classes);
}

static void
s_pack_dataset (msgpack_packer *pk, uint64_t sources, const ds_overview_pp_t *pps, size_t n)
{
    uint64_t packets = 0, ports = 0;
    for (size_t i = 0; i < n; i++) {
        packets += pps [i].packets;
        ports += (i == 0 || pps [i].port != pps [i - 1].port) ? 1 : 0;  //  sorted by key
    }
    msgpack_pack_map (pk, 5);
    ds_pack_str (pk, "sources");
    msgpack_pack_uint64 (pk, sources);
    ds_pack_str (pk, "packets");
    msgpack_pack_uint64 (pk, packets);
    ds_pack_str (pk, "ports");
    msgpack_pack_uint64 (pk, ports);
    ds_pack_str (pk, "pp");
    msgpack_pack_uint64 (pk, n);
    ds_pack_str (pk, "top_pp");
    ds_overview_pp_t top [3];
    size_t nt = ds_overview_pp_top (pps, n, 3, top);
    msgpack_pack_array (pk, nt);
    for (size_t i = 0; i < nt; i++) {
        char text [16];
        ds_overview_pp_text (&top [i], text);
        msgpack_pack_map (pk, 4);
        ds_pack_str (pk, "pp");
        ds_pack_str (pk, text);
        ds_pack_str (pk, "packets");
        msgpack_pack_uint64 (pk, top [i].packets);
        ds_pack_str (pk, "percent");
        msgpack_pack_double (pk, (100.0 * (double) top [i].packets) / (double) packets);
        ds_pack_str (pk, "sources");
        msgpack_pack_uint64 (pk, top [i].sources);
    }
}

typedef struct {
    int32_t port;
    uint64_t packets;
} s_port_t;

//  Writes v in decimal (text has room for 11 bytes).
static void
s_utoa (uint32_t v, char *text)
{
    char digits [10];
    int n = 0;
    do
        digits [n++] = (char) ('0' + v % 10);
    while ((v /= 10) != 0);
    for (int i = 0; i < n; i++)
        text [i] = digits [n - 1 - i];
    text [n] = 0;
}

//  Packets desc, then numeric port, "-" last.
static int
s_cmp_port_rank (const void *x, const void *y)
{
    const s_port_t *a = x, *b = y;
    if (a->packets != b->packets)
        return a->packets > b->packets ? -1 : 1;
    int64_t pa = a->port < 0 ? 65536 : a->port, pb = b->port < 0 ? 65536 : b->port;
    return pa < pb ? -1 : pa > pb;
}

//  Sorts n ports by packets, descending, keeping the order of equal counts:
//  a stable LSD radix sort on the bytes where the counts differ.  -1 if
//  memory ran out (nothing changed).
static int
s_ports_by_packets (s_port_t *v, size_t n)
{
    s_port_t *tmp = malloc ((n ? n : 1) * sizeof *tmp), *from = v, *to = tmp;
    if (!tmp)
        return -1;
    for (int shift = 0; shift < 64; shift += 8) {
        size_t at [257] = { 0 };
        for (size_t i = 0; i < n; i++)
            at [((~from [i].packets >> shift) & 0xff) + 1]++;
        if (n == 0 || at [((~from [0].packets >> shift) & 0xff) + 1] == n)
            continue;               //  one value of this byte: order stays
        for (int b = 1; b < 257; b++)
            at [b] += at [b - 1];
        for (size_t i = 0; i < n; i++)
            to [at [(~from [i].packets >> shift) & 0xff]++] = from [i];
        s_port_t *t = from;
        from = to;
        to = t;
    }
    if (from != v)
        memcpy (v, from, n * sizeof *v);
    free (tmp);
    return 0;
}

//  Appends one port row, {"port": text, "packets": packets}, to p as the
//  msgpack packer writes it (fixstr keys and text, the shortest unsigned
//  encoding: msgpack_pack_uint64's); returns the end.  At most 30 bytes.
static uint8_t *
s_port_row (uint8_t *p, int32_t port, uint64_t packets)
{
    memcpy (p, "\x82\xa4port", 6);
    p += 6;
    char text [16];
    if (port < 0)
        memcpy (text, "-", 2);
    else
        s_utoa ((uint32_t) port, text);
    size_t len = strlen (text);
    *p++ = (uint8_t) (0xa0 | len);
    memcpy (p, text, len);
    p += len;
    memcpy (p, "\xa7packets", 8);
    p += 8;
    int width;
    if (packets < 128) {
        *p++ = (uint8_t) packets;
        return p;
    }
    if (packets < (1u << 8)) {
        *p++ = 0xcc;
        width = 1;
    }
    else
    if (packets < (1u << 16)) {
        *p++ = 0xcd;
        width = 2;
    }
    else
    if (packets < (UINT64_C (1) << 32)) {
        *p++ = 0xce;
        width = 4;
    }
    else {
        *p++ = 0xcf;
        width = 8;
    }
    for (int i = width - 1; i >= 0; i--)
        *p++ = (uint8_t) (packets >> (8 * i));
    return p;
}

static void
s_pack_ports (msgpack_packer *pk, const ds_overview_t *o)
{
    s_port_t *ports = malloc ((o->n_window_pps ? o->n_window_pps : 1) * sizeof *ports);
    size_t n = 0;
    if (ports)
        for (size_t i = 0; i < o->n_window_pps; i++) {  //  w is sorted by (port, proto)
            if (n > 0 && ports [n - 1].port == o->window_pps [i].port)
                ports [n - 1].packets += o->window_pps [i].packets;
            else
                ports [n++] = (s_port_t) { o->window_pps [i].port, o->window_pps [i].packets };
        }
    //  In rank order of equal counts (numeric port, "-" last), then ranked.
    if (n > 0 && ports [0].port < 0) {
        s_port_t none = ports [0];
        memmove (ports, ports + 1, (n - 1) * sizeof *ports);
        ports [n - 1] = none;
    }
    if (s_ports_by_packets (ports, n))
        qsort (ports, n, sizeof *ports, s_cmp_port_rank);
    msgpack_pack_array (pk, n);
    //  ~65 k rows at 5 M packets: written as bytes a chunk at a time (a
    //  packer call per field was most of the packing).
    uint8_t chunk [16384];
    size_t used = 0;
    for (size_t i = 0; i < n; i++) {
        if (used + 32 > sizeof chunk) {
            pk->callback (pk->data, (const char *) chunk, used);
            used = 0;
        }
        used = (size_t) (s_port_row (chunk + used, ports [i].port, ports [i].packets) - chunk);
    }
    if (used)
        pk->callback (pk->data, (const char *) chunk, used);
    free (ports);
}

static void
s_pack_ecdf (msgpack_packer *pk, const ds_overview_t *o)
{
    uint64_t total = 0, cum = 0;
    for (size_t i = 0; i < o->n_hist; i++)
        total += o->hist [i].count;
    msgpack_pack_array (pk, o->n_hist);
    for (size_t i = 0; i < o->n_hist; i++) {
        cum += o->hist [i].count;
        msgpack_pack_map (pk, 2);
        ds_pack_str (pk, "packets");
        msgpack_pack_uint64 (pk, o->hist [i].x);
        ds_pack_str (pk, "fraction");
        msgpack_pack_double (pk, (double) cum / (double) total);
    }
}

static void
s_pack_filter (msgpack_packer *pk, const ds_overview_t *o)
{
    uint64_t kept = 0, packets = 0;
    for (size_t i = 0; i < o->n_hist; i++)
        if (o->hist [i].x >= o->min_kept) {
            kept += o->hist [i].count;
            packets += o->hist [i].x * o->hist [i].count;
        }
    msgpack_pack_map (pk, 2);
    ds_pack_str (pk, "sources_kept");
    msgpack_pack_uint64 (pk, kept);
    ds_pack_str (pk, "packets_kept");
    msgpack_pack_uint64 (pk, packets);
}

static void
s_pack_daily (msgpack_packer *pk, const ds_overview_t *o)
{
    uint64_t cum = 0, cumf = 0;
    msgpack_pack_array (pk, (size_t) o->n_days);
    for (int32_t i = 0; i < o->n_days; i++) {
        const ds_part_day_t *d = &o->days [i];
        char day [11];
        ds_day_format (o->first_day + i, day);
        cum += d->first_seen;
        cumf += d->first_seen_filtered;
        msgpack_pack_map (pk, 5);
        ds_pack_str (pk, "day");
        ds_pack_str (pk, day);
        ds_pack_str (pk, "sources");
        msgpack_pack_uint64 (pk, d->sources);
        ds_pack_str (pk, "sources_filtered");
        msgpack_pack_uint64 (pk, d->filtered);
        ds_pack_str (pk, "cumulative");
        msgpack_pack_uint64 (pk, cum);
        ds_pack_str (pk, "cumulative_filtered");
        msgpack_pack_uint64 (pk, cumf);
    }
}

static void
s_pack_classes (msgpack_packer *pk, const ds_overview_t *o)
{
    msgpack_pack_array (pk, o->n_classes);
    for (size_t i = 0; i < o->n_classes; i++) {
        const ds_overview_class_t *c = &o->classes [i];
        msgpack_pack_map (pk, 5);
        ds_pack_str (pk, "class");
        ds_pack_str (pk, c->name);
        ds_pack_str (pk, "senders");
        msgpack_pack_uint64 (pk, c->senders);
        ds_pack_str (pk, "packets");
        msgpack_pack_uint64 (pk, c->packets);
        ds_pack_str (pk, "pp");
        msgpack_pack_uint64 (pk, c->n_pps);
        ds_pack_str (pk, "top_pp");
        ds_overview_pp_t top [5];
        size_t nt = ds_overview_pp_top (c->pps, c->n_pps, 5, top);
        msgpack_pack_array (pk, nt);
        for (size_t j = 0; j < nt; j++) {
            char text [16];
            ds_overview_pp_text (&top [j], text);
            msgpack_pack_map (pk, 3);
            ds_pack_str (pk, "pp");
            ds_pack_str (pk, text);
            ds_pack_str (pk, "packets");
            msgpack_pack_uint64 (pk, top [j].packets);
            ds_pack_str (pk, "percent");
            msgpack_pack_double (pk, (100.0 * (double) top [j].packets) / (double) c->packets);
        }
    }
}

static void
s_pack_heatmap (msgpack_packer *pk, const ds_overview_t *o)
{
    size_t total = 0;
    for (size_t i = 0; i < o->n_classes; i++)
        total += o->classes [i].n_services;
    ds_overview_named_t *sv = calloc (total ? total : 1, sizeof *sv);
    size_t ns = 0;
    if (sv) {
        for (size_t i = 0; i < o->n_classes; i++) {
            memcpy (sv + ns, o->classes [i].services, o->classes [i].n_services * sizeof *sv);
            ns += o->classes [i].n_services;
        }
        ns = ds_overview_named_combine (sv, ns);
        qsort (sv, ns, sizeof *sv, s_cmp_named_rank);
    }
    msgpack_pack_map (pk, 3);
    ds_pack_str (pk, "classes");
    msgpack_pack_array (pk, o->n_classes);
    for (size_t j = 0; j < o->n_classes; j++)
        ds_pack_str (pk, o->classes [j].name);
    ds_pack_str (pk, "services");
    msgpack_pack_array (pk, ns);
    for (size_t i = 0; i < ns; i++)
        ds_pack_str (pk, sv [i].name);
    ds_pack_str (pk, "fraction");
    msgpack_pack_array (pk, ns);
    for (size_t i = 0; i < ns; i++) {
        msgpack_pack_array (pk, o->n_classes);
        for (size_t j = 0; j < o->n_classes; j++) {
            const ds_overview_class_t *c = &o->classes [j];
            uint64_t packets = 0;
            //  services of a class are sorted by name: binary search.
            ds_overview_named_t *hit = bsearch (&sv [i], c->services, c->n_services, sizeof *hit,
                                      s_cmp_named_key);
            if (hit)
                packets = hit->packets;
            msgpack_pack_double (pk, (double) packets / (double) c->packets);
        }
    }
    free (sv);
}

static void
s_pack_overview (msgpack_packer *pk, const ds_overview_t *o)
{
    char day [11];
    msgpack_pack_map (pk, 12);
    ds_pack_str (pk, "schema");
    ds_pack_str (pk, "darkscope.overview/1");
    ds_pack_str (pk, "tz");
    ds_pack_str (pk, o->tz);
    ds_pack_str (pk, "min_packets");
    msgpack_pack_int64 (pk, o->min_packets);
    ds_pack_str (pk, "window");
    msgpack_pack_map (pk, 3);
    const int32_t ends [2] = { o->first_day, o->last_day };
    for (int e = 0; e < 2; e++) {
        ds_pack_str (pk, e == 0 ? "first_day" : "last_day");
        ds_day_format (ends [e], day);
        if (o->empty)
            msgpack_pack_nil (pk);
        else
            ds_pack_str (pk, day);
    }
    ds_pack_str (pk, "days");
    msgpack_pack_int32 (pk, o->n_days);
    ds_pack_str (pk, "dataset");
    msgpack_pack_map (pk, 2);
    ds_pack_str (pk, "window");
    s_pack_dataset (pk, o->window_sources, o->window_pps, o->n_window_pps);
    ds_pack_str (pk, "last_day");
    s_pack_dataset (pk, o->last_sources, o->last_pps, o->n_last_pps);
    ds_pack_str (pk, "port_ranking");
    s_pack_ports (pk, o);
    ds_pack_str (pk, "sender_ecdf");
    s_pack_ecdf (pk, o);
    ds_pack_str (pk, "filter");
    s_pack_filter (pk, o);
    ds_pack_str (pk, "daily");
    s_pack_daily (pk, o);
    ds_pack_str (pk, "classes");
    s_pack_classes (pk, o);
    ds_pack_str (pk, "heatmap");
    s_pack_heatmap (pk, o);
    ds_pack_str (pk, "ingest");
    msgpack_pack_map (pk, 7);
    static const char *const keys [] = { "packets_read", "non_ip", "malformed", "bad_time", "dropped" };
    const uint64_t ingest [] = { o->packets_read, o->non_ip, o->malformed, o->bad_time, o->dropped };
    for (int k = 0; k < 5; k++) {
        ds_pack_str (pk, keys [k]);
        msgpack_pack_uint64 (pk, ingest [k]);
    }
    ds_pack_str (pk, "gaps");
    msgpack_pack_uint64 (pk, o->gaps);
    //  The same verdict as `status` (complete: every shard saw every
    //  expected sensor's end of stream, no batch missing).
    ds_pack_str (pk, "complete");
    if (o->complete) msgpack_pack_true (pk); else msgpack_pack_false (pk);
}


//  The queries of the overview family: name, result key, packer.
typedef void (s_section_fn) (msgpack_packer *, const ds_overview_t *);
static const struct {
    const char *query;
    const char *key;                //  NULL: the result is the object itself
    s_section_fn *fn;
} s_sections [] = {
    { "overview", NULL,           s_pack_overview },
    { "ports",    "port_ranking", s_pack_ports },
    { "ecdf",     "sender_ecdf",  s_pack_ecdf },
    { "daily",    "daily",        s_pack_daily },
    { "classes",  "classes",      s_pack_classes },
    { "heatmap",  "heatmap",      s_pack_heatmap },
};
#define S_SECTIONS (sizeof s_sections / sizeof *s_sections)

int
ds_overview_pack (const ds_overview_t *o, const char *name, msgpack_packer *pk)
{
    for (size_t i = 0; i < S_SECTIONS; i++)
        if (strcmp (name, s_sections [i].query) == 0) {
            if (s_sections [i].key) {
                msgpack_pack_map (pk, 1);
                ds_pack_str (pk, s_sections [i].key);
            }
            s_sections [i].fn (pk, o);
            return 0;
        }
    return -1;
}
