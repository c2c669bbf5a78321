/*  libs: ds_proto ds_common */
/*  fuzz_stats.c - libFuzzer target: the STATS decoder; what decodes must
    re-encode and decode to the same values. */
#include "ds_proto.h"
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    ds_stats_t stats, again;
    int type;
    int peek = ds_msg_peek (data, size, &type);
    if (ds_stats_decode (data, size, &stats) != DS_OK)
        return 0;
    if (peek != DS_OK || type != DS_MSG_STATS)
        abort ();
    msgpack_sbuffer buf;
    msgpack_sbuffer_init (&buf);
    if (ds_stats_encode (&stats, &buf) != DS_OK
    ||  ds_stats_decode ((const uint8_t *) buf.data, buf.size, &again) != DS_OK
    ||  memcmp (&stats, &again, sizeof stats) != 0)
        abort ();
    msgpack_sbuffer_destroy (&buf);
    return 0;
}
