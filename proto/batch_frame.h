/*  batch_frame.h - batches built inside the bytes of their own message.

    A framed batch's columns are not arrays of their own: they are the
    column bins of a fixed-layout batch message (ds_batch_encode's layout,
    PROTOCOL.md), laid out for `capacity` records in one buffer, the bin
    headers written once.  A full batch is sent by writing the message's
    few header bytes in front of its first column and handing the buffer
    over (ds_batch_frame_take): the same bytes ds_batch_encode would give,
    without copying ~34 bytes a record.  A batch that is not full, or
    whose dictionaries do not fit the room left for them, goes through
    ds_batch_encode as any other.  For links that carry the fixed layout
    (inproc); little-endian hosts only (elsewhere ds_batch_new_framed gives
    an ordinary batch, which ds_batch_frame_take declines).
*/
#ifndef DS_BATCH_FRAME_H
#define DS_BATCH_FRAME_H

#include "batch.h"
#include <stddef.h>

//  Creates an empty framed batch able to hold capacity records (its class
//  and service id columns included).  ds_batch_destroy destroys it.
ds_batch_t *ds_batch_new_framed (uint32_t capacity);

//  The message of a framed batch holding `capacity` records: *data and
//  *size are its bytes (ds_batch_encode's, to the byte), inside the
//  malloc'ed block *base that the caller now owns (free it, or let zmq:
//  ds_msg_init_in).  The batch gets a fresh frame; its records and
//  dictionaries are left for ds_batch_reset as after ds_batch_encode.
//  Returns 0; 1 when the batch is not framed, not full or its dictionaries
//  do not fit (encode it as usual); -1 out of memory (the batch unchanged).
int ds_batch_frame_take (ds_batch_t *batch, void **base, const void **data, size_t *size);

#endif
