/*  message.h - internal to proto/: the header every DSK message starts with.

    [ "DSK", version, type, ... ] as a msgpack array.  Decoders call
    ds_msg_header first so magic, version and type are checked before
    anything else, with distinct results for each.
*/
#ifndef DS_MESSAGE_H
#define DS_MESSAGE_H

#include "ds_proto.h"
#include "mpread.h"

//  Reads the array header and [magic, version, type]; *fields is the
//  array's element count (>= 3), *type the message type (1..DS_MSG_TYPE_LAST).
//  Returns DS_ERR_TOO_BIG for a frame above DS_FRAME_MAX, DS_ERR_MAGIC,
//  DS_ERR_VERSION, DS_ERR_TYPE, or DS_ERR_MALFORMED when the bytes end first.
int ds_msg_header (ds_mpread_t *reader, uint32_t *fields, int *type);

//  ds_msg_header, then checks the message is of type `type` with exactly
//  `fields` fields: DS_OK, the header's error, DS_ERR_TYPE for another
//  type, DS_ERR_MALFORMED for another field count.
int ds_msg_expect (ds_mpread_t *reader, int type, uint32_t fields);

//  Packs the array header and [magic, version, type].
void ds_msg_pack_header (msgpack_packer *pk, uint32_t fields, int type);

//  Packs the first seven fields of a batch in the fixed layout (header,
//  sensor, shard, seq, count): ds_batch_encode's and ds_batch_frame_take's.
void ds_msg_pack_batch_head (msgpack_packer *pk, const ds_batch_t *batch);

//  Packer target that remembers an allocation failure (msgpack-c packers
//  ignore the write callback's result half the time).
typedef struct {
    msgpack_sbuffer *out;
    bool failed;
} ds_msg_writer_t;

//  Starts a packer writing into out through writer (out is emptied first,
//  with room for reserve bytes).
void ds_msg_packer_init (msgpack_packer *pk, ds_msg_writer_t *writer,
                         msgpack_sbuffer *out, size_t reserve);

//  Empties an sbuffer so encoders can reuse the caller's buffer.
void ds_msg_sbuffer_reset (msgpack_sbuffer *out, size_t reserve);

#endif
