/*  libs: ds_proto ds_common */
/*  fuzz_eos.c - libFuzzer target: end-of-stream decoder; what decodes must
    re-encode and decode to the same values. */
#include "ds_proto.h"
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    ds_eos_t eos, again;
    int type;
    int peek = ds_msg_peek (data, size, &type);
    if (ds_eos_decode (data, size, &eos) != DS_OK)
        return 0;
    if (peek != DS_OK || type != DS_MSG_EOS)
        abort ();
    msgpack_sbuffer buf;
    msgpack_sbuffer_init (&buf);
    if (ds_eos_encode (&eos, &buf) != DS_OK
    ||  ds_eos_decode ((const uint8_t *) buf.data, buf.size, &again) != DS_OK
    ||  memcmp (&eos, &again, sizeof eos) != 0)
        abort ();
    msgpack_sbuffer_destroy (&buf);
    return 0;
}
