/*  mpcheck.c - safe use of msgpack-c's object unpacker; see ds_proto.h.

    msgpack_unpack() allocates count * sizeof (msgpack_object) for an array
    as soon as it reads the header, before it knows whether the elements
    are there (msgpack-c issue #1013): 5 hostile bytes can ask for 100 GB.
    ds_mp_validate walks the raw bytes first with the bounded cursor: every
    declared count must fit in the bytes that remain (each element needs at
    least one byte), nesting must stay within max_depth, and the data must
    be exactly one object.  After that the unpacker's allocations are
    bounded by a small multiple of the input size.
*/
#include "message.h"
#include <msgpack/unpack_define.h>
#include <string.h>

int
ds_mp_validate (const uint8_t *data, size_t size, int max_depth)
{
    if (size > DS_FRAME_MAX)
        return DS_ERR_TOO_BIG;
    if (max_depth >= MSGPACK_EMBED_STACK_SIZE)
        max_depth = MSGPACK_EMBED_STACK_SIZE - 1;   //  the unpacker's own limit
    ds_mpread_t reader;
    ds_mpread_init (&reader, data, size);
    int rc = ds_mpread_skip (&reader, max_depth);
    if (rc)
        return rc;
    return ds_mpread_left (&reader) == 0 ? DS_OK : DS_ERR_MALFORMED;
}

int
ds_mp_unpack (const uint8_t *data, size_t size, msgpack_zone *zone,
              msgpack_object *obj)
{
    int rc = ds_mp_validate (data, size, DS_MP_DEPTH_DEFAULT);
    if (rc)
        return rc;
    size_t offset = 0;
    msgpack_unpack_return ret = msgpack_unpack ((const char *) data, size, &offset, zone, obj);
    if (ret == MSGPACK_UNPACK_SUCCESS && offset == size)
        return DS_OK;
    return ret == MSGPACK_UNPACK_NOMEM_ERROR ? DS_ERR_NOMEM : DS_ERR_MALFORMED;
}

const msgpack_object *
ds_mp_get (const msgpack_object *map, const char *key)
{
    if (!map || map->type != MSGPACK_OBJECT_MAP)
        return NULL;
    size_t len = strlen (key);
    for (uint32_t i = 0; i < map->via.map.size; i++) {
        const msgpack_object *k = &map->via.map.ptr [i].key;
        if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == len
        &&  memcmp (k->via.str.ptr, key, len) == 0)
            return &map->via.map.ptr [i].val;
    }
    return NULL;
}
