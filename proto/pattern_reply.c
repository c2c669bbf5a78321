/*  pattern_reply.c - reading the `pattern` result; see pattern_reply.h.

    The object comes from ds_mp_unpack (validated, bounded); every count
    read here is checked against the object's real sizes and against
    DS_PATTERN_* ceilings before anything is allocated for it.
*/
#include "pattern_reply.h"
#include "pattern_codec.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
s_fail (char *err, size_t err_size, const char *fmt, ...)
{
    va_list args;
    va_start (args, fmt);
    vsnprintf (err, err_size, fmt, args);
    va_end (args);
    return -1;
}

static bool
s_int (const msgpack_object *o, int64_t *v)
{
    if (!o)
        return false;
    if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER && o->via.u64 <= INT64_MAX) {
        *v = (int64_t) o->via.u64;
        return true;
    }
    if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
        *v = o->via.i64;
        return true;
    }
    return false;
}

static bool
s_uint (const msgpack_object *o, uint64_t *v)
{
    if (!o || o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
        return false;
    *v = o->via.u64;
    return true;
}

void
ds_pattern_reply_free (ds_pattern_reply_t *r)
{
    free (r->cells);
    free (r->sample_bin);
    free (r->sample_token);
    free (r->source_token);
    free (r->source_ip);
    memset (r, 0, sizeof *r);
}

//  The scalars and the raster.
static int
s_read_head (const msgpack_object *o, ds_pattern_reply_t *r, char *err, size_t err_size)
{
    const msgpack_object *cls = ds_mp_get (o, "class"), *ex = ds_mp_get (o, "exact");
    uint64_t width, height, cell_bytes, offset;
    if (!s_int (ds_mp_get (o, "bin_s"), &r->bin_s) || r->bin_s < 1 || r->bin_s > DS_PATTERN_BIN_S_MAX
    ||  !cls || cls->type != MSGPACK_OBJECT_STR || cls->via.str.size >= sizeof r->class_name
    ||  !s_int (ds_mp_get (o, "from_us"), &r->from_us) || !s_int (ds_mp_get (o, "to_us"), &r->to_us)
    ||  !s_int (ds_mp_get (o, "x0_us"), &r->x0_us) || !s_uint (ds_mp_get (o, "bins"), &r->bins)
    ||  !s_uint (ds_mp_get (o, "sources"), &r->sources) || !s_uint (ds_mp_get (o, "points"), &r->points)
    ||  !s_uint (ds_mp_get (o, "width"), &width) || !s_uint (ds_mp_get (o, "height"), &height)
    ||  !s_uint (ds_mp_get (o, "cell_bytes"), &cell_bytes) || !s_uint (ds_mp_get (o, "offset"), &offset)
    ||  !s_int (ds_mp_get (o, "limit"), &r->limit) || !ex || ex->type != MSGPACK_OBJECT_BOOLEAN)
        return s_fail (err, err_size, "pattern result: a field is missing or of the wrong type");
    memcpy (r->class_name, cls->via.str.ptr, cls->via.str.size);
    r->class_name [cls->via.str.size] = 0;
    r->offset = offset;
    r->exact = ex->via.boolean;
    const msgpack_object *next = ds_mp_get (o, "next_offset");
    if (!next || (next->type != MSGPACK_OBJECT_NIL && !s_uint (next, &r->next_offset)))
        return s_fail (err, err_size, "pattern result: next_offset is not an integer or nil");
    r->has_next = next->type != MSGPACK_OBJECT_NIL;
    if (width > DS_PATTERN_SIDE_MAX || height > DS_PATTERN_SIDE_MAX || width > r->bins
    ||  height > r->sources || (cell_bytes != 4 && cell_bytes != 8))
        return s_fail (err, err_size, "pattern result: a %llu x %llu raster of %llu-byte cells "
                       "does not fit %llu bins and %llu sources", (unsigned long long) width,
                       (unsigned long long) height, (unsigned long long) cell_bytes,
                       (unsigned long long) r->bins, (unsigned long long) r->sources);
    r->width = (uint32_t) width;
    r->height = (uint32_t) height;
    const msgpack_object *raster = ds_mp_get (o, "raster");
    if (!raster || raster->type != MSGPACK_OBJECT_BIN)
        return s_fail (err, err_size, "pattern result: raster is not a bin");
    size_t n = (size_t) width * height;
    r->cells = calloc (n ? n : 1, sizeof *r->cells);
    if (!r->cells)
        return s_fail (err, err_size, "out of memory");
    int rc = ds_pattern_cells_add ((const uint8_t *) raster->via.bin.ptr, raster->via.bin.size, n,
                                   (uint32_t) cell_bytes, r->cells, 8);
    if (rc)
        return s_fail (err, err_size, "pattern result: raster is not %zu cells (%s)", n, ds_result_str (rc));
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += r->cells [i];
    if (n && total != r->points && r->exact)
        return s_fail (err, err_size, "pattern result: the raster holds %llu points, not %llu",
                       (unsigned long long) total, (unsigned long long) r->points);
    return 0;
}

int
ds_pattern_reply_read (const msgpack_object *o, ds_pattern_reply_t *r, char *err, size_t err_size)
{
    memset (r, 0, sizeof *r);
    if (!o || o->type != MSGPACK_OBJECT_MAP)
        return s_fail (err, err_size, "pattern result is not a map");
    if (s_read_head (o, r, err, err_size))
        return -1;
    const msgpack_object *sample = ds_mp_get (o, "sample"), *srcs = ds_mp_get (o, "sample_sources");
    if (!sample || sample->type != MSGPACK_OBJECT_ARRAY || !srcs || srcs->type != MSGPACK_OBJECT_ARRAY
    ||  sample->via.array.size > DS_PATTERN_LIMIT_MAX || srcs->via.array.size > sample->via.array.size)
        return s_fail (err, err_size, "pattern result: sample or sample_sources is not an array "
                       "within the limit");
    uint32_t ns = sample->via.array.size, nsrc = srcs->via.array.size;
    r->sample_bin = malloc ((ns ? ns : 1) * sizeof *r->sample_bin);
    r->sample_token = malloc ((ns ? ns : 1) * sizeof *r->sample_token);
    r->source_token = malloc ((nsrc ? nsrc : 1) * sizeof *r->source_token);
    r->source_ip = malloc ((nsrc ? nsrc : 1) * sizeof *r->source_ip);
    if (!r->sample_bin || !r->sample_token || !r->source_token || !r->source_ip)
        return s_fail (err, err_size, "out of memory");
    for (uint32_t i = 0; i < nsrc; i++) {
        const msgpack_object *e = &srcs->via.array.ptr [i];
        const msgpack_object *ip = e->type == MSGPACK_OBJECT_ARRAY && e->via.array.size == 2
                                 ? &e->via.array.ptr [1] : NULL;
        if (!ip || !s_uint (&e->via.array.ptr [0], &r->source_token [i]) || ip->type != MSGPACK_OBJECT_STR
        ||  ip->via.str.size >= sizeof r->source_ip [i] || r->source_token [i] >= r->sources
        ||  (i > 0 && r->source_token [i] <= r->source_token [i - 1]))
            return s_fail (err, err_size, "pattern result: sample_sources[%u] is not [token, ip] "
                           "in increasing token order below sources", i);
        memcpy (r->source_ip [i], ip->via.str.ptr, ip->via.str.size);
        r->source_ip [i][ip->via.str.size] = 0;
    }
    r->n_sample_sources = nsrc;
    for (uint32_t i = 0; i < ns; i++) {
        const msgpack_object *e = &sample->via.array.ptr [i];
        if (e->type != MSGPACK_OBJECT_ARRAY || e->via.array.size != 2
        ||  !s_int (&e->via.array.ptr [0], &r->sample_bin [i])
        ||  !s_uint (&e->via.array.ptr [1], &r->sample_token [i])
        ||  !ds_pattern_reply_ip (r, r->sample_token [i]))
            return s_fail (err, err_size, "pattern result: sample[%u] is not [bin_start_us, token] "
                           "of a sampled source", i);
    }
    r->n_sample = ns;
    if ((r->limit >= 0 && ns > (uint64_t) r->limit) || r->offset + ns > r->points
    ||  (r->has_next && r->next_offset != r->offset + ns))
        return s_fail (err, err_size, "pattern result: the sample page does not fit offset, limit "
                       "and points");
    return 0;
}

const char *
ds_pattern_reply_ip (const ds_pattern_reply_t *r, uint64_t token)
{
    uint32_t lo = 0, hi = r->n_sample_sources;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (r->source_token [mid] < token)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < r->n_sample_sources && r->source_token [lo] == token ? r->source_ip [lo] : NULL;
}

int64_t
ds_pattern_reply_col (const ds_pattern_reply_t *r, int64_t bin_start_us)
{
    int64_t bin_us = r->bin_s * 1000000;
    if (!r->width || bin_start_us < r->x0_us || (bin_start_us - r->x0_us) / bin_us >= (int64_t) r->bins)
        return -1;
    uint64_t i = (uint64_t) ((bin_start_us - r->x0_us) / bin_us);
    return (int64_t) ((unsigned __int128) i * r->width / r->bins);
}

int64_t
ds_pattern_reply_row (const ds_pattern_reply_t *r, uint64_t token)
{
    if (!r->height || token >= r->sources)
        return -1;
    return (int64_t) ((unsigned __int128) token * r->height / r->sources);
}
