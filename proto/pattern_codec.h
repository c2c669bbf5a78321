/*  pattern_codec.h - activity-pattern messages between the query service
    and the aggregator shards (PROTOCOL.md, "Activity patterns").

    A pattern is answered in rounds of small messages (DESIGN.md §10): the
    query service asks every shard the same DSK "pattern request" (type 5)
    and each shard answers a DSK "pattern partial" (type 6), carried as the
    bin `result` of an ordinary reply map.  One request and one partial
    layout serve every step ("op"):

      SUMMARY   how many sources and points the shard has in the selection,
                and the time range [lo, hi) it resolved
      SELECT    distributed selection: for each key bracket [lo, hi), how
                many local keys lie below and inside it, and `per` evenly
                spaced keys inside it (all of them when there are few)
      RANK      for each key, how many local keys are below it (tokens)
      RASTER    the shard's exact width x height counts, rows cut at the
                given boundary keys; zlib-deflated little-endian cells
      SAMPLE    the shard's points with lo <= point key < hi

    Two key spaces order what is selected.  Both keys are (major, address,
    minor), compared as (signed, bytes, signed):
      sources   (first activity in the range in us, address, 0): a source's
                token is its rank here, the order the notebook tokenises
      points    (address hash, address, bin start in us): the order pages
                of the sample follow; the hash spreads them over sources
    Keys travel as 32 bytes: major int64 LE, 16 address bytes, minor int64 LE.

    Decoders are bounded (proto/mpread.h): every count is checked against
    its ceiling and the bytes present, key lists point into the input (the
    input must outlive the decoded struct), deflated cells are inflated only
    by ds_pattern_cells_add into a buffer of the size the caller expects.
*/
#ifndef DS_PATTERN_CODEC_H
#define DS_PATTERN_CODEC_H

#include <stdbool.h>
#include <stdint.h>
#include <msgpack.h>
#include "ds_proto.h"

#define DS_PATTERN_WIDTH_DEFAULT    640
#define DS_PATTERN_HEIGHT_DEFAULT   360
#define DS_PATTERN_SIDE_MAX         4096        //  width and height
#define DS_PATTERN_LIMIT_DEFAULT    100000      //  sample points
#define DS_PATTERN_LIMIT_MAX        200000      //  keeps a reply < 16 MiB
#define DS_PATTERN_KEY_SIZE         32          //  bytes of a key on the wire
#define DS_PATTERN_BRACKETS_MAX     4096        //  brackets in one SELECT
#define DS_PATTERN_SELECT_KEYS_MAX  65536       //  per x brackets in one SELECT
#define DS_PATTERN_RANK_MAX         16384       //  keys in one RANK (512 KiB)
#define DS_PATTERN_BIN_S_MAX        (366LL * 86400)

//  Every request fits the 1 MiB limit of a control socket (ds_limits.h),
//  with room for its 16 fields.
_Static_assert ((uint64_t) DS_PATTERN_RANK_MAX * DS_PATTERN_KEY_SIZE + 4096 <= DS_FRAME_CONTROL_MAX,
                "a rank request must fit a control frame");
_Static_assert ((uint64_t) 2 * DS_PATTERN_BRACKETS_MAX * DS_PATTERN_KEY_SIZE + 4096 <= DS_FRAME_CONTROL_MAX,
                "a select request must fit a control frame");

typedef enum {
    DS_PATTERN_SUMMARY = 1,
    DS_PATTERN_SELECT  = 2,
    DS_PATTERN_RANK    = 3,
    DS_PATTERN_RASTER  = 4,
    DS_PATTERN_SAMPLE  = 5
} ds_pattern_op_t;

typedef enum {
    DS_PATTERN_SPACE_SOURCES = 0,   //  (first activity, address, 0)
    DS_PATTERN_SPACE_POINTS  = 1    //  (address hash, address, bin start)
} ds_pattern_space_t;

typedef struct {
    int64_t major;
    uint8_t addr [16];
    int64_t minor;
} ds_pattern_key_t;

//  The smallest and the largest key: bracket ends that hold every real key.
extern const ds_pattern_key_t ds_pattern_key_min;
extern const ds_pattern_key_t ds_pattern_key_max;

//  Orders keys: major (signed), then address bytes, then minor (signed).
int ds_pattern_key_cmp (const ds_pattern_key_t *a, const ds_pattern_key_t *b);

//  Reads the 32-byte wire form at wire.
void ds_pattern_key_get (const uint8_t *wire, ds_pattern_key_t *key);

//  Writes the 32-byte wire form of key at wire.
void ds_pattern_key_put (uint8_t *wire, const ds_pattern_key_t *key);

//  The sample order's address hash (63 bits, the same on every platform).
int64_t ds_pattern_addr_hash (const uint8_t addr [16]);

//  What a pattern is over: the query's resolved window and arguments.
typedef struct {
    int32_t first_day, last_day;    //  day numbers (tzday.h), first <= last
    int64_t from_us, to_us;         //  INT64_MIN / INT64_MAX: open
    int64_t bin_s;                  //  1..DS_PATTERN_BIN_S_MAX
    char class_name [DS_NAME_MAX];  //  "" = every class
} ds_pattern_sel_t;

//  A pattern request (query service -> shard).
typedef struct {
    int op;                         //  ds_pattern_op_t
    ds_pattern_sel_t sel;
    uint32_t space;                 //  SELECT: ds_pattern_space_t
    uint32_t per;                   //  SELECT: keys wanted per bracket
    uint32_t width, height;         //  RASTER: cells (height - 1 boundaries)
    uint32_t limit;                 //  SAMPLE: most points answered
    uint32_t n_keys;                //  SELECT: 2 per bracket (lo, hi);
                                    //  RANK: keys; RASTER: row boundaries;
                                    //  SAMPLE: 2 (lo, hi); SUMMARY: 0
    const uint8_t *keys;            //  n_keys x 32 bytes
} ds_pattern_req_t;

//  A pattern partial (shard -> query service).
typedef struct {
    int op;                         //  the request's op
    uint64_t generation;            //  the shard store's generation
    uint64_t sources, points;       //  the shard's totals in the selection
    uint32_t width, height;         //  RASTER
    uint32_t cell_bytes;            //  RASTER: 4 or 8
    uint32_t n_counts;              //  SUMMARY: 2, the range [lo, hi) in us
                                    //  (int64); SELECT: 2 per bracket (below, inside);
                                    //  RANK: 1 per key; SAMPLE: points per source
    const uint8_t *counts;          //  n_counts x uint64 LE
    uint32_t n_keys;                //  SELECT: the spaced keys; SAMPLE: the
                                    //  sampled sources' keys (sources space)
    const uint8_t *keys;            //  n_keys x 32 bytes
    uint32_t data_size;             //  RASTER: deflated cells;
    const uint8_t *data;            //  SAMPLE: bin starts, int64 LE
} ds_pattern_part_t;

//  Reads the i-th count of a partial.
uint64_t ds_pattern_count (const ds_pattern_part_t *part, uint32_t i);

//  Encodes a request into out (emptied first).  DS_ERR_TOO_BIG if its keys
//  pass the op's ceiling, DS_ERR_MALFORMED if a field is out of range.
int ds_pattern_req_encode (const ds_pattern_req_t *req, msgpack_sbuffer *out);

//  Decodes a request; on failure *req is unspecified.  err (may be NULL)
//  says what was wrong; DS_ERR_TRUNCATED when the bytes end inside it.
int ds_pattern_req_decode (const uint8_t *data, size_t size, ds_pattern_req_t *req,
                           char *err, size_t err_size);

//  Encodes a partial into out (emptied first).
int ds_pattern_part_encode (const ds_pattern_part_t *part, msgpack_sbuffer *out);

//  Decodes a partial; on failure *part is unspecified (DS_ERR_TRUNCATED
//  when the bytes end inside it).
int ds_pattern_part_decode (const uint8_t *data, size_t size, ds_pattern_part_t *part,
                            char *err, size_t err_size);

//  How many spaced keys a SELECT partial holds for a bracket with `inside`
//  local keys when `per` were asked: min(inside, per).
uint32_t ds_pattern_select_keys (uint64_t inside, uint32_t per);

//  The in-bracket position (0-based) of the m-th spaced key of a bracket
//  with `inside` keys (inside > per: (m + 1) * inside / (per + 1), else m).
uint64_t ds_pattern_select_pos (uint64_t inside, uint32_t per, uint32_t m);

//  Deflates n cells of cell_bytes (4 or 8, little-endian in memory order
//  of the host's uint32_t/uint64_t arrays) with zlib at level; appends the
//  stream to out.  0, or -1 (out of memory).
int ds_pattern_cells_deflate (const void *cells, size_t n, uint32_t cell_bytes, int level,
                              msgpack_sbuffer *out);

//  Inflates exactly n cells of cell_bytes from the zlib stream z and adds
//  them to acc (n cells of acc_bytes, 4 or 8).  DS_ERR_MALFORMED if the
//  stream is bad, shorter or longer than n cells; DS_ERR_TOO_BIG if a
//  4-byte acc cell would pass 2^32 - 1.
int ds_pattern_cells_add (const uint8_t *z, size_t z_size, size_t n, uint32_t cell_bytes,
                          void *acc, uint32_t acc_bytes);

#endif
