/*  partial_codec.h - the partial answers of the overview family between
    the aggregator shards and the query service (PROTOCOL.md, "Partials").

    The query service answers overview, ports, ecdf, daily, classes and
    heatmap by asking every shard the same DSK "partial request" (type 7)
    and merging their partials exactly (services/query/merge.h):

      RANGE     the days the shard has seen, its zone and generation
      OVERVIEW  the shard's sums over a window: per pp, a histogram of
                packets per source, per day, per class, ingest counters
      PPSRC     distinct sources over the window of the top pps (at most
                3), which only the merge of the OVERVIEW round can name
      STATUS    the shard's state (streams, gaps, counts, days seen)

    Each partial is a fixed-length DSK array (types 8..11), carried as the
    bin `result` of an ordinary reply map.  Lists of numbers are tables:
    one msgpack bin of `n` rows of fixed width, fields little-endian and
    packed.  The structs below are plain result types (arrays + counts):
    the aggregator fills them however its store computes them, the query
    service merges them.

    Ownership: a struct's arrays are malloc'd and belong to it;
    ds_part_*_clear() frees them and zeroes the struct (decoders clear on
    failure, so there is nothing to free then).  Encoders only read.

    Decoders are bounded (proto/mpread.h): every table and list is checked
    against its ceiling and the bytes present before anything is allocated.
    Results: DS_ERR_TRUNCATED when the bytes end inside the message (every
    proper prefix of a valid partial), DS_ERR_MALFORMED for a wrong type or
    value, DS_ERR_TOO_BIG for a list above its ceiling, DS_ERR_TYPE for
    another message type; err (may be NULL) names the field.
*/
#ifndef DS_PARTIAL_CODEC_H
#define DS_PARTIAL_CODEC_H

#include <stdbool.h>
#include <stdint.h>
#include <msgpack.h>
#include "ds_proto.h"

#define DS_PART_TZ_MAX          128     //  bytes of a zone name incl. NUL
#define DS_PART_DAY_TEXT        11      //  "YYYY-MM-DD" incl. NUL
#define DS_PART_PATH_MAX        4096    //  checkpoint path incl. NUL
#define DS_PART_TOP_PPS         3       //  pps of a PPSRC round
#define DS_PART_DAYS_MAX        36600   //  window of an OVERVIEW, days
#define DS_PART_PPS_MAX         (65537u * DS_PROTO_COUNT)  //  distinct pps
#define DS_PART_CLASSES_MAX     65535   //  classes of one OVERVIEW
#define DS_PART_SERVICES_MAX    (1u << 20)  //  (class, service) rows of one OVERVIEW
#define DS_PART_SENSORS_MAX     65536   //  streams of one shard

typedef enum {
    DS_PART_RANGE    = 1,
    DS_PART_OVERVIEW = 2,
    DS_PART_PPSRC    = 3,
    DS_PART_STATUS   = 4
} ds_part_kind_t;

//  One (port, proto) and its counts.  Which counts a list sets: window
//  (packets), last day (packets, sources), class (packets), PPSRC (sources);
//  the others are 0.
typedef struct {
    int32_t port;                   //  0..65535, or DS_PORT_NONE (-1)
    uint8_t proto;                  //  ds_proto_t
    uint64_t packets;
    uint64_t sources;
} ds_part_pp_t;

//  A partial request (query service -> shard).
typedef struct {
    int kind;                       //  ds_part_kind_t
    int32_t first_day, last_day;    //  OVERVIEW, PPSRC: the resolved window
                                    //  (day numbers, first <= last); else 0
    uint64_t min_packets;           //  OVERVIEW: the filter; else 0
    uint32_t n_pps;                 //  PPSRC: 0..DS_PART_TOP_PPS; else 0
    ds_part_pp_t pps [DS_PART_TOP_PPS];     //  PPSRC: port and proto only
} ds_part_req_t;

//  RANGE: the days a shard has seen.
typedef struct {
    char tz [DS_PART_TZ_MAX];       //  the shard's time zone
    uint64_t generation;            //  changes whenever the store does
    bool any;                       //  false: no record yet (days are 0)
    int32_t first_day, last_day;    //  day numbers
    uint32_t retain_days;           //  the shard keeps the newest N days; 0 = all
} ds_part_range_t;

//  Packets-per-source histogram entry: `sources` sources sent `packets`.
typedef struct {
    uint64_t packets;
    uint64_t sources;
} ds_part_hist_t;

//  One day of the window.
typedef struct {
    uint64_t sources;               //  active that day
    uint64_t filtered;              //  ... and passing min_packets over the window
    uint64_t first_seen;            //  first active in the window that day
    uint64_t first_seen_filtered;   //  ... and passing min_packets
} ds_part_day_t;

//  Packets of one service within a class.
typedef struct {
    char name [DS_NAME_MAX];        //  1..63 bytes, no NUL
    uint64_t packets;
} ds_part_service_t;

//  One class on the last day (sources passing the filter over the last 30
//  days of the window).
typedef struct {
    char name [DS_NAME_MAX];        //  1..63 bytes, no NUL
    uint64_t senders;
    uint64_t packets;
    uint32_t n_pps;
    ds_part_pp_t *pps;              //  packets per pp
    uint32_t n_services;
    ds_part_service_t *services;    //  packets per service
} ds_part_class_t;

//  A sensor's stream into the shard and its ingest counters (from its end
//  of stream: the sensor's totals, the same on every shard).
typedef struct {
    uint32_t sensor;
    bool eos;                       //  its end of stream arrived
    uint64_t packets_read, non_ip, malformed, dropped;
    uint64_t bad_time;              //  records skipped: impossible timestamps
} ds_part_sensor_t;

//  OVERVIEW: one shard's sums over a window.
typedef struct {
    char tz [DS_PART_TZ_MAX];
    int32_t first_day, last_day;    //  the window answered
    uint64_t window_sources;        //  sources active in the window
    uint64_t last_sources;          //  sources active on its last day
    uint32_t n_window;
    ds_part_pp_t *window;           //  packets per pp over the window
    uint32_t n_last;
    ds_part_pp_t *last;             //  packets and sources per pp, last day
    uint32_t n_hist;
    ds_part_hist_t *hist;           //  packets per source over the window
    uint32_t n_days;                //  last_day - first_day + 1
    ds_part_day_t *days;
    uint32_t n_classes;
    ds_part_class_t *classes;
    uint64_t gaps;                  //  batches missed, all streams
    uint32_t n_sensors;
    ds_part_sensor_t *sensors;
    uint32_t sensors_expected;      //  sensors whose EOS completes the shard's input
} ds_part_overview_t;

//  PPSRC: distinct sources over the window of the asked pps, in the
//  request's order.
typedef struct {
    int32_t first_day, last_day;
    uint32_t n_pps;
    ds_part_pp_t pps [DS_PART_TOP_PPS];     //  port, proto, sources
} ds_part_ppsrc_t;

//  A stream's state in the shard.
//  (The counters in s are the sensor's over every epoch; the live fields
//  below tell how current they are.)
typedef struct {
    ds_part_sensor_t s;
    uint64_t next_seq, batches, records, gaps, replays;
    uint64_t epoch;                 //  the sensor's current epoch (0: files)
    uint64_t epochs;                //  epochs seen: > 1 after an ingest restarted
    uint64_t stale;                 //  messages of an older epoch, ignored
    uint64_t stats;                 //  counter messages (STATS) received
    uint64_t pcap_dropped;          //  libpcap's part of dropped (this epoch)
    int64_t last_batch_us;          //  wall clock of the last batch applied, 0: none
    int64_t last_stats_us;          //  wall clock the last STATS arrived, 0: none
    int64_t lag_us;                 //  that STATS's arrival minus its sending
    int64_t newest_us;              //  time of the newest record applied, 0: none
} ds_part_stream_t;

//  The shard's checkpoints (written by a forked child: the pauses are the
//  data path's).
typedef struct {
    bool running;                   //  one is being written
    bool last_failed;               //  the latest attempt failed
    uint64_t written, failed;
    int64_t last_ok_us;             //  wall clock of the last one written, 0: none
    uint64_t last_pause_us, max_pause_us, last_duration_us;
    char error [512];               //  why the latest failed, "" if it did not
} ds_part_ckpt_t;

//  STATUS: the shard's state.
typedef struct {
    uint32_t shard, shards;
    char tz [DS_PART_TZ_MAX];
    uint32_t sensors_expected;
    bool eos_all;                   //  every expected sensor's EOS arrived
    uint64_t records, sources;
    char first_day [DS_PART_DAY_TEXT];      //  "YYYY-MM-DD", "" if none
    char last_day [DS_PART_DAY_TEXT];
    uint64_t memory_bytes;
    uint32_t retain_days;           //  days kept (0: every day)
    uint64_t expired_records;       //  records older than the retained days
    uint64_t evicted_days;          //  days dropped by retention
    uint64_t rejected;              //  messages that failed to decode
    uint64_t foreign;               //  batches of another shard
    uint64_t requests_too_big;      //  requests above the control cap, refused
    char checkpoint [DS_PART_PATH_MAX];     //  "" if none
    ds_part_ckpt_t ckpt;                    //  its checkpoints (all 0 if none)
    int64_t now_us;                         //  the shard's wall clock at this status
    uint32_t n_streams;
    ds_part_stream_t *streams;
    uint64_t refused_connections;   //  by CURVE/ZAP: keys not in --trust, failed handshakes
} ds_part_status_t;

//  Encodes a request into out (emptied first).  DS_ERR_MALFORMED if a
//  field is out of range for its kind.
int ds_part_req_encode (const ds_part_req_t *req, msgpack_sbuffer *out);

//  Decodes a request; *req is written only on success.
int ds_part_req_decode (const uint8_t *data, size_t size, ds_part_req_t *req,
                        char *err, size_t err_size);

//  Encodes a RANGE partial into out (emptied first).
int ds_part_range_encode (const ds_part_range_t *part, msgpack_sbuffer *out);

//  Decodes a RANGE partial; *part is written only on success.
int ds_part_range_decode (const uint8_t *data, size_t size, ds_part_range_t *part,
                          char *err, size_t err_size);

//  Encodes an OVERVIEW partial into out (emptied first).  DS_ERR_TOO_BIG
//  if a list passes its ceiling, DS_ERR_MALFORMED if a value is out of
//  range (n_days not the window's, a port, proto or name).
int ds_part_overview_encode (const ds_part_overview_t *part, msgpack_sbuffer *out);

//  Decodes an OVERVIEW partial into *part, which is overwritten; its
//  arrays are then owned by it (clear it), none are left on failure.
int ds_part_overview_decode (const uint8_t *data, size_t size, ds_part_overview_t *part,
                             char *err, size_t err_size);

//  Frees an OVERVIEW's arrays and zeroes it; NULL-safe.
void ds_part_overview_clear (ds_part_overview_t *part);

//  Encodes a PPSRC partial into out (emptied first).
int ds_part_ppsrc_encode (const ds_part_ppsrc_t *part, msgpack_sbuffer *out);

//  Decodes a PPSRC partial; *part is written only on success.
int ds_part_ppsrc_decode (const uint8_t *data, size_t size, ds_part_ppsrc_t *part,
                          char *err, size_t err_size);

//  Encodes a STATUS partial into out (emptied first).
int ds_part_status_encode (const ds_part_status_t *part, msgpack_sbuffer *out);

//  Decodes a STATUS partial into *part, which is overwritten; its streams
//  are then owned by it (clear it), none are left on failure.
int ds_part_status_decode (const uint8_t *data, size_t size, ds_part_status_t *part,
                           char *err, size_t err_size);

//  Frees a STATUS's streams and zeroes it; NULL-safe.
void ds_part_status_clear (ds_part_status_t *part);

//  Packs a shard's status as the map clients read (PROTOCOL.md, `status`):
//  {"store": {...}, "rejected", "foreign", "requests_too_big", "checkpoint",
//  "checkpoints": {...}, "now", "refused_connections"}.
void ds_part_status_pack_map (const ds_part_status_t *part, msgpack_packer *pk);

//  The bytes of a reply's result that is a bin (how partials travel);
//  DS_ERR_MALFORMED if it is not one.
int ds_part_result_bytes (const msgpack_object *result, const uint8_t **data, size_t *size);

#endif
