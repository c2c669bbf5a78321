/*  libs: ds_proto ds_common */
/*  fuzz_query.c - libFuzzer target: query request decoder.  Every refusal
    carries a reason; what decodes must re-encode to an equal query. */
#include "ds_proto.h"
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    ds_query_t query, again;
    char err [256];
    if (ds_query_decode (data, size, &query, err, sizeof err) != DS_OK) {
        if (err [0] == 0 || strlen (err) >= sizeof err)
            abort ();
        return 0;
    }
    msgpack_sbuffer buf;
    msgpack_sbuffer_init (&buf);
    if (ds_query_encode (&query, &buf) != DS_OK
    ||  ds_query_decode ((const uint8_t *) buf.data, buf.size, &again, err, sizeof err) != DS_OK
    ||  memcmp (&query, &again, sizeof query) != 0)
        abort ();
    msgpack_sbuffer_destroy (&buf);
    return 0;
}
