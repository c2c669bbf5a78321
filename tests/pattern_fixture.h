/*  pattern_fixture.h - packs a `pattern` query result the way the query
    service does (proto/PROTOCOL.md, "The pattern query") from a list of
    points, for the report's tests (test_report.c, test_report_pattern.c).

    Points are (token, bin start us) pairs, distinct, sorted by (token,
    bin); source `token` has the IP 192.0.(token >> 8).(token & 255).  The
    raster counts them exactly; the sample is the first `limit` points.
    Header only (static inline).
*/
#ifndef PATTERN_FIXTURE_H
#define PATTERN_FIXTURE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <msgpack.h>
#include "pattern_codec.h"

typedef struct {
    const char *class_name;
    int64_t bin_s;
    int64_t from_us, to_us;         //  the range covered
    uint64_t sources;
    uint32_t width, height;         //  asked (capped at bins and sources)
    uint32_t limit;                 //  sample points
    bool inexact;
} fx_pattern_t;

static inline void
fx_pattern_str (msgpack_packer *pk, const char *s)
{
    msgpack_pack_str_with_body (pk, s, strlen (s));
}

static inline void
fx_pack_pattern (msgpack_packer *pk, const fx_pattern_t *p, const int64_t (*pts) [2], uint32_t n)
{
    int64_t bin_us = p->bin_s * 1000000;
    int64_t b0 = p->from_us / bin_us;               //  times > 0 here
    uint64_t bins = p->from_us < p->to_us ? (uint64_t) ((p->to_us - 1) / bin_us - b0 + 1) : 0;
    uint32_t w = p->width < bins ? p->width : (uint32_t) bins;
    uint32_t h = p->height < p->sources ? p->height : (uint32_t) p->sources;
    uint32_t *cells = calloc ((size_t) w * h + 1, sizeof *cells);
    for (uint32_t i = 0; i < n; i++) {
        uint64_t row = (uint64_t) pts [i][0] * h / p->sources;
        uint64_t col = (uint64_t) (pts [i][1] / bin_us - b0) * w / bins;
        cells [row * w + col]++;
    }
    msgpack_sbuffer z;
    msgpack_sbuffer_init (&z);
    ds_pattern_cells_deflate (cells, (size_t) w * h, 4, 6, &z);
    uint32_t ns = n < p->limit ? n : p->limit;
    msgpack_pack_map (pk, 18);
    fx_pattern_str (pk, "bin_s");       msgpack_pack_int64 (pk, p->bin_s);
    fx_pattern_str (pk, "class");       fx_pattern_str (pk, p->class_name);
    fx_pattern_str (pk, "from_us");     msgpack_pack_int64 (pk, p->from_us);
    fx_pattern_str (pk, "to_us");       msgpack_pack_int64 (pk, p->to_us);
    fx_pattern_str (pk, "x0_us");       msgpack_pack_int64 (pk, b0 * bin_us);
    fx_pattern_str (pk, "bins");        msgpack_pack_uint64 (pk, bins);
    fx_pattern_str (pk, "sources");     msgpack_pack_uint64 (pk, p->sources);
    fx_pattern_str (pk, "points");      msgpack_pack_uint64 (pk, n);
    fx_pattern_str (pk, "width");       msgpack_pack_uint32 (pk, w);
    fx_pattern_str (pk, "height");      msgpack_pack_uint32 (pk, h);
    fx_pattern_str (pk, "cell_bytes");  msgpack_pack_uint32 (pk, 4);
    fx_pattern_str (pk, "raster");      msgpack_pack_bin_with_body (pk, z.size ? z.data : "", z.size);
    fx_pattern_str (pk, "offset");      msgpack_pack_uint64 (pk, 0);
    fx_pattern_str (pk, "limit");       msgpack_pack_uint32 (pk, p->limit);
    fx_pattern_str (pk, "next_offset");
    if (ns < n)
        msgpack_pack_uint32 (pk, ns);
    else
        msgpack_pack_nil (pk);
    fx_pattern_str (pk, "sample");
    msgpack_pack_array (pk, ns);
    for (uint32_t i = 0; i < ns; i++) {
        msgpack_pack_array (pk, 2);
        msgpack_pack_int64 (pk, pts [i][1]);
        msgpack_pack_int64 (pk, pts [i][0]);
    }
    uint32_t nsrc = 0;
    for (uint32_t i = 0; i < ns; i++)
        nsrc += i == 0 || pts [i][0] != pts [i - 1][0];
    fx_pattern_str (pk, "sample_sources");
    msgpack_pack_array (pk, nsrc);
    for (uint32_t i = 0; i < ns; i++)
        if (i == 0 || pts [i][0] != pts [i - 1][0]) {
            char ip [32];
            snprintf (ip, sizeof ip, "192.0.%u.%u", (unsigned) (pts [i][0] >> 8) & 0xff,
                      (unsigned) pts [i][0] & 0xff);
            msgpack_pack_array (pk, 2);
            msgpack_pack_int64 (pk, pts [i][0]);
            fx_pattern_str (pk, ip);
        }
    fx_pattern_str (pk, "exact");
    if (p->inexact)
        msgpack_pack_false (pk);
    else
        msgpack_pack_true (pk);
    msgpack_sbuffer_destroy (&z);
    free (cells);
}

#endif
