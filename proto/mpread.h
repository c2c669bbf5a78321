/*  mpread.h - a bounded cursor reader over raw msgpack bytes.

    The decoders of proto/ read messages with this cursor instead of
    msgpack-c's object unpacker, which allocates on a declared count before
    it knows whether the bytes are there (msgpack-c issue #1013).  Every read
    is checked against the bytes that remain; a declared array/map count is
    checked against them too (each element needs at least one byte) before
    the caller can allocate anything for it.  On failure the cursor does not
    move and the read returns DS_ERR_MALFORMED; reads never touch a byte
    past `end`.  Strings and bins are returned as pointers into the input.
*/
#ifndef DS_MPREAD_H
#define DS_MPREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    const uint8_t *pos;             //  next byte to read
    const uint8_t *end;             //  one past the last byte
} ds_mpread_t;

//  The kinds of msgpack object, as ds_mpread_peek reports them.
typedef enum {
    DS_MP_NONE = 0,                 //  no bytes left, or the unused byte 0xc1
    DS_MP_NIL, DS_MP_BOOL, DS_MP_UINT, DS_MP_INT, DS_MP_FLOAT,
    DS_MP_STR, DS_MP_BIN, DS_MP_ARRAY, DS_MP_MAP, DS_MP_EXT
} ds_mp_kind_t;

//  Starts a cursor over size bytes at data.
void ds_mpread_init (ds_mpread_t *self, const void *data, size_t size);

//  Bytes not yet read.
size_t ds_mpread_left (const ds_mpread_t *self);

//  Kind of the next object without consuming it (DS_MP_UINT for
//  non-negative integers in any encoding, DS_MP_INT for negative ones).
ds_mp_kind_t ds_mpread_peek (const ds_mpread_t *self);

//  Reads an array header; *count is <= the bytes that remain.
int ds_mpread_array (ds_mpread_t *self, uint32_t *count);

//  Reads a map header; 2 * *count is <= the bytes that remain.
int ds_mpread_map (ds_mpread_t *self, uint32_t *count);

//  Reads a non-negative integer (any integer encoding whose value is >= 0).
int ds_mpread_uint (ds_mpread_t *self, uint64_t *value);

//  Reads an integer that fits in int64_t.
int ds_mpread_int (ds_mpread_t *self, int64_t *value);

//  Reads a string; *str points into the input and is NOT NUL-terminated.
int ds_mpread_str (ds_mpread_t *self, const char **str, uint32_t *len);

//  Reads a bin; *bin points into the input.
int ds_mpread_bin (ds_mpread_t *self, const uint8_t **bin, uint32_t *len);

//  Reads a boolean.
int ds_mpread_bool (ds_mpread_t *self, bool *value);

//  Reads a nil.
int ds_mpread_nil (ds_mpread_t *self);

//  Reads a float32 or float64 as a double.
int ds_mpread_float (ds_mpread_t *self, double *value);

//  Skips one complete object, nested at most max_depth deep (a scalar is
//  depth 0, an array of scalars depth 1).  Returns DS_ERR_TOO_BIG when the
//  nesting is deeper, DS_ERR_MALFORMED when it does not fit.
int ds_mpread_skip (ds_mpread_t *self, int max_depth);

//  True if the next object does not fit in the bytes that remain: no byte
//  is left, its header or its str/bin/ext body is cut, or an array or map
//  declares more entries than bytes remain.  After a failed read it tells
//  a truncated input (true) from a wrong byte (false).
bool ds_mpread_truncated (const ds_mpread_t *self);

//  True if a string read by ds_mpread_str equals the NUL-terminated text.
bool ds_mpread_str_eq (const char *str, uint32_t len, const char *text);

#endif
