/*  batch_frame.c - batches built inside their message; see batch_frame.h.

    A frame for n records (w: the column widths of the fixed layout, 8 16
    4 1 1 2 2; hdr (b): msgpack's bin header for b bytes, 2, 3 or 5):

      [0, S_HEAD - hdr (8n))   room for the message header, written at
                               take time against the ts bin header
      ts, src, port, proto, flags, class_id, service_id
                               each its bin header, then n * w bytes
      S_DICT bytes             room for the dictionaries of a labelled batch

    The ts column starts S_HEAD (64) bytes into a 64-byte aligned block.
    A column whose place there is not aligned for its type (the class ids
    at the usual capacity, 4096; the ports at some others) is an array of
    its own, copied into place when the message is taken: 2 of the ~34
    bytes a record at 4096.
*/
#include "batch_frame.h"
#include "ds_proto.h"
#include "batch_internal.h"
#include <stdlib.h>
#include <string.h>

#define S_HEAD      64              //  bytes before the ts column's data
#define S_DICT      4096            //  bytes for the dictionaries
#define S_COLUMNS   7

static const size_t s_width [S_COLUMNS] = {
    S_TS_W, S_SRC_W, S_PORT_W, S_PROTO_W, S_FLAGS_W, S_ID_W, S_ID_W
};
static const size_t s_align [S_COLUMNS] = { 8, 1, 4, 1, 1, 2, 2 };

//  A msgpack writer into [at, end): fails rather than writes past end.
typedef struct {
    uint8_t *at, *end;
    bool failed;
} s_room_t;

static int
s_room_write (void *data, const char *buf, size_t len)
{
    s_room_t *room = data;
    if (room->failed || (size_t) (room->end - room->at) < len) {
        room->failed = true;
        return -1;
    }
    memcpy (room->at, buf, len);
    room->at += len;
    return 0;
}

//  The batch's pointer to column c.
static void **
s_column (ds_batch_t *batch, int c)
{
    switch (c) {
        case 0: return (void **) &batch->ts;
        case 1: return (void **) &batch->src;
        case 2: return (void **) &batch->port;
        case 3: return (void **) &batch->proto;
        case 4: return (void **) &batch->flags;
        case 5: return (void **) &batch->class_id;
        default: return (void **) &batch->service_id;
    }
}

//  Bytes of msgpack's bin header for a body of `bytes` (msgpack_pack_bin).
static size_t
s_bin_header (size_t bytes)
{
    return bytes < 256 ? 2 : bytes < 65536 ? 3 : 5;
}

//  Packs msgpack's bin header for `bytes` into the s_bin_header (bytes)
//  bytes at p; false if it would not fill them exactly.
static bool
s_put_bin_header (uint8_t *p, size_t bytes)
{
    size_t len = s_bin_header (bytes);
    s_room_t room = { p, p + len, false };
    msgpack_packer pk;
    msgpack_packer_init (&pk, &room, s_room_write);
    msgpack_pack_bin (&pk, bytes);
    return !room.failed && room.at == p + len;
}

//  Where each column's data starts in a frame for n records, and where the
//  dictionaries start (at [S_COLUMNS]).
static void
s_layout (uint32_t n, size_t at [S_COLUMNS + 1])
{
    size_t off = S_HEAD;
    for (int c = 0; c < S_COLUMNS; c++) {
        if (c)
            off += s_bin_header (s_width [c] * n);
        at [c] = off;
        off += s_width [c] * n;
    }
    at [S_COLUMNS] = off;
}

//  A new frame for batch->capacity records, its bin headers written, the
//  batch's aligned columns pointed into it and the others given arrays of
//  their own (once); the old frame (if any) is the caller's.  0, or -1 out
//  of memory (nothing changed but arrays made).
static int
s_frame_new (ds_batch_t *batch)
{
    uint32_t n = batch->capacity;
    size_t at [S_COLUMNS + 1];
    s_layout (n, at);
    for (int c = 0; c < S_COLUMNS; c++) {
        void **col = s_column (batch, c);
        if (at [c] % s_align [c] && !*col && !(*col = malloc (n * s_width [c])))
            return -1;
    }
    size_t size = (at [S_COLUMNS] + S_DICT + 63) & ~(size_t) 63;
    uint8_t *frame = aligned_alloc (64, size);
    if (!frame)
        return -1;
    for (int c = 0; c < S_COLUMNS; c++)
        if (!s_put_bin_header (frame + at [c] - s_bin_header (s_width [c] * n), s_width [c] * n)) {
            free (frame);
            return -1;
        }
    for (int c = 0; c < S_COLUMNS; c++)
        if (at [c] % s_align [c] == 0)
            *s_column (batch, c) = frame + at [c];
    batch->frame = frame;
    batch->frame_size = size;
    return 0;
}

ds_batch_t *
ds_batch_new_framed (uint32_t capacity)
{
    if (!S_LITTLE_ENDIAN || capacity == 0 || capacity > DS_BATCH_MAX_CAPACITY)
        return ds_batch_new (capacity);
    ds_batch_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->capacity = capacity;
    if (s_frame_new (self))
        ds_batch_destroy (&self);
    return self;
}

int
ds_batch_frame_take (ds_batch_t *batch, void **base, const void **data, size_t *size)
{
    if (!batch->frame || batch->count != batch->capacity)
        return 1;
    uint32_t n = batch->count;
    size_t at [S_COLUMNS + 1];
    s_layout (n, at);
    uint8_t *frame = batch->frame;
    //  The dictionaries after the last column, as ds_batch_encode packs
    //  them; an unlabelled message ends with the flags.
    size_t end = at [4] + n;
    if (batch->labelled) {
        if (batch->n_classes > DS_DICT_MAX || batch->n_services > DS_DICT_MAX)
            return 1;
        s_room_t room = { frame + at [S_COLUMNS], frame + at [S_COLUMNS] + S_DICT, false };
        msgpack_packer pk;
        msgpack_packer_init (&pk, &room, s_room_write);
        batch_pack_names (&pk, batch);
        if (room.failed)
            return 1;
        end = (size_t) (room.at - frame);
    }
    //  The header, in front of the ts column's bin header.
    uint8_t head [S_HEAD];
    s_room_t room = { head, head + sizeof head, false };
    msgpack_packer pk;
    msgpack_packer_init (&pk, &room, s_room_write);
    ds_msg_pack_batch_head (&pk, batch);
    size_t head_len = (size_t) (room.at - head);
    size_t start = at [0] - s_bin_header (s_width [0] * n) - head_len;
    if (room.failed || start > at [0] || end - start > DS_FRAME_MAX)
        return 1;
    //  The batch moves to a fresh frame before this one is handed over;
    //  its columns of their own are copied into place.
    if (s_frame_new (batch))
        return -1;
    for (int c = 0; c < S_COLUMNS; c++) {
        const void *col = *s_column (batch, c);
        if (at [c] % s_align [c] && (c < 5 || batch->labelled))
            memcpy (frame + at [c], col, n * s_width [c]);
    }
    memcpy (frame + start, head, head_len);
    *base = frame;
    *data = frame + start;
    *size = end - start;
    return 0;
}
