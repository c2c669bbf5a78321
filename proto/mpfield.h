/*  mpfield.h - internal to proto/: typed fields over the bounded cursor,
    for codecs of fixed-length DSK arrays (partial_codec.c).

    Writing: ds_mpf_out_t wraps a packer and keeps the first refusal (a
    value out of range, a list above its ceiling), so an encoder packs its
    fields in order and reports once at the end.

    Reading: ds_mpf_in_t wraps the cursor of mpread.h and keeps the first
    failure with a message naming the field; later reads do nothing, so a
    decoder is a straight list of reads with one exit.  A failed read is
    DS_ERR_TRUNCATED when the bytes end inside the object (every proper
    prefix of a valid message reads as truncated), DS_ERR_MALFORMED when
    the object is not what the field wants, DS_ERR_TOO_BIG when a count
    passes its ceiling (whatever bytes follow).

    Tables: lists of numbers travel as one bin of n fixed-width rows, each
    the columns of ds_mpf_table_t little-endian and packed; the same
    description packs and loads them, and checks ports, protos, booleans.
*/
#ifndef DS_MPFIELD_H
#define DS_MPFIELD_H

#include "message.h"
#include <stdbool.h>

//  Column kinds of a table row (their wire widths in mpfield.c).
typedef enum {
    DS_MPF_U32,                     //  uint32_t, 4 bytes
    DS_MPF_U64,                     //  uint64_t, 8 bytes
    DS_MPF_PORT,                    //  int32_t -1..65535, 4 bytes
    DS_MPF_PROTO,                   //  uint8_t < DS_PROTO_COUNT, 1 byte
    DS_MPF_BOOL,                    //  bool, 1 byte 0 or 1
    DS_MPF_I64                      //  int64_t, 8 bytes
} ds_mpf_kind_t;

//  One column: where its value sits in the row's struct, and its kind.
typedef struct {
    uint16_t offset;                //  of the field in the row's struct
    uint8_t kind;                   //  ds_mpf_kind_t
} ds_mpf_col_t;

//  A table: the row's struct and its columns in wire order.
typedef struct {
    const char *name;               //  for errors
    size_t size;                    //  sizeof the row's struct
    uint32_t max;                   //  rows ceiling
    uint8_t n_cols;
    ds_mpf_col_t cols [24];         //  n_cols of them in use
} ds_mpf_table_t;

//  Writing: a packer that keeps its first refusal.
typedef struct {
    msgpack_packer pk;
    ds_msg_writer_t writer;
    int rc;                         //  first refusal (DS_OK while none)
} ds_mpf_out_t;

//  Reading: the cursor, its first failure and where to describe it.
typedef struct {
    ds_mpread_t r;
    int rc;                         //  first failure (DS_OK while none)
    char *err;                      //  may be NULL
    size_t err_size;
} ds_mpf_in_t;

//  Starts a message: out emptied (room for reserve bytes), header packed.
void ds_mpf_out_begin (ds_mpf_out_t *o, msgpack_sbuffer *out, size_t reserve, uint32_t fields, int type);

//  DS_OK, the first refusal, or DS_ERR_NOMEM if a write failed.
int ds_mpf_out_end (ds_mpf_out_t *o);

//  Keeps rc as the encoder's result unless one is kept already.
void ds_mpf_out_refuse (ds_mpf_out_t *o, int rc);

//  Packs text as a str (nil_if_empty: "" as nil); refuses text of size
//  bytes or more, and "" unless may_be_empty or nil_if_empty.
void ds_mpf_pack_text (ds_mpf_out_t *o, const char *text, size_t size, bool may_be_empty, bool nil_if_empty);

//  Packs n rows of table t from rows (an array of t's struct).
void ds_mpf_pack_table (ds_mpf_out_t *o, const ds_mpf_table_t *t, const void *rows, uint32_t n);

//  Packs a boolean.
void ds_mpf_pack_bool (ds_mpf_out_t *o, bool value);

//  Starts reading size bytes at data; err (may be NULL) gets the reason.
void ds_mpf_in_init (ds_mpf_in_t *in, const uint8_t *data, size_t size, char *err, size_t err_size);

//  Keeps rc and a formatted reason unless a failure is kept; returns false.
bool ds_mpf_fail (ds_mpf_in_t *in, int rc, const char *fmt, ...);

//  Checks [magic, version, type] and the field count.
bool ds_mpf_header (ds_mpf_in_t *in, int want_type, uint32_t want_fields, const char *what);

//  Nothing may follow the message.
bool ds_mpf_in_end (ds_mpf_in_t *in, const char *what);

//  Reads a non-negative integer <= max (above it: malformed).
bool ds_mpf_uint (ds_mpf_in_t *in, const char *field, uint64_t max, uint64_t *value);

//  Reads a uint32.
bool ds_mpf_u32 (ds_mpf_in_t *in, const char *field, uint32_t *value);

//  Reads an integer that fits an int32 (day numbers).
bool ds_mpf_int32 (ds_mpf_in_t *in, const char *field, int32_t *value);

//  Reads an integer that fits an int64 (wall clock times).
bool ds_mpf_int64 (ds_mpf_in_t *in, const char *field, int64_t *value);

//  Reads a boolean.
bool ds_mpf_bool (ds_mpf_in_t *in, const char *field, bool *value);

//  Reads a str into buf (size bytes incl. NUL): shorter than size, no NUL
//  byte; "" only if may_be_empty; nil (as "") only if nil_ok.
bool ds_mpf_text (ds_mpf_in_t *in, const char *field, char *buf, size_t size, bool may_be_empty, bool nil_ok);

//  Reads an array header of at most max entries that each take at least
//  min_bytes: a count the remaining bytes cannot hold is a truncation.
bool ds_mpf_array (ds_mpf_in_t *in, const char *field, uint32_t max, size_t min_bytes, uint32_t *n);

//  Allocates n entries of size (at least one); NULL (and the failure kept)
//  if memory ran out.
void *ds_mpf_alloc (ds_mpf_in_t *in, size_t n, size_t size);

//  Reads table t into rows: into fixed (room for t->max rows) if given,
//  else into a new array at *rows.  Rows are counted from the bin's size,
//  which the cursor has checked against the bytes present.
bool ds_mpf_table (ds_mpf_in_t *in, const ds_mpf_table_t *t, void *fixed, void **rows, uint32_t *n);

#endif
