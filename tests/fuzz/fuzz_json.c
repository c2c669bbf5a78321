/*  libs: ds_proto ds_common */
/*  fuzz_json.c - libFuzzer target: the JSON writer straight from msgpack
    bytes (ds_json_write_mp, what `darkscope run --json` writes with) on any
    bytes; on bytes that validate it must write exactly what the object
    writer writes for them unpacked. */
#include "ds_proto.h"
#include "json.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream (&text, &len);
    if (!out)
        return 0;
    int rc = ds_json_write_mp (out, data, size);
    if (fclose (out) != 0)
        abort ();
    msgpack_zone zone;
    msgpack_zone_init (&zone, 2048);
    msgpack_object obj;
    if (ds_mp_unpack (data, size, &zone, &obj) == DS_OK) {
        char *expected = ds_json_string (&obj);
        if ((expected == NULL) != (rc != 0) || (expected && strcmp (expected, text) != 0))
            abort ();
        free (expected);
    }
    msgpack_zone_destroy (&zone);
    free (text);
    return 0;
}
