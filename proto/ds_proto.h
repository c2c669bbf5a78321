/*  ds_proto.h - darkscope's wire protocol (msgpack), see proto/PROTOCOL.md.

    Every internal message (batches, end-of-stream, status) is a msgpack
    array that begins [magic "DSK", version, type, ...]; those three are
    checked before anything else.  Client queries and replies are the maps
    of DESIGN.md §6 ({"v":1,"q":NAME,"args":{...}} -> {"v":1,"ok":...}).

    Decoders treat input as hostile: frames are capped at DS_FRAME_MAX,
    every declared count is checked against the bytes that remain before
    anything is allocated, and there is one error exit per decoder.
    Topics on PUB/SUB are fixed width ("pkt.0003", "lab.0003") so no topic
    is a prefix of another.
*/
#ifndef DS_PROTO_H
#define DS_PROTO_H

#include <msgpack.h>
#include "batch.h"
#include "ds_limits.h"

#define DS_PROTO_MAGIC      "DSK"
#define DS_PROTO_VERSION    1
#define DS_FRAME_MAX        DS_FRAME_DATA_MAX       //  bytes, any frame (ds_limits.h)
#define DS_TOPIC_LEN        8                       //  "pkt.0003"
//  Shards of a deployment: 1..DS_SHARDS_MAX, for every service, command
//  and decoder (a shard index is below it).  The query service fans out to
//  each (its endpoint list holds as many); topics have room for 9999.
#define DS_SHARDS_MAX       256
#define DS_STR_(x)          #x
#define DS_STR(x)           DS_STR_ (x)
#define DS_SHARDS_MAX_TEXT  DS_STR (DS_SHARDS_MAX)  //  "256", for help texts

//  Message types: append only, never renumber.
typedef enum {
    DS_MSG_BATCH    = 1,            //  packet batch (ingest -> labeler)
    DS_MSG_LABELLED = 2,            //  labelled batch (labeler -> aggregator)
    DS_MSG_EOS      = 3,            //  end of one (sensor, shard) stream
    DS_MSG_HELLO    = 4,            //  publisher announces itself (optional)
    DS_MSG_PATTERN_REQ   = 5,       //  pattern round (query -> shard), pattern_codec.h
    DS_MSG_PATTERN_PART  = 6,       //  its partial (shard -> query), inside a reply
    DS_MSG_PART_REQ      = 7,       //  partial request (query -> shard), partial_codec.h
    DS_MSG_PART_RANGE    = 8,       //  partials (shard -> query), inside a reply
    DS_MSG_PART_OVERVIEW = 9,
    DS_MSG_PART_PPSRC    = 10,
    DS_MSG_PART_STATUS   = 11,
    DS_MSG_STATS    = 12            //  a sensor's periodic counters (ingest -> aggregator)
} ds_msg_type_t;
#define DS_MSG_TYPE_LAST    DS_MSG_STATS

//  Decoder results: 0 is success, each failure distinct.
typedef enum {
    DS_OK             = 0,
    DS_ERR_MALFORMED  = -1,         //  not a valid encoding / bounds violated
    DS_ERR_MAGIC      = -2,         //  does not start with the magic
    DS_ERR_VERSION    = -3,         //  unknown protocol version
    DS_ERR_TYPE       = -4,         //  unknown or unexpected message type
    DS_ERR_TOO_BIG    = -5,         //  frame or count above a ceiling
    DS_ERR_NOMEM      = -6,
    DS_ERR_TRUNCATED  = -7          //  the bytes end inside the message
} ds_result_t;

//  Human-readable name of a ds_result_t.
const char *ds_result_str (int result);

//  Packs a NUL-terminated string as a msgpack str.
void ds_pack_str (msgpack_packer *pk, const char *text);

//  Writes the topic of a shard ("pkt.0003" for prefix "pkt") into buf (>= 9).
void ds_topic_format (char *buf, const char *prefix, uint32_t shard);

//  Checks magic and version and returns the message type in *type.
int ds_msg_peek (const uint8_t *data, size_t size, int *type);

//  Encodes a batch (DS_MSG_BATCH, or DS_MSG_LABELLED if batch->labelled)
//  into out, which is emptied first (reuse one sbuffer per socket).
int ds_batch_encode (const ds_batch_t *batch, msgpack_sbuffer *out);

//  The same batch in the packed layout (narrow columns, about a third of
//  the bytes; PROTOCOL.md), for links where bytes cost (tcp, ipc, CURVE).
//  ds_batch_decode reads both layouts.
int ds_batch_encode_packed (const ds_batch_t *batch, msgpack_sbuffer *out);

//  ds_batch_encode_packed of `labelled`, where `labelled` is the batch that
//  the packed, unlabelled message `in` decoded to, then labelled (same
//  records; flags may have gained DS_FLAG_GT; ids and dictionaries set):
//  the columns labelling leaves alone (timestamps, sources, ports) are
//  copied from `in` as they arrived instead of being packed again (the
//  labeler's hop).  When `in` is not a packed unlabelled batch of
//  labelled->count records, packs `labelled` from scratch.  Same bytes as
//  ds_batch_encode_packed when `in` came from it.
int ds_batch_encode_relabel (const uint8_t *in, size_t size, const ds_batch_t *labelled,
                             msgpack_sbuffer *out);

//  Decodes a batch message into `into`, growing it up to DS_BATCH_MAX_CAPACITY
//  (dictionaries are kept when unchanged).  On failure `into` is reset
//  (count 0, unlabelled) and the result says why.
int ds_batch_decode (const uint8_t *data, size_t size, ds_batch_t *into);

//  The same, but the columns that lie in data ready to use (the fixed
//  layout on a little-endian host, each aligned for its type: an inproc
//  framed batch's) are not copied: *view is `into` with those columns
//  pointing into data.  The view borrows data and into (their lifetime);
//  never reset or destroy it.  On failure *view is the reset `into`.
int ds_batch_decode_view (const uint8_t *data, size_t size, ds_batch_t *into, ds_batch_t *view);

//  End of one stream: after `batches` batches (seq 0..batches-1).
typedef struct {
    uint32_t sensor;
    uint32_t shard;
    uint64_t batches;               //  batches sent on this stream
    uint64_t records;               //  records sent on this stream
    //  The sensor's ingest counters at its end (the same on every shard's
    //  EOS of one sensor; receivers keep them per sensor, not summed).
    uint64_t packets_read;          //  frames / log data lines read
    uint64_t non_ip;                //  frames skipped: not IP
    uint64_t malformed;             //  frames / lines skipped: malformed
    uint64_t dropped;               //  live capture drops (libpcap + own)
    uint64_t bad_time;              //  records skipped: impossible timestamps
    uint64_t epoch;                 //  the sensor's epoch (see ds_stats_t)
} ds_eos_t;

//  Encodes an EOS into out (emptied first).
int ds_eos_encode (const ds_eos_t *eos, msgpack_sbuffer *out);

//  Decodes an EOS; *eos is written only on success.
int ds_eos_decode (const uint8_t *data, size_t size, ds_eos_t *eos);

//  A sensor's counters, sent on each of its (sensor, shard) streams before
//  the first batch and then every --stats-interval, so receivers are
//  current before the end of stream.  The epoch tells a restarted ingest
//  from a replay: 0 for file input (a replay of the same files repeats its
//  seqs and is recognised as a replay), the start time in microseconds for
//  a live capture or a pipe (a restarted capture starts a new, larger
//  epoch: its seqs start again at 0 without being taken for replays).
typedef struct {
    uint32_t sensor;
    uint32_t shard;
    uint64_t epoch;
    int64_t sent_us;                //  sender's wall clock, us since the Unix epoch
    uint64_t batches;               //  batches sent on this stream so far (next seq)
    uint64_t records;               //  records in them
    //  The sensor's totals so far (the same on every shard's stream).
    uint64_t packets_read;
    uint64_t non_ip;
    uint64_t malformed;
    uint64_t bad_time;
    uint64_t dropped;               //  libpcap's and own
    uint64_t pcap_dropped;          //  libpcap's part of dropped
} ds_stats_t;

//  Encodes a STATS message into out (emptied first).
int ds_stats_encode (const ds_stats_t *stats, msgpack_sbuffer *out);

//  Decodes a STATS message; *stats is written only on success.
int ds_stats_decode (const uint8_t *data, size_t size, ds_stats_t *stats);

//  A query (client request, and the query service's fan-out to shards).
//  Unset fields keep the defaults that ds_query_init() gives.
typedef struct {
    char name [32];                 //  "overview", "ports", "status", ...
    char first_day [11];            //  "YYYY-MM-DD" or "" (all days)
    char last_day [11];             //  "YYYY-MM-DD" or "" (last day seen)
    int64_t min_packets;            //  default 10
    char class_name [DS_NAME_MAX];  //  pattern: "" = all classes
    int64_t from_us;                //  pattern time range, INT64_MIN = open
    int64_t to_us;                  //  INT64_MAX = open
    int64_t bin_s;                  //  pattern bin width, default 60
    int64_t width, height;          //  pattern raster, default 640 x 360 (1..4096)
    int64_t limit;                  //  pattern sample points, default 100000
    int64_t offset;                 //  pattern sample page start, default 0
    char ip [64];                   //  lookup argument
    int64_t k;                      //  knn/classify: neighbours, 0 = the service default
    bool force;                     //  reload: accept tables that lose entries
} ds_query_t;

//  Sets every field to its default.
void ds_query_init (ds_query_t *query);

//  Encodes {"v":1,"q":name,"args":{...}} with the fields that differ from
//  their defaults, into out (emptied first).
int ds_query_encode (const ds_query_t *query, msgpack_sbuffer *out);

//  Decodes a request (absent args keep their defaults); on failure writes a
//  reason naming the offending key into err: unknown keys, wrong types,
//  strings longer than their field, duplicates, days not YYYY-MM-DD,
//  integers outside their range (PROTOCOL.md) are refused.  DS_ERR_VERSION
//  for v != 1; DS_ERR_TOO_BIG above DS_FRAME_CONTROL_MAX ("request of N
//  bytes exceeds the 1 MiB limit").
int ds_query_decode (const uint8_t *data, size_t size, ds_query_t *query,
                     char *err, size_t err_size);

//  Starts a success reply: packs {"v":1,"ok":true,"result": and leaves the
//  packer positioned for the caller to pack exactly one result object.
void ds_reply_ok_begin (msgpack_packer *pk);

//  Encodes {"v":1,"ok":false,"error":message} into out (emptied first).
int ds_reply_error (msgpack_sbuffer *out, const char *message);

//  Reads a reply: DS_OK with *result pointing into reply for {"ok":true},
//  else -1 with the reply's "error" text (or what is wrong) in err.
int ds_reply_parse (const msgpack_object *reply, const msgpack_object **result,
                    char *err, size_t err_size);

//  Nesting ds_mp_unpack accepts (a scalar is depth 0, [[1]] depth 2).
#define DS_MP_DEPTH_DEFAULT 24

//  Checks that data is exactly one well-formed msgpack object whose every
//  declared count fits in the bytes that remain, nesting <= max_depth
//  (capped below msgpack-c's own limit of 32).  DS_ERR_TOO_BIG for too
//  deep or above DS_FRAME_MAX, DS_ERR_MALFORMED otherwise.  Only after
//  this is it safe to hand data to msgpack_unpack().
int ds_mp_validate (const uint8_t *data, size_t size, int max_depth);

//  Validates (depth DS_MP_DEPTH_DEFAULT) then unpacks one object into
//  zone-backed *obj.  Strings, bins and ext in *obj point into data, so
//  data must outlive obj.
int ds_mp_unpack (const uint8_t *data, size_t size, msgpack_zone *zone,
                  msgpack_object *obj);

//  Looks up key in a msgpack map object; NULL if absent or not a map.
const msgpack_object *ds_mp_get (const msgpack_object *map, const char *key);

#endif
