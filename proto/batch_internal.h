/*  batch_internal.h - internal to proto/: what the batch codec's two
    layouts share (batch_codec.c: the fixed layout and the decoder;
    batch_packed.c: the packed layout).
*/
#ifndef DS_BATCH_INTERNAL_H
#define DS_BATCH_INTERNAL_H

#include "message.h"

#define S_LITTLE_ENDIAN (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__)

//  Bytes per record in each fixed-width column.
enum {
    S_TS_W = 8, S_SRC_W = 16, S_PORT_W = 4, S_PROTO_W = 1, S_FLAGS_W = 1,
    S_ID_W = 2
};

#define S_PACKED_FIELDS 13          //  packed, unlabelled; labelled: + 3

//  The columns of a message, read and length-checked before anything is
//  allocated or copied.
typedef struct {
    int64_t ts_first;               //  packed only
    const uint8_t *ts, *v4, *src, *port, *pf, *proto, *flags, *class_id, *service_id;
    uint32_t ts_len, src_len, port_len, pf_len, ids_len;
    uint32_t n_v4;                  //  packed: IPv4 sources (bits set in v4)
} s_cols_t;

//  Packs the label dictionaries of a labelled batch: class names, service
//  names (both layouts end with them).
void batch_pack_names (msgpack_packer *pk, const ds_batch_t *batch);

//  Reads the columns of a packed message of n records (lengths checked):
//  DS_OK or DS_ERR_MALFORMED.
int batch_packed_read (ds_mpread_t *reader, uint32_t n, bool labelled, s_cols_t *c);

//  Fills into's columns from a packed message's columns read by
//  batch_packed_read (into has room for n).
void batch_packed_fill (ds_batch_t *into, const s_cols_t *c, uint32_t n, bool labelled);

#endif
