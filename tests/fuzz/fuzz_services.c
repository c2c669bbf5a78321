/*  libs: ds_labeler ds_common */
/*  fuzz_services.c - libFuzzer target: the services.json parser; what
    parses must answer lookups for every protocol and a range of ports. */
#include "services.h"
#include "record.h"
#include <stdlib.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    char err [256];
    ds_services_t *s = ds_services_parse ((const char *) data, size, "fuzz", err, sizeof err);
    if (!s)
        return 0;
    for (int proto = 0; proto < DS_PROTO_COUNT; proto++)
        for (int32_t port = -1; port < 70000; port += 997)
            if (ds_services_lookup (s, port, proto) >= ds_services_count (s))
                abort ();
    ds_services_destroy (&s);
    return 0;
}
