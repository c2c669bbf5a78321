/*  pattern.c - the activity-pattern partial of one store: per (source,
    time bin) with a packet, a point; sources with their first activity.
*/
#include "store_internal.h"
#include "tzday.h"
#include <msgpack.h>
#include <stdlib.h>
#include <string.h>

static void
s_pack_str (msgpack_packer *pk, const char *s)
{
    size_t n = strlen (s);
    msgpack_pack_str (pk, n);
    msgpack_pack_str_body (pk, s, n);
}

typedef struct {
    uint32_t src;
    int64_t bin;
} s_point_t;

//  Index of the first bin of b whose minute is >= minute.
static uint32_t
s_bins_lower (const s_bins_t *b, int64_t minute)
{
    uint32_t lo = 0, hi = b->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (S_BIN_MINUTE (b->v [mid]) < minute)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

//  The pattern partial: {"s": [addr, first_ts, ...], "p": [bin, index, ...]}
//  (flat arrays; index into the shard's own source list "s").
int
store_part_pattern (ds_store_t *self, const ds_query_t *q, msgpack_packer *pk, char *err, size_t err_size)
{
    int32_t first, last;
    if (store_window (self, q, &first, &last, err, err_size))
        return -1;
    if (q->bin_s <= 0 || q->bin_s % 60 || q->bin_s > 366LL * 86400) {
        store_err (err, err_size, "%s", "bin_s must be a positive multiple of 60 (at most 366 days)");
        return -1;
    }
    if ((q->from_us != INT64_MIN && q->from_us % S_MINUTE_US)
    ||  (q->to_us != INT64_MAX && q->to_us % S_MINUTE_US)) {
        store_err (err, err_size, "%s", "from_us and to_us must be multiples of 60 s (60000000 us)");
        return -1;
    }
    int64_t dlo = ds_day_start_us (first), dhi = ds_day_start_us (last + 1);
    if (dlo % S_MINUTE_US || dhi % S_MINUTE_US) {
        store_err (err, err_size, "%s", "this time zone's midnight is not on a minute boundary");
        return -1;
    }
    int64_t lo = q->from_us > dlo ? q->from_us : dlo;
    int64_t hi = q->to_us < dhi ? q->to_us : dhi;
    int64_t bin_us = q->bin_s * 1000000;
    size_t n = self->n_srcs ? self->n_srcs : 1;
    int64_t *firsts = malloc (n * sizeof *firsts);
    uint8_t *ok = malloc (n);
    uint32_t *index = malloc (n * sizeof *index);
    uint32_t *from = malloc (n * sizeof *from);
    s_point_t *points = NULL;
    int rv = -1;
    if (!firsts || !ok || !index || !from || store_bins_normalize_all (self))
        goto done;
    //  Class filter: the source's class resolved over the window.
    if (q->class_name [0]) {
        uint16_t *cls = malloc (n * sizeof *cls);
        if (!cls || store_classes (self, first, last, cls)) {
            free (cls);
            goto done;
        }
        for (uint32_t s = 0; s < self->n_srcs; s++)
            ok [s] = strcmp (self->names [cls [s]], q->class_name) == 0;
        free (cls);
    }
    else
        memset (ok, 1, n);
    for (size_t i = 0; i < n; i++)
        firsts [i] = INT64_MAX;
    //  Each source's bins are sorted by minute: binary search for the
    //  range's minutes [mlo, mhi) (lo and hi are multiples of a minute);
    //  the points come out sorted by (source, bin).
    int64_t mlo = lo / S_MINUTE_US, mhi = hi / S_MINUTE_US;
    size_t np = 0;
    for (uint32_t s = 0; s < self->n_srcs; s++) {
        if (!ok [s] || lo >= hi) {
            from [s] = index [s] = 0;
            continue;
        }
        from [s] = s_bins_lower (&self->bins [s], mlo);
        index [s] = s_bins_lower (&self->bins [s], mhi);   //  end, for now
        np += index [s] - from [s];
    }
    points = malloc ((np ? np : 1) * sizeof *points);
    if (!points)
        goto done;
    size_t nu = 0;
    for (uint32_t s = 0; s < self->n_srcs; s++) {
        const uint64_t *v = self->bins [s].v;
        for (uint32_t k = from [s]; k < index [s]; k++) {
            int64_t start = (int64_t) S_BIN_MINUTE (v [k]) * S_MINUTE_US;
            if (k == from [s])
                firsts [s] = start + (int64_t) (v [k] & S_BIN_US_MASK);
            int64_t bin = s_floor_div (start, bin_us) * bin_us;
            if (nu == 0 || points [nu - 1].src != s || points [nu - 1].bin != bin)
                points [nu++] = (s_point_t) { s, bin };
        }
    }
    uint32_t nsel = 0;
    for (uint32_t s = 0; s < self->n_srcs; s++)
        if (firsts [s] != INT64_MAX)
            index [s] = nsel++;
    msgpack_pack_map (pk, 2);
    s_pack_str (pk, "s");
    msgpack_pack_array (pk, (size_t) nsel * 2);
    for (uint32_t s = 0; s < self->n_srcs; s++)
        if (firsts [s] != INT64_MAX) {
            msgpack_pack_bin (pk, 16);
            msgpack_pack_bin_body (pk, self->srcs [s].addr.b, 16);
            msgpack_pack_int64 (pk, firsts [s]);
        }
    s_pack_str (pk, "p");
    msgpack_pack_array (pk, nu * 2);
    for (size_t i = 0; i < nu; i++) {
        msgpack_pack_int64 (pk, points [i].bin);
        msgpack_pack_uint32 (pk, index [points [i].src]);
    }
    rv = 0;
done:
    if (rv)
        store_err (err, err_size, "%s", "out of memory");
    free (firsts); free (ok); free (index); free (from); free (points);
    return rv;
}
