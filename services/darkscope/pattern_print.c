/*  pattern_print.c - `darkscope query pattern` output; see pattern_print.h. */
#include "pattern_print.h"
#include "pattern_reply.h"
#include "json.h"
#include "text.h"
#include "tz.h"
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define S_MAP_COLS  64                  //  character map of the raster
#define S_MAP_ROWS  16

//  The raster folded into at most S_MAP_COLS x S_MAP_ROWS characters, each
//  a density step of log(points) relative to the fullest character.
static void
s_print_map (FILE *out, const ds_pattern_reply_t *r)
{
    static const char steps [] = " .:-=+*#%@";
    uint32_t cols = r->width < S_MAP_COLS ? r->width : S_MAP_COLS;
    uint32_t rows = r->height < S_MAP_ROWS ? r->height : S_MAP_ROWS;
    if (!cols || !rows)
        return;
    uint64_t *sum = calloc ((size_t) cols * rows, sizeof *sum);
    if (!sum)
        return;
    uint64_t max = 0;
    for (uint32_t y = 0; y < r->height; y++)
        for (uint32_t x = 0; x < r->width; x++) {
            uint64_t *s = &sum [(size_t) y * rows / r->height * cols + (size_t) x * cols / r->width];
            *s += r->cells [(size_t) y * r->width + x];
            max = *s > max ? *s : max;
        }
    fprintf (out, "\n  tokens (rows) by time (columns), darker = more points:\n");
    for (uint32_t y = 0; y < rows; y++) {
        fputs ("  |", out);
        for (uint32_t x = 0; x < cols; x++) {
            uint64_t v = sum [(size_t) y * cols + x];
            int k = v == 0 ? 0 : 1 + (int) (8.0 * log1p ((double) v) / log1p ((double) max));
            fputc (steps [k > 9 ? 9 : k], out);
        }
        fputs ("|\n", out);
    }
    free (sum);
}

static int
s_print_table (FILE *out, const ds_pattern_reply_t *r)
{
    //  In UTC: the reply does not name the shards' zone.
    char a [40], b [40], t0 [40], t1 [40];
    ds_tz_format (ds_tz_utc (), r->from_us, t0);
    ds_tz_format (ds_tz_utc (), r->to_us, t1);
    t0 [16] = t1 [16] = 0;                          //  to the minute
    fprintf (out, "Activity pattern of %s%s%s, %s to %s (%s), %" PRId64 " s bins\n",
             r->class_name [0] ? "class \"" : "all sources", r->class_name, r->class_name [0] ? "\"" : "",
             t0, t1, ds_tz_name (ds_tz_utc ()), r->bin_s);
    fprintf (out, "  %s sources, %s (source, bin) points%s\n", ds_text_group ((int64_t) r->sources, a, sizeof a),
             ds_text_group ((int64_t) r->points, b, sizeof b),
             r->exact ? "" : " (approximate: the shards changed during the query)");
    uint64_t busy = 0, max = 0;
    for (size_t i = 0; i < (size_t) r->width * r->height; i++) {
        busy += r->cells [i] > 0;
        max = r->cells [i] > max ? r->cells [i] : max;
    }
    fprintf (out, "  raster %u x %u cells (%" PRIu64 " bins, %" PRIu64 " sources): %" PRIu64
             " cells hold points, at most %" PRIu64 " in one\n",
             r->width, r->height, r->bins, r->sources, busy, max);
    s_print_map (out, r);
    if (r->n_sample) {
        fprintf (out, "\n  sample: points %s to %s of %s in (address hash, address, bin) order, "
                 "%u sources\n", ds_text_group ((int64_t) r->offset, a, sizeof a),
                 ds_text_group ((int64_t) (r->offset + r->n_sample - 1), b, sizeof b),
                 ds_text_group ((int64_t) r->points, t0, sizeof t0), r->n_sample_sources);
        if (r->has_next)
            fprintf (out, "  next page: --offset %" PRIu64 " (--csv prints the points)\n", r->next_offset);
        else
            fprintf (out, "  this is the last page (--csv prints the points)\n");
    }
    return 0;
}

static int
s_print_csv (FILE *out, const ds_pattern_reply_t *r)
{
    fputs ("bin_start_us,token,ip\n", out);
    for (uint32_t i = 0; i < r->n_sample; i++) {
        const char *ip = ds_pattern_reply_ip (r, r->sample_token [i]);
        fprintf (out, "%" PRId64 ",%" PRIu64 ",", r->sample_bin [i], r->sample_token [i]);
        ds_text_csv (out, ip, strlen (ip));
        fputc ('\n', out);
    }
    return 0;
}

//  The result as JSON, the raster as rows of counts.
static int
s_print_json (FILE *out, const msgpack_object *o, const ds_pattern_reply_t *r)
{
    fputc ('{', out);
    for (uint32_t i = 0; i < o->via.map.size; i++) {
        const msgpack_object_kv *kv = &o->via.map.ptr [i];
        if (i)
            fputc (',', out);
        if (ds_json_write (out, &kv->key))
            return -1;
        fputc (':', out);
        if (kv->key.type == MSGPACK_OBJECT_STR && kv->key.via.str.size == 6
        &&  memcmp (kv->key.via.str.ptr, "raster", 6) == 0) {
            fputc ('[', out);
            for (uint32_t y = 0; y < r->height; y++) {
                fputs (y ? ",[" : "[", out);
                for (uint32_t x = 0; x < r->width; x++)
                    fprintf (out, x ? ",%" PRIu64 : "%" PRIu64, r->cells [(size_t) y * r->width + x]);
                fputc (']', out);
            }
            fputc (']', out);
        }
        else
        if (ds_json_write (out, &kv->val))
            return -1;
    }
    fputs ("}\n", out);
    return 0;
}

int
ds_pattern_print (FILE *out, const msgpack_object *result, ds_format_t format)
{
    ds_pattern_reply_t r;
    char err [256];
    int rc = ds_pattern_reply_read (result, &r, err, sizeof err);
    if (rc)
        fprintf (stderr, "darkscope: %s\n", err);
    else
    if (format == DS_FORMAT_JSON)
        rc = s_print_json (out, result, &r);
    else
    if (format == DS_FORMAT_CSV)
        rc = s_print_csv (out, &r);
    else
        rc = s_print_table (out, &r);
    ds_pattern_reply_free (&r);
    return rc;
}
