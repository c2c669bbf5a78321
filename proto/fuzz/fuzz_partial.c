/*  libs: ds_proto */
/*  fuzz_partial.c - libFuzzer target: the partial request and partial
    decoders (partial_codec.h).  Every decoder reads the same bytes; what
    decodes must re-encode, decode again and re-encode to the same bytes,
    and a status must pack as a well-formed map. */
#include "partial_codec.h"
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

//  Encodes a decoded value, decodes that and encodes again: both encodings
//  must succeed and be equal.  The macro keeps one shape for five types.
#define S_AGAIN(type, value, encode, decode, clear) do {                        \
    type again_;                                                                \
    msgpack_sbuffer one_, two_;                                                 \
    msgpack_sbuffer_init (&one_);                                               \
    msgpack_sbuffer_init (&two_);                                               \
    if (encode (value, &one_) != DS_OK                                          \
    ||  decode ((const uint8_t *) one_.data, one_.size, &again_, NULL, 0) != DS_OK \
    ||  encode (&again_, &two_) != DS_OK                                        \
    ||  one_.size != two_.size || memcmp (one_.data, two_.data, one_.size))     \
        abort ();                                                               \
    clear (&again_);                                                            \
    msgpack_sbuffer_destroy (&one_);                                            \
    msgpack_sbuffer_destroy (&two_);                                            \
} while (0)

static void s_no_clear (const void *p) { (void) p; }

static void
s_check_rc (int rc)
{
    if (rc > DS_OK || rc < DS_ERR_TRUNCATED)
        abort ();
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    char err [256];
    int rc;
    ds_part_req_t req;
    if ((rc = ds_part_req_decode (data, size, &req, err, sizeof err)) == DS_OK)
        S_AGAIN (ds_part_req_t, &req, ds_part_req_encode, ds_part_req_decode, s_no_clear);
    s_check_rc (rc);
    ds_part_range_t range;
    if ((rc = ds_part_range_decode (data, size, &range, err, sizeof err)) == DS_OK)
        S_AGAIN (ds_part_range_t, &range, ds_part_range_encode, ds_part_range_decode, s_no_clear);
    s_check_rc (rc);
    ds_part_ppsrc_t ppsrc;
    if ((rc = ds_part_ppsrc_decode (data, size, &ppsrc, err, sizeof err)) == DS_OK)
        S_AGAIN (ds_part_ppsrc_t, &ppsrc, ds_part_ppsrc_encode, ds_part_ppsrc_decode, s_no_clear);
    s_check_rc (rc);
    ds_part_overview_t overview;
    if ((rc = ds_part_overview_decode (data, size, &overview, err, sizeof err)) == DS_OK) {
        S_AGAIN (ds_part_overview_t, &overview, ds_part_overview_encode, ds_part_overview_decode,
                 ds_part_overview_clear);
        ds_part_overview_clear (&overview);
    }
    s_check_rc (rc);
    ds_part_status_t status;
    if ((rc = ds_part_status_decode (data, size, &status, err, sizeof err)) == DS_OK) {
        S_AGAIN (ds_part_status_t, &status, ds_part_status_encode, ds_part_status_decode,
                 ds_part_status_clear);
        msgpack_sbuffer map;
        msgpack_sbuffer_init (&map);
        msgpack_packer pk;
        msgpack_packer_init (&pk, &map, msgpack_sbuffer_write);
        ds_part_status_pack_map (&status, &pk);
        if (ds_mp_validate ((const uint8_t *) map.data, map.size, 4) != DS_OK)
            abort ();
        msgpack_sbuffer_destroy (&map);
        ds_part_status_clear (&status);
    }
    s_check_rc (rc);
    return 0;
}
