/*  partial_codec.c - partial requests and the overview family's partials;
    see partial_codec.h and PROTOCOL.md ("Partials").

    Every message is a fixed-length DSK array read and written through
    mpfield.h: lists of numbers are the tables below (one description packs
    and loads each, checking ports, protos and booleans), lists with names
    (classes, their services) are msgpack arrays, and each decoder is a
    straight list of reads with one exit.
*/
#include "partial_codec.h"
#include "mpfield.h"
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

//  Fields of each message, header included.
enum {
    S_REQ_FIELDS = 8, S_RANGE_FIELDS = 9, S_OVERVIEW_FIELDS = 16,
    S_PPSRC_FIELDS = 6, S_STATUS_FIELDS = 32
};

//  Least bytes a class / a (service, packets) pair takes on the wire:
//  [name, senders, packets, pps, services] = 1 + 2 + 1 + 1 + 2 + 1;
//  [name, packets] = 1 + 2 + 1.
#define S_CLASS_MIN_BYTES   8
#define S_SERVICE_MIN_BYTES 4

//  The tables of the messages (PROTOCOL.md gives their rows).
#define S_PP(f, k)      { offsetof (ds_part_pp_t, f), k }
#define S_PP_KEY        S_PP (port, DS_MPF_PORT), S_PP (proto, DS_MPF_PROTO)
static const ds_mpf_table_t s_req_pps = {
    "pps", sizeof (ds_part_pp_t), DS_PART_TOP_PPS, 2, { S_PP_KEY }
};
static const ds_mpf_table_t s_window_pps = {
    "window pps", sizeof (ds_part_pp_t), DS_PART_PPS_MAX, 3, { S_PP_KEY, S_PP (packets, DS_MPF_U64) }
};
static const ds_mpf_table_t s_last_pps = {
    "last-day pps", sizeof (ds_part_pp_t), DS_PART_PPS_MAX, 4,
    { S_PP_KEY, S_PP (packets, DS_MPF_U64), S_PP (sources, DS_MPF_U64) }
};
static const ds_mpf_table_t s_class_pps = {
    "class pps", sizeof (ds_part_pp_t), DS_PART_PPS_MAX, 3, { S_PP_KEY, S_PP (packets, DS_MPF_U64) }
};
static const ds_mpf_table_t s_ppsrc_pps = {
    "pp sources", sizeof (ds_part_pp_t), DS_PART_TOP_PPS, 3, { S_PP_KEY, S_PP (sources, DS_MPF_U64) }
};
static const ds_mpf_table_t s_hist = {
    "histogram", sizeof (ds_part_hist_t), UINT32_MAX, 2,
    { { offsetof (ds_part_hist_t, packets), DS_MPF_U64 }, { offsetof (ds_part_hist_t, sources), DS_MPF_U64 } }
};
#define S_DAY_COL(f)    { offsetof (ds_part_day_t, f), DS_MPF_U64 }
static const ds_mpf_table_t s_days = {
    "days", sizeof (ds_part_day_t), DS_PART_DAYS_MAX, 4,
    { S_DAY_COL (sources), S_DAY_COL (filtered), S_DAY_COL (first_seen),
      S_DAY_COL (first_seen_filtered) }
};
#define S_SENSOR_COLS(type, s) \
    { offsetof (type, s sensor), DS_MPF_U32 }, { offsetof (type, s eos), DS_MPF_BOOL }, \
    { offsetof (type, s packets_read), DS_MPF_U64 }, { offsetof (type, s non_ip), DS_MPF_U64 }, \
    { offsetof (type, s malformed), DS_MPF_U64 }, { offsetof (type, s dropped), DS_MPF_U64 }, \
    { offsetof (type, s bad_time), DS_MPF_U64 }
static const ds_mpf_table_t s_sensors = {
    "sensors", sizeof (ds_part_sensor_t), DS_PART_SENSORS_MAX, 7,
    { S_SENSOR_COLS (ds_part_sensor_t, ) }
};
#define S_STREAM_COL(f) { offsetof (ds_part_stream_t, f), DS_MPF_U64 }
#define S_STREAM_TIME(f) { offsetof (ds_part_stream_t, f), DS_MPF_I64 }
static const ds_mpf_table_t s_streams = {
    "streams", sizeof (ds_part_stream_t), DS_PART_SENSORS_MAX, 21,
    { S_SENSOR_COLS (ds_part_stream_t, s.), S_STREAM_COL (next_seq), S_STREAM_COL (batches),
      S_STREAM_COL (records), S_STREAM_COL (gaps), S_STREAM_COL (replays), S_STREAM_COL (epoch),
      S_STREAM_COL (epochs), S_STREAM_COL (stale), S_STREAM_COL (stats), S_STREAM_COL (pcap_dropped),
      S_STREAM_TIME (last_batch_us), S_STREAM_TIME (last_stats_us), S_STREAM_TIME (lag_us),
      S_STREAM_TIME (newest_us) }
};

//  Reads a window of days: first <= last, at most DS_PART_DAYS_MAX days.
static bool
s_window (ds_mpf_in_t *in, int32_t *first, int32_t *last)
{
    if (!ds_mpf_int32 (in, "first_day", first) || !ds_mpf_int32 (in, "last_day", last))
        return false;
    if (*first > *last)
        return ds_mpf_fail (in, DS_ERR_MALFORMED, "first_day %d is after last_day %d", *first, *last);
    if ((int64_t) *last - *first >= DS_PART_DAYS_MAX)
        return ds_mpf_fail (in, DS_ERR_TOO_BIG, "window of more than %d days", DS_PART_DAYS_MAX);
    return true;
}

//  ---------------------------------------------------------------------
//  Request

//  Checks a request's fields against its kind: 0, or the refusal.
static int
s_req_check (const ds_part_req_t *req)
{
    bool window = req->kind == DS_PART_OVERVIEW || req->kind == DS_PART_PPSRC;
    if (req->kind < DS_PART_RANGE || req->kind > DS_PART_STATUS)
        return DS_ERR_MALFORMED;
    if (window && (req->first_day > req->last_day
                   || (int64_t) req->last_day - req->first_day >= DS_PART_DAYS_MAX))
        return DS_ERR_MALFORMED;
    if (!window && (req->first_day || req->last_day))
        return DS_ERR_MALFORMED;
    if (req->kind != DS_PART_OVERVIEW && req->min_packets)
        return DS_ERR_MALFORMED;
    if (req->n_pps > (req->kind == DS_PART_PPSRC ? (uint32_t) DS_PART_TOP_PPS : 0u))
        return DS_ERR_MALFORMED;
    return DS_OK;
}

//  Byte layout of a partial request (DS_MSG_PART_REQ = 7): one msgpack
//  array of 8, integers in msgpack's smallest encoding; fields a kind does
//  not use are 0 (the empty bin for pps), so equal requests are equal bytes
//  (shards cache answers by request bytes):
//
//    [0]  str  "DSK"          magic
//    [1]  uint 1              protocol version
//    [2]  uint 7              type
//    [3]  uint kind           1 range, 2 overview, 3 ppsrc, 4 status
//    [4]  int  first_day      overview, ppsrc: day number (days since
//    [5]  int  last_day       1970-01-01, local), first <= last, < 36600 days
//    [6]  uint min_packets    overview: the filter
//    [7]  bin  pps            ppsrc: 0..3 rows of 5 bytes: port int32 LE
//                             (-1 for "-"), proto uint8
//
//  `out` is emptied first.
int
ds_part_req_encode (const ds_part_req_t *req, msgpack_sbuffer *out)
{
    int rc = s_req_check (req);
    if (rc)
        return rc;
    ds_mpf_out_t o;
    ds_mpf_out_begin (&o, out, 64, S_REQ_FIELDS, DS_MSG_PART_REQ);
    msgpack_pack_uint8 (&o.pk, (uint8_t) req->kind);
    msgpack_pack_int32 (&o.pk, req->first_day);
    msgpack_pack_int32 (&o.pk, req->last_day);
    msgpack_pack_uint64 (&o.pk, req->min_packets);
    ds_mpf_pack_table (&o, &s_req_pps, req->pps, req->n_pps);
    return ds_mpf_out_end (&o);
}

int
ds_part_req_decode (const uint8_t *data, size_t size, ds_part_req_t *req,
                    char *err, size_t err_size)
{
    ds_mpf_in_t in;
    ds_mpf_in_init (&in, data, size, err, err_size);
    ds_part_req_t r;
    memset (&r, 0, sizeof r);
    uint64_t kind = 0;
    if (ds_mpf_header (&in, DS_MSG_PART_REQ, S_REQ_FIELDS, "partial request")
    &&  ds_mpf_uint (&in, "kind", DS_PART_STATUS, &kind)
    &&  ds_mpf_int32 (&in, "first_day", &r.first_day) && ds_mpf_int32 (&in, "last_day", &r.last_day)
    &&  ds_mpf_uint (&in, "min_packets", UINT64_MAX, &r.min_packets)
    &&  ds_mpf_table (&in, &s_req_pps, r.pps, NULL, &r.n_pps)
    &&  ds_mpf_in_end (&in, "partial request")) {
        r.kind = (int) kind;
        if (s_req_check (&r))
            ds_mpf_fail (&in, DS_ERR_MALFORMED, "partial request: fields do not fit kind %d", r.kind);
        else
            *req = r;
    }
    return in.rc;
}

//  ---------------------------------------------------------------------
//  RANGE

//  Byte layout of a RANGE partial (DS_MSG_PART_RANGE = 8): one msgpack
//  array of 8:
//
//    [0-2] "DSK", 1, 8
//    [3]  str  tz             the shard's time zone (1..127 bytes)
//    [4]  uint generation     changes whenever the shard's store does
//    [5]  bool any            false: no record yet
//    [6]  int  first_day      first day seen (day number), 0 if none
//    [7]  int  last_day       last day seen, 0 if none
//
//  `out` is emptied first.
int
ds_part_range_encode (const ds_part_range_t *part, msgpack_sbuffer *out)
{
    ds_mpf_out_t o;
    ds_mpf_out_begin (&o, out, 64 + sizeof part->tz, S_RANGE_FIELDS, DS_MSG_PART_RANGE);
    ds_mpf_pack_text (&o, part->tz, sizeof part->tz, false, false);
    msgpack_pack_uint64 (&o.pk, part->generation);
    ds_mpf_pack_bool (&o, part->any);
    msgpack_pack_int32 (&o.pk, part->any ? part->first_day : 0);
    msgpack_pack_int32 (&o.pk, part->any ? part->last_day : 0);
    msgpack_pack_uint32 (&o.pk, part->retain_days);
    return ds_mpf_out_end (&o);
}

int
ds_part_range_decode (const uint8_t *data, size_t size, ds_part_range_t *part,
                      char *err, size_t err_size)
{
    ds_mpf_in_t in;
    ds_mpf_in_init (&in, data, size, err, err_size);
    ds_part_range_t p;
    memset (&p, 0, sizeof p);
    uint64_t retain = 0;
    if (ds_mpf_header (&in, DS_MSG_PART_RANGE, S_RANGE_FIELDS, "range partial")
    &&  ds_mpf_text (&in, "tz", p.tz, sizeof p.tz, false, false)
    &&  ds_mpf_uint (&in, "generation", UINT64_MAX, &p.generation)
    &&  ds_mpf_bool (&in, "any", &p.any)
    &&  ds_mpf_int32 (&in, "first_day", &p.first_day) && ds_mpf_int32 (&in, "last_day", &p.last_day)
    &&  ds_mpf_uint (&in, "retain_days", DS_PART_DAYS_MAX, &retain)
    &&  ds_mpf_in_end (&in, "range partial")) {
        p.retain_days = (uint32_t) retain;
        if (p.any ? p.first_day > p.last_day : p.first_day || p.last_day)
            ds_mpf_fail (&in, DS_ERR_MALFORMED, "range partial: days %d..%d with any %d",
                    p.first_day, p.last_day, p.any);
        else
            *part = p;
    }
    return in.rc;
}

//  ---------------------------------------------------------------------
//  OVERVIEW

void
ds_part_overview_clear (ds_part_overview_t *part)
{
    if (!part)
        return;
    for (uint32_t i = 0; part->classes && i < part->n_classes; i++) {
        free (part->classes [i].pps);
        free (part->classes [i].services);
    }
    free (part->window);
    free (part->last);
    free (part->hist);
    free (part->days);
    free (part->classes);
    free (part->sensors);
    memset (part, 0, sizeof *part);
}

//  Byte layout of an OVERVIEW partial (DS_MSG_PART_OVERVIEW = 9): one
//  msgpack array of 16; tables are bins of rows of little-endian fields:
//
//    [0-2] "DSK", 1, 9
//    [3]  str  tz              the shard's time zone
//    [4]  int  first_day       the window answered (day numbers)
//    [5]  int  last_day
//    [6]  uint window_sources  sources active in the window
//    [7]  uint last_sources    sources active on last_day
//    [8]  bin  window pps      rows of 13: port int32, proto uint8, packets uint64
//    [9]  bin  last-day pps    rows of 21: port int32, proto uint8, packets
//                              uint64, sources uint64
//    [10] bin  histogram       rows of 16: packets uint64 (sent by a source over
//                              the window), sources uint64 (that sent that many)
//    [11] bin  days            last_day - first_day + 1 rows of 32, from
//                              first_day: sources, filtered, first_seen,
//                              first_seen_filtered, each uint64
//    [12] array classes        <= 65535, each an array of 5:
//           [0] str  name            1..63 bytes
//           [1] uint senders         sources of the class kept on last_day
//           [2] uint packets         their packets on last_day
//           [3] bin  pps             rows of 13 as [8]: their packets per pp
//           [4] array services       of [str name, uint packets]
//                                    (<= 2^20 services in all classes)
//    [13] uint gaps            batches missed, all streams of the shard
//    [14] bin  sensors         rows of 45: sensor uint32, eos uint8 (0/1),
//                              packets_read, non_ip, malformed, dropped,
//                              bad_time uint64 (the sensor's over every epoch)
//    [15] uint sensors_expected  sensors whose EOS completes the shard's input
//
//  Ports are 0..65535 or -1 ("-"), protos 0..4 (record.h).  `out` is
//  emptied first.
int
ds_part_overview_encode (const ds_part_overview_t *part, msgpack_sbuffer *out)
{
    ds_mpf_out_t o;
    size_t reserve = 256 + (size_t) part->n_window * 13 + (size_t) part->n_last * 21
                   + (size_t) part->n_hist * 16 + (size_t) part->n_days * 32
                   + (size_t) part->n_classes * 96 + (size_t) part->n_sensors * 45;
    ds_mpf_out_begin (&o, out, reserve, S_OVERVIEW_FIELDS, DS_MSG_PART_OVERVIEW);
    if (part->first_day > part->last_day
    ||  (int64_t) part->last_day - part->first_day + 1 != part->n_days)
        ds_mpf_out_refuse (&o, DS_ERR_MALFORMED);
    ds_mpf_pack_text (&o, part->tz, sizeof part->tz, false, false);
    msgpack_pack_int32 (&o.pk, part->first_day);
    msgpack_pack_int32 (&o.pk, part->last_day);
    msgpack_pack_uint64 (&o.pk, part->window_sources);
    msgpack_pack_uint64 (&o.pk, part->last_sources);
    ds_mpf_pack_table (&o, &s_window_pps, part->window, part->n_window);
    ds_mpf_pack_table (&o, &s_last_pps, part->last, part->n_last);
    ds_mpf_pack_table (&o, &s_hist, part->hist, part->n_hist);
    ds_mpf_pack_table (&o, &s_days, part->days, part->n_days);
    uint32_t n_classes = part->n_classes;
    if (n_classes > DS_PART_CLASSES_MAX) {
        ds_mpf_out_refuse (&o, DS_ERR_TOO_BIG);
        n_classes = 0;
    }
    uint64_t services = 0;
    msgpack_pack_array (&o.pk, n_classes);
    for (uint32_t i = 0; i < n_classes; i++) {
        const ds_part_class_t *c = &part->classes [i];
        msgpack_pack_array (&o.pk, 5);
        ds_mpf_pack_text (&o, c->name, sizeof c->name, false, false);
        msgpack_pack_uint64 (&o.pk, c->senders);
        msgpack_pack_uint64 (&o.pk, c->packets);
        ds_mpf_pack_table (&o, &s_class_pps, c->pps, c->n_pps);
        services += c->n_services;
        msgpack_pack_array (&o.pk, c->n_services);
        for (uint32_t k = 0; k < c->n_services; k++) {
            msgpack_pack_array (&o.pk, 2);
            ds_mpf_pack_text (&o, c->services [k].name, sizeof c->services [k].name, false, false);
            msgpack_pack_uint64 (&o.pk, c->services [k].packets);
        }
    }
    if (services > DS_PART_SERVICES_MAX)
        ds_mpf_out_refuse (&o, DS_ERR_TOO_BIG);
    msgpack_pack_uint64 (&o.pk, part->gaps);
    ds_mpf_pack_table (&o, &s_sensors, part->sensors, part->n_sensors);
    msgpack_pack_uint32 (&o.pk, part->sensors_expected);
    return ds_mpf_out_end (&o);
}

//  Reads the classes array [12] of an OVERVIEW into p.
static bool
s_classes (ds_mpf_in_t *in, ds_part_overview_t *p)
{
    uint32_t n;
    if (!ds_mpf_array (in, "classes", DS_PART_CLASSES_MAX, S_CLASS_MIN_BYTES, &n)
    ||  !(p->classes = ds_mpf_alloc (in, n, sizeof *p->classes)))
        return false;
    p->n_classes = n;
    uint64_t services = 0;
    for (uint32_t i = 0; i < n; i++) {
        ds_part_class_t *c = &p->classes [i];
        uint32_t fields;
        if (!ds_mpf_array (in, "class", 5, 1, &fields))
            return false;
        if (fields != 5)
            return ds_mpf_fail (in, DS_ERR_MALFORMED, "class %u: %u fields (want 5)", i, fields);
        if (!ds_mpf_text (in, "class name", c->name, sizeof c->name, false, false)
        ||  !ds_mpf_uint (in, "class senders", UINT64_MAX, &c->senders)
        ||  !ds_mpf_uint (in, "class packets", UINT64_MAX, &c->packets)
        ||  !ds_mpf_table (in, &s_class_pps, NULL, (void **) &c->pps, &c->n_pps)
        ||  !ds_mpf_array (in, "class services", DS_PART_SERVICES_MAX, S_SERVICE_MIN_BYTES, &c->n_services))
            return false;
        services += c->n_services;
        if (services > DS_PART_SERVICES_MAX)
            return ds_mpf_fail (in, DS_ERR_TOO_BIG, "more than %u services in all classes",
                           DS_PART_SERVICES_MAX);
        uint32_t n_services = c->n_services;
        c->n_services = 0;          //  counts what is allocated, for clear()
        if (!(c->services = ds_mpf_alloc (in, n_services, sizeof *c->services)))
            return false;
        c->n_services = n_services;
        for (uint32_t k = 0; k < n_services; k++) {
            ds_part_service_t *s = &c->services [k];
            if (!ds_mpf_array (in, "service", 2, 1, &fields))
                return false;
            if (fields != 2)
                return ds_mpf_fail (in, DS_ERR_MALFORMED, "class %u service %u: %u fields (want 2)",
                               i, k, fields);
            if (!ds_mpf_text (in, "service name", s->name, sizeof s->name, false, false)
            ||  !ds_mpf_uint (in, "service packets", UINT64_MAX, &s->packets))
                return false;
        }
    }
    return true;
}

int
ds_part_overview_decode (const uint8_t *data, size_t size, ds_part_overview_t *part,
                         char *err, size_t err_size)
{
    ds_mpf_in_t in;
    ds_mpf_in_init (&in, data, size, err, err_size);
    ds_part_overview_t *p = part;
    memset (p, 0, sizeof *p);
    if (ds_mpf_header (&in, DS_MSG_PART_OVERVIEW, S_OVERVIEW_FIELDS, "overview partial")
    &&  ds_mpf_text (&in, "tz", p->tz, sizeof p->tz, false, false)
    &&  s_window (&in, &p->first_day, &p->last_day)
    &&  ds_mpf_uint (&in, "window_sources", UINT64_MAX, &p->window_sources)
    &&  ds_mpf_uint (&in, "last_sources", UINT64_MAX, &p->last_sources)
    &&  ds_mpf_table (&in, &s_window_pps, NULL, (void **) &p->window, &p->n_window)
    &&  ds_mpf_table (&in, &s_last_pps, NULL, (void **) &p->last, &p->n_last)
    &&  ds_mpf_table (&in, &s_hist, NULL, (void **) &p->hist, &p->n_hist)
    &&  ds_mpf_table (&in, &s_days, NULL, (void **) &p->days, &p->n_days)) {
        if ((int64_t) p->last_day - p->first_day + 1 != p->n_days)
            ds_mpf_fail (&in, DS_ERR_MALFORMED, "overview partial: %u days for a window of %lld",
                    p->n_days, (long long) p->last_day - p->first_day + 1);
    }
    if (in.rc == DS_OK
    &&  s_classes (&in, p)
    &&  ds_mpf_uint (&in, "gaps", UINT64_MAX, &p->gaps)
    &&  ds_mpf_table (&in, &s_sensors, NULL, (void **) &p->sensors, &p->n_sensors)
    &&  ds_mpf_u32 (&in, "sensors_expected", &p->sensors_expected))
        ds_mpf_in_end (&in, "overview partial");
    if (in.rc)
        ds_part_overview_clear (p);
    return in.rc;
}

//  ---------------------------------------------------------------------
//  PPSRC

//  Byte layout of a PPSRC partial (DS_MSG_PART_PPSRC = 10): one msgpack
//  array of 6:
//
//    [0-2] "DSK", 1, 10
//    [3]  int  first_day      the window answered (day numbers)
//    [4]  int  last_day
//    [5]  bin  pp sources     0..3 rows of 13, the request's pps in its
//                             order: port int32, proto uint8, sources uint64
//                             (distinct sources that sent it in the window)
//
//  `out` is emptied first.
int
ds_part_ppsrc_encode (const ds_part_ppsrc_t *part, msgpack_sbuffer *out)
{
    ds_mpf_out_t o;
    ds_mpf_out_begin (&o, out, 96, S_PPSRC_FIELDS, DS_MSG_PART_PPSRC);
    if (part->first_day > part->last_day)
        ds_mpf_out_refuse (&o, DS_ERR_MALFORMED);
    msgpack_pack_int32 (&o.pk, part->first_day);
    msgpack_pack_int32 (&o.pk, part->last_day);
    ds_mpf_pack_table (&o, &s_ppsrc_pps, part->pps, part->n_pps);
    return ds_mpf_out_end (&o);
}

int
ds_part_ppsrc_decode (const uint8_t *data, size_t size, ds_part_ppsrc_t *part,
                      char *err, size_t err_size)
{
    ds_mpf_in_t in;
    ds_mpf_in_init (&in, data, size, err, err_size);
    ds_part_ppsrc_t p;
    memset (&p, 0, sizeof p);
    if (ds_mpf_header (&in, DS_MSG_PART_PPSRC, S_PPSRC_FIELDS, "ppsrc partial")
    &&  s_window (&in, &p.first_day, &p.last_day)
    &&  ds_mpf_table (&in, &s_ppsrc_pps, p.pps, NULL, &p.n_pps)
    &&  ds_mpf_in_end (&in, "ppsrc partial"))
        *part = p;
    return in.rc;
}

//  ---------------------------------------------------------------------
//  STATUS

void
ds_part_status_clear (ds_part_status_t *part)
{
    if (!part)
        return;
    free (part->streams);
    memset (part, 0, sizeof *part);
}

//  True for "" or text shaped "YYYY-MM-DD".
static bool
s_day_text (const char *text)
{
    if (!text [0])
        return true;
    for (int i = 0; i < 10; i++)
        if (i == 4 || i == 7 ? text [i] != '-' : text [i] < '0' || text [i] > '9')
            return false;
    return text [10] == 0;
}

//  Byte layout of a STATUS partial (DS_MSG_PART_STATUS = 11): one msgpack
//  array of 32:
//
//    [0-2] "DSK", 1, 11
//    [3]  uint shard              this shard, < DS_SHARDS_MAX
//    [4]  uint shards             of how many
//    [5]  str  tz                 the shard's time zone
//    [6]  uint sensors_expected   sensors whose EOS completes the input
//    [7]  bool eos_all            every expected sensor's EOS arrived
//    [8]  uint records            records applied
//    [9]  uint sources            distinct sources
//    [10] str|nil first_day       "YYYY-MM-DD", nil before the first record
//    [11] str|nil last_day
//    [12] uint memory_bytes       held by the shard's tables
//    [13] uint retain_days        days kept (0: every day)
//    [14] uint expired_records    records older than the retained days
//    [15] uint evicted_days       days dropped by retention
//    [16] uint rejected           messages that failed to decode
//    [17] uint foreign            batches of another shard
//    [18] uint requests_too_big   requests above the control cap, refused
//    [19] str|nil checkpoint      the checkpoint file, nil if none
//    [20] bool ckpt_running       a checkpoint is being written
//    [21] bool ckpt_last_failed   the latest attempt failed
//    [22] uint ckpt_written       checkpoints written
//    [23] uint ckpt_failed        checkpoints that failed
//    [24] int  ckpt_last_ok_us    wall clock of the last one written, 0: none
//    [25] uint ckpt_last_pause_us the data path's pause for the latest one
//    [26] uint ckpt_max_pause_us  the longest such pause
//    [27] uint ckpt_last_duration_us  the latest one, start to end
//    [28] str|nil ckpt_error      why the latest failed, nil if it did not
//    [29] int  now_us             the shard's wall clock (us) at this status
//    [30] bin  streams            rows of 141, one per sensor: sensor uint32,
//                                 eos uint8 (0/1), packets_read, non_ip,
//                                 malformed, dropped, bad_time (over every
//                                 epoch), next_seq, batches, records, gaps,
//                                 replays, epoch, epochs, stale, stats,
//                                 pcap_dropped, each uint64, last_batch_us,
//                                 last_stats_us, lag_us, newest_us, each int64
//    [31] uint refused_connections  by CURVE/ZAP: keys not trusted, failed handshakes
//
//  `out` is emptied first.
int
ds_part_status_encode (const ds_part_status_t *part, msgpack_sbuffer *out)
{
    ds_mpf_out_t o;
    ds_mpf_out_begin (&o, out, 1024 + (size_t) part->n_streams * 141, S_STATUS_FIELDS, DS_MSG_PART_STATUS);
    if (part->shard >= DS_SHARDS_MAX || !s_day_text (part->first_day) || !s_day_text (part->last_day))
        ds_mpf_out_refuse (&o, DS_ERR_MALFORMED);
    msgpack_pack_uint32 (&o.pk, part->shard);
    msgpack_pack_uint32 (&o.pk, part->shards);
    ds_mpf_pack_text (&o, part->tz, sizeof part->tz, false, false);
    msgpack_pack_uint32 (&o.pk, part->sensors_expected);
    ds_mpf_pack_bool (&o, part->eos_all);
    msgpack_pack_uint64 (&o.pk, part->records);
    msgpack_pack_uint64 (&o.pk, part->sources);
    ds_mpf_pack_text (&o, part->first_day, sizeof part->first_day, true, true);
    ds_mpf_pack_text (&o, part->last_day, sizeof part->last_day, true, true);
    msgpack_pack_uint64 (&o.pk, part->memory_bytes);
    msgpack_pack_uint32 (&o.pk, part->retain_days);
    msgpack_pack_uint64 (&o.pk, part->expired_records);
    msgpack_pack_uint64 (&o.pk, part->evicted_days);
    msgpack_pack_uint64 (&o.pk, part->rejected);
    msgpack_pack_uint64 (&o.pk, part->foreign);
    msgpack_pack_uint64 (&o.pk, part->requests_too_big);
    ds_mpf_pack_text (&o, part->checkpoint, sizeof part->checkpoint, true, true);
    const ds_part_ckpt_t *c = &part->ckpt;
    ds_mpf_pack_bool (&o, c->running);
    ds_mpf_pack_bool (&o, c->last_failed);
    msgpack_pack_uint64 (&o.pk, c->written);
    msgpack_pack_uint64 (&o.pk, c->failed);
    msgpack_pack_int64 (&o.pk, c->last_ok_us);
    msgpack_pack_uint64 (&o.pk, c->last_pause_us);
    msgpack_pack_uint64 (&o.pk, c->max_pause_us);
    msgpack_pack_uint64 (&o.pk, c->last_duration_us);
    ds_mpf_pack_text (&o, c->error, sizeof c->error, true, true);
    msgpack_pack_int64 (&o.pk, part->now_us);
    ds_mpf_pack_table (&o, &s_streams, part->streams, part->n_streams);
    msgpack_pack_uint64 (&o.pk, part->refused_connections);
    return ds_mpf_out_end (&o);
}

int
ds_part_status_decode (const uint8_t *data, size_t size, ds_part_status_t *part,
                       char *err, size_t err_size)
{
    ds_mpf_in_t in;
    ds_mpf_in_init (&in, data, size, err, err_size);
    ds_part_status_t *p = part;
    memset (p, 0, sizeof *p);
    if (ds_mpf_header (&in, DS_MSG_PART_STATUS, S_STATUS_FIELDS, "status partial")
    &&  ds_mpf_u32 (&in, "shard", &p->shard) && ds_mpf_u32 (&in, "shards", &p->shards)
    &&  ds_mpf_text (&in, "tz", p->tz, sizeof p->tz, false, false)
    &&  ds_mpf_u32 (&in, "sensors_expected", &p->sensors_expected)
    &&  ds_mpf_bool (&in, "eos_all", &p->eos_all)
    &&  ds_mpf_uint (&in, "records", UINT64_MAX, &p->records)
    &&  ds_mpf_uint (&in, "sources", UINT64_MAX, &p->sources)
    &&  ds_mpf_text (&in, "first_day", p->first_day, sizeof p->first_day, false, true)
    &&  ds_mpf_text (&in, "last_day", p->last_day, sizeof p->last_day, false, true)
    &&  ds_mpf_uint (&in, "memory_bytes", UINT64_MAX, &p->memory_bytes)
    &&  ds_mpf_u32 (&in, "retain_days", &p->retain_days)
    &&  ds_mpf_uint (&in, "expired_records", UINT64_MAX, &p->expired_records)
    &&  ds_mpf_uint (&in, "evicted_days", UINT64_MAX, &p->evicted_days)
    &&  ds_mpf_uint (&in, "rejected", UINT64_MAX, &p->rejected)
    &&  ds_mpf_uint (&in, "foreign", UINT64_MAX, &p->foreign)
    &&  ds_mpf_uint (&in, "requests_too_big", UINT64_MAX, &p->requests_too_big)
    &&  ds_mpf_text (&in, "checkpoint", p->checkpoint, sizeof p->checkpoint, false, true)
    &&  ds_mpf_bool (&in, "ckpt_running", &p->ckpt.running)
    &&  ds_mpf_bool (&in, "ckpt_last_failed", &p->ckpt.last_failed)
    &&  ds_mpf_uint (&in, "ckpt_written", UINT64_MAX, &p->ckpt.written)
    &&  ds_mpf_uint (&in, "ckpt_failed", UINT64_MAX, &p->ckpt.failed)
    &&  ds_mpf_int64 (&in, "ckpt_last_ok_us", &p->ckpt.last_ok_us)
    &&  ds_mpf_uint (&in, "ckpt_last_pause_us", UINT64_MAX, &p->ckpt.last_pause_us)
    &&  ds_mpf_uint (&in, "ckpt_max_pause_us", UINT64_MAX, &p->ckpt.max_pause_us)
    &&  ds_mpf_uint (&in, "ckpt_last_duration_us", UINT64_MAX, &p->ckpt.last_duration_us)
    &&  ds_mpf_text (&in, "ckpt_error", p->ckpt.error, sizeof p->ckpt.error, false, true)
    &&  ds_mpf_int64 (&in, "now_us", &p->now_us)
    &&  ds_mpf_table (&in, &s_streams, NULL, (void **) &p->streams, &p->n_streams)
    &&  ds_mpf_uint (&in, "refused_connections", UINT64_MAX, &p->refused_connections)
    &&  ds_mpf_in_end (&in, "status partial")) {
        if (p->shard >= DS_SHARDS_MAX || !s_day_text (p->first_day) || !s_day_text (p->last_day))
            ds_mpf_fail (&in, DS_ERR_MALFORMED, "status partial: shard %u, days '%s' '%s'",
                    p->shard, p->first_day, p->last_day);
    }
    if (in.rc)
        ds_part_status_clear (p);
    return in.rc;
}

static void
s_map_text (msgpack_packer *pk, const char *key, const char *text)
{
    ds_pack_str (pk, key);
    if (text [0])
        ds_pack_str (pk, text);
    else
        msgpack_pack_nil (pk);
}

static void
s_map_uint (msgpack_packer *pk, const char *key, uint64_t value)
{
    ds_pack_str (pk, key);
    msgpack_pack_uint64 (pk, value);
}

static void
s_map_bool (msgpack_packer *pk, const char *key, bool value)
{
    ds_pack_str (pk, key);
    if (value)
        msgpack_pack_true (pk);
    else
        msgpack_pack_false (pk);
}

//  A wall clock time (us) as "YYYY-MM-DDTHH:MM:SS.mmmZ", nil for 0.
static void
s_map_time (msgpack_packer *pk, const char *key, int64_t us)
{
    ds_pack_str (pk, key);
    int64_t sec = us / 1000000, rem = us % 1000000;     //  floor, without overflow
    if (rem < 0) {
        sec--;
        rem += 1000000;
    }
    time_t t = (time_t) sec;
    struct tm tm;
    char text [40];
    if (us == 0 || !gmtime_r (&t, &tm) || !strftime (text, 24, "%Y-%m-%dT%H:%M:%S", &tm)) {
        msgpack_pack_nil (pk);
        return;
    }
    snprintf (text + strlen (text), sizeof text - strlen (text), ".%03dZ", (int) (rem / 1000));
    ds_pack_str (pk, text);
}

static void
s_map_ms (msgpack_packer *pk, const char *key, double us)
{
    ds_pack_str (pk, key);
    msgpack_pack_double (pk, us / 1000);
}

//  Keys in the order clients have always read them, new ones after.
void
ds_part_status_pack_map (const ds_part_status_t *part, msgpack_packer *pk)
{
    msgpack_pack_map (pk, 8);
    ds_pack_str (pk, "store");
    msgpack_pack_map (pk, 14);
    s_map_uint (pk, "shard", part->shard);
    s_map_uint (pk, "shards", part->shards);
    s_map_text (pk, "tz", part->tz);
    s_map_uint (pk, "sensors_expected", part->sensors_expected);
    s_map_bool (pk, "eos_all", part->eos_all);
    s_map_uint (pk, "records", part->records);
    s_map_uint (pk, "sources", part->sources);
    s_map_text (pk, "first_day", part->first_day);
    s_map_text (pk, "last_day", part->last_day);
    s_map_uint (pk, "memory_bytes", part->memory_bytes);
    s_map_uint (pk, "retain_days", part->retain_days);
    s_map_uint (pk, "expired_records", part->expired_records);
    s_map_uint (pk, "evicted_days", part->evicted_days);
    ds_pack_str (pk, "sensors");
    msgpack_pack_array (pk, part->n_streams);
    for (uint32_t i = 0; i < part->n_streams; i++) {
        const ds_part_stream_t *s = &part->streams [i];
        msgpack_pack_map (pk, 22);
        s_map_uint (pk, "sensor", s->s.sensor);
        s_map_bool (pk, "eos", s->s.eos);
        s_map_uint (pk, "next_seq", s->next_seq);
        s_map_uint (pk, "batches", s->batches);
        s_map_uint (pk, "records", s->records);
        s_map_uint (pk, "gaps", s->gaps);
        s_map_uint (pk, "replays", s->replays);
        s_map_uint (pk, "packets_read", s->s.packets_read);
        s_map_uint (pk, "non_ip", s->s.non_ip);
        s_map_uint (pk, "malformed", s->s.malformed);
        s_map_uint (pk, "dropped", s->s.dropped);
        s_map_uint (pk, "bad_time", s->s.bad_time);
        s_map_uint (pk, "pcap_dropped", s->pcap_dropped);
        s_map_uint (pk, "epoch", s->epoch);
        s_map_uint (pk, "epochs", s->epochs);
        s_map_uint (pk, "stale", s->stale);
        s_map_uint (pk, "stats", s->stats);
        s_map_time (pk, "last_batch", s->last_batch_us);
        s_map_time (pk, "last_stats", s->last_stats_us);
        ds_pack_str (pk, "lag_ms");
        if (s->last_stats_us)
            msgpack_pack_double (pk, (double) s->lag_us / 1000);
        else
            msgpack_pack_nil (pk);
        //  How far behind the shard's clock the data are: its newest
        //  record's time (the sensor's clock) to now.
        s_map_time (pk, "newest_record", s->newest_us);
        ds_pack_str (pk, "data_lag_ms");
        if (s->newest_us)
            msgpack_pack_double (pk, (double) (part->now_us - s->newest_us) / 1000);
        else
            msgpack_pack_nil (pk);
    }
    s_map_uint (pk, "rejected", part->rejected);
    s_map_uint (pk, "foreign", part->foreign);
    s_map_uint (pk, "requests_too_big", part->requests_too_big);
    s_map_text (pk, "checkpoint", part->checkpoint);
    const ds_part_ckpt_t *c = &part->ckpt;
    ds_pack_str (pk, "checkpoints");
    msgpack_pack_map (pk, 8);
    s_map_bool (pk, "running", c->running);
    s_map_uint (pk, "written", c->written);
    s_map_uint (pk, "failed", c->failed);
    s_map_time (pk, "last_ok", c->last_ok_us);
    s_map_text (pk, "last_error", c->error);
    s_map_ms (pk, "last_pause_ms", (double) c->last_pause_us);
    s_map_ms (pk, "max_pause_ms", (double) c->max_pause_us);
    s_map_ms (pk, "last_duration_ms", (double) c->last_duration_us);
    s_map_time (pk, "now", part->now_us);
    s_map_uint (pk, "refused_connections", part->refused_connections);
}

int
ds_part_result_bytes (const msgpack_object *result, const uint8_t **data, size_t *size)
{
    if (!result || result->type != MSGPACK_OBJECT_BIN)
        return DS_ERR_MALFORMED;
    *data = (const uint8_t *) result->via.bin.ptr;
    *size = result->via.bin.size;
    return DS_OK;
}
