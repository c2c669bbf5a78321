/*  message.c - message header, topics and result names; see ds_proto.h.

    The header [ "DSK", version, type ] is checked byte by byte: bytes that
    end before the magic is complete are "malformed" (truncated), bytes
    that differ from it are "wrong magic".
*/
#include "message.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  Result names, indexed by -result.
static const char *s_result_names [] = {
    "ok",
    "malformed message",
    "wrong magic (not a darkscope message)",
    "unknown protocol version",
    "unknown or unexpected message type",
    "frame or count above a ceiling",
    "out of memory",
    "truncated message (the bytes end inside it)"
};

const char *
ds_result_str (int result)
{
    int index = -result;
    if (index < 0 || index >= (int) (sizeof s_result_names / sizeof *s_result_names))
        return "unknown result";
    return s_result_names [index];
}

void
ds_pack_str (msgpack_packer *pk, const char *text)
{
    size_t n = strlen (text);
    msgpack_pack_str (pk, n);
    msgpack_pack_str_body (pk, text, n);
}

void
ds_topic_format (char *buf, const char *prefix, uint32_t shard)
{
    //  shard must be < DS_SHARDS_MAX; the size bound keeps a wrong one in buf
    snprintf (buf, DS_TOPIC_LEN + 1, "%s.%04u", prefix, shard);
}

int
ds_msg_header (ds_mpread_t *reader, uint32_t *fields, int *type)
{
    size_t size = ds_mpread_left (reader);
    if (size > DS_FRAME_MAX)
        return DS_ERR_TOO_BIG;
    ds_mp_kind_t kind = ds_mpread_peek (reader);
    if (kind != DS_MP_ARRAY)
        return kind == DS_MP_NONE && size == 0 ? DS_ERR_MALFORMED : DS_ERR_MAGIC;
    if (ds_mpread_array (reader, fields) || *fields < 3)
        return DS_ERR_MALFORMED;
    static const uint8_t magic [4] = { 0xa3, 'D', 'S', 'K' };
    size_t left = ds_mpread_left (reader);
    size_t n = left < sizeof magic ? left : sizeof magic;
    if (memcmp (reader->pos, magic, n) != 0)
        return DS_ERR_MAGIC;
    if (n < sizeof magic)
        return DS_ERR_MALFORMED;
    reader->pos += sizeof magic;
    int64_t version, msg_type;
    if (ds_mpread_int (reader, &version))
        return DS_ERR_MALFORMED;
    if (version != DS_PROTO_VERSION)
        return DS_ERR_VERSION;
    if (ds_mpread_int (reader, &msg_type))
        return DS_ERR_MALFORMED;
    if (msg_type < DS_MSG_BATCH || msg_type > DS_MSG_TYPE_LAST)
        return DS_ERR_TYPE;
    *type = (int) msg_type;
    return DS_OK;
}

int
ds_msg_expect (ds_mpread_t *reader, int type, uint32_t fields)
{
    uint32_t got_fields;
    int got_type;
    int rc = ds_msg_header (reader, &got_fields, &got_type);
    if (rc)
        return rc;
    if (got_type != type)
        return DS_ERR_TYPE;
    return got_fields == fields ? DS_OK : DS_ERR_MALFORMED;
}

int
ds_msg_peek (const uint8_t *data, size_t size, int *type)
{
    ds_mpread_t reader;
    ds_mpread_init (&reader, data, size);
    uint32_t fields;
    return ds_msg_header (&reader, &fields, type);
}

void
ds_msg_pack_header (msgpack_packer *pk, uint32_t fields, int type)
{
    msgpack_pack_array (pk, fields);
    msgpack_pack_str_with_body (pk, DS_PROTO_MAGIC, 3);
    msgpack_pack_uint8 (pk, DS_PROTO_VERSION);
    msgpack_pack_uint8 (pk, (uint8_t) type);
}

void
ds_msg_sbuffer_reset (msgpack_sbuffer *out, size_t reserve)
{
    out->size = 0;
    if (out->alloc < reserve) {
        char *data = realloc (out->data, reserve);
        if (data) {
            out->data = data;
            out->alloc = reserve;
        }
        //  on failure msgpack_sbuffer_write grows (or fails) as usual
    }
}

static int
s_write (void *data, const char *buf, size_t len)
{
    ds_msg_writer_t *writer = data;
    if (msgpack_sbuffer_write (writer->out, buf, len))
        writer->failed = true;
    return writer->failed ? -1 : 0;
}

void
ds_msg_packer_init (msgpack_packer *pk, ds_msg_writer_t *writer,
                    msgpack_sbuffer *out, size_t reserve)
{
    ds_msg_sbuffer_reset (out, reserve);
    writer->out = out;
    writer->failed = false;
    msgpack_packer_init (pk, writer, s_write);
}
