/*  libs: ds_proto ds_common */
/*  fuzz_mpcheck.c - libFuzzer target: the pre-pass that makes msgpack-c's
    object unpacker safe (msgpack-c issue #1013), and the JSON writer on
    whatever it lets through.  Validated input must unpack; replies parse. */
#include "ds_proto.h"
#include "json.h"
#include <stdlib.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    int valid = ds_mp_validate (data, size, DS_MP_DEPTH_DEFAULT);
    msgpack_zone zone;
    msgpack_zone_init (&zone, 2048);
    msgpack_object obj;
    int rc = ds_mp_unpack (data, size, &zone, &obj);
    if (rc != valid)
        abort ();
    if (rc == DS_OK) {
        free (ds_json_string (&obj));
        const msgpack_object *result;
        char err [128];
        ds_reply_parse (&obj, &result, err, sizeof err);
    }
    msgpack_zone_destroy (&zone);
    return 0;
}
