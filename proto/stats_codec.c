/*  stats_codec.c - a sensor's periodic counters (DS_MSG_STATS); see
    ds_proto.h.

    Ingest sends one on each of its (sensor, shard) streams before the
    first batch and then every --stats-interval seconds; the labeler
    forwards it unchanged like an EOS, and the aggregators keep the latest
    per sensor, so status and the overview's ingest counters are current
    while a live capture runs.  It travels in the stream, after the batches
    sent before it, so its `batches` also tells a receiver how many of them
    it should have seen.
*/
#include "message.h"

#define S_FIELDS 15

//  Byte layout of a STATS message (DS_MSG_STATS = 12): one msgpack array
//  of 15 elements, integers in msgpack's smallest encoding:
//
//    [0]  str  "DSK"          magic
//    [1]  uint 1              protocol version
//    [2]  uint 12             type
//    [3]  uint sensor         uint32
//    [4]  uint shard          uint32, < DS_SHARDS_MAX
//    [5]  uint epoch          uint64, 0 for files, the start time (us) of a live capture
//    [6]  int  sent_us        int64, the sender's wall clock (us since the Unix epoch)
//    [7]  uint batches        uint64, batches sent on this stream so far
//    [8]  uint records        uint64, records in those batches
//    [9]  uint packets_read   uint64, the sensor's frames / log lines read so far
//    [10] uint non_ip         uint64, frames skipped: not IP
//    [11] uint malformed      uint64, frames / lines skipped: malformed
//    [12] uint bad_time       uint64, records skipped: impossible timestamps
//    [13] uint dropped        uint64, live capture drops (libpcap's and own)
//    [14] uint pcap_dropped   uint64, libpcap's part of dropped
//
//  The frame holds nothing after the array.  `out` is emptied first.
int
ds_stats_encode (const ds_stats_t *stats, msgpack_sbuffer *out)
{
    msgpack_packer pk;
    ds_msg_writer_t writer;
    ds_msg_packer_init (&pk, &writer, out, 160);
    ds_msg_pack_header (&pk, S_FIELDS, DS_MSG_STATS);
    msgpack_pack_uint32 (&pk, stats->sensor);
    msgpack_pack_uint32 (&pk, stats->shard);
    msgpack_pack_uint64 (&pk, stats->epoch);
    msgpack_pack_int64 (&pk, stats->sent_us);
    msgpack_pack_uint64 (&pk, stats->batches);
    msgpack_pack_uint64 (&pk, stats->records);
    msgpack_pack_uint64 (&pk, stats->packets_read);
    msgpack_pack_uint64 (&pk, stats->non_ip);
    msgpack_pack_uint64 (&pk, stats->malformed);
    msgpack_pack_uint64 (&pk, stats->bad_time);
    msgpack_pack_uint64 (&pk, stats->dropped);
    msgpack_pack_uint64 (&pk, stats->pcap_dropped);
    return writer.failed ? DS_ERR_NOMEM : DS_OK;
}

//  Decodes a STATS message; *stats is written only on success.
int
ds_stats_decode (const uint8_t *data, size_t size, ds_stats_t *stats)
{
    ds_mpread_t reader;
    ds_mpread_init (&reader, data, size);
    int rc = ds_msg_expect (&reader, DS_MSG_STATS, S_FIELDS);
    if (rc)
        return rc;
    uint64_t v [S_FIELDS - 3];
    int64_t sent_us = 0;
    for (int i = 0; i < S_FIELDS - 3; i++) {
        int bad = i == 3 ? ds_mpread_int (&reader, &sent_us) : ds_mpread_uint (&reader, &v [i]);
        if (bad)
            return ds_mpread_truncated (&reader) ? DS_ERR_TRUNCATED : DS_ERR_MALFORMED;
    }
    if (v [0] > UINT32_MAX || v [1] >= DS_SHARDS_MAX || ds_mpread_left (&reader) != 0)
        return DS_ERR_MALFORMED;
    *stats = (ds_stats_t) {
        .sensor = (uint32_t) v [0], .shard = (uint32_t) v [1], .epoch = v [2], .sent_us = sent_us,
        .batches = v [4], .records = v [5], .packets_read = v [6], .non_ip = v [7],
        .malformed = v [8], .bad_time = v [9], .dropped = v [10], .pcap_dropped = v [11]
    };
    return DS_OK;
}
