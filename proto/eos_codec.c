/*  eos_codec.c - end-of-stream messages; see ds_proto.h.

    One EOS per (sensor, shard) closes a stream so offline runs end by
    themselves; it also carries the sensor's ingest counters, which the
    aggregators report (per sensor, not summed over shards).
*/
#include "message.h"

//  Byte layout of an EOS (DS_MSG_EOS = 3): one msgpack array of 13
//  elements, integers in msgpack's smallest encoding:
//
//    [0]  str  "DSK"          magic
//    [1]  uint 1              protocol version
//    [2]  uint 3              type
//    [3]  uint sensor         uint32
//    [4]  uint shard          uint32, < DS_SHARDS_MAX
//    [5]  uint batches        uint64, batches sent on the stream (seq 0..batches-1)
//    [6]  uint records        uint64, records in those batches
//    [7]  uint packets_read   uint64, the sensor's frames / log lines read
//    [8]  uint non_ip         uint64, frames skipped: not IP
//    [9]  uint malformed      uint64, frames / lines skipped: malformed
//    [10] uint dropped        uint64, live capture drops
//    [11] uint bad_time       uint64, records skipped: impossible timestamps
//    [12] uint epoch          uint64, the sensor's epoch (0: files; see ds_stats_t)
//
//  The frame holds nothing after the array.  `out` is emptied first.
int
ds_eos_encode (const ds_eos_t *eos, msgpack_sbuffer *out)
{
    msgpack_packer pk;
    ds_msg_writer_t writer;
    ds_msg_packer_init (&pk, &writer, out, 128);
    ds_msg_pack_header (&pk, 13, DS_MSG_EOS);
    msgpack_pack_uint32 (&pk, eos->sensor);
    msgpack_pack_uint32 (&pk, eos->shard);
    msgpack_pack_uint64 (&pk, eos->batches);
    msgpack_pack_uint64 (&pk, eos->records);
    msgpack_pack_uint64 (&pk, eos->packets_read);
    msgpack_pack_uint64 (&pk, eos->non_ip);
    msgpack_pack_uint64 (&pk, eos->malformed);
    msgpack_pack_uint64 (&pk, eos->dropped);
    msgpack_pack_uint64 (&pk, eos->bad_time);
    msgpack_pack_uint64 (&pk, eos->epoch);
    return writer.failed ? DS_ERR_NOMEM : DS_OK;
}

//  Decodes an EOS; *eos is written only on success.
int
ds_eos_decode (const uint8_t *data, size_t size, ds_eos_t *eos)
{
    ds_mpread_t reader;
    ds_mpread_init (&reader, data, size);
    int rc = ds_msg_expect (&reader, DS_MSG_EOS, 13);
    if (rc)
        return rc;
    uint64_t v [10];
    for (int i = 0; i < 10; i++)
        if (ds_mpread_uint (&reader, &v [i]))
            return DS_ERR_MALFORMED;
    if (v [0] > UINT32_MAX || v [1] >= DS_SHARDS_MAX || ds_mpread_left (&reader) != 0)
        return DS_ERR_MALFORMED;
    *eos = (ds_eos_t) {
        .sensor = (uint32_t) v [0], .shard = (uint32_t) v [1],
        .batches = v [2], .records = v [3], .packets_read = v [4],
        .non_ip = v [5], .malformed = v [6], .dropped = v [7], .bad_time = v [8], .epoch = v [9]
    };
    return DS_OK;
}
