/*  libs: ds_ingest ds_common */
/*  fuzz_parse.c - libFuzzer target: the frame parser of ingest, every link
    type.  The first byte picks the link type; the rest is the frame, copied
    to a buffer of exactly its length so any over-read is caught by ASan. */
#include "parse.h"
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static const int s_dlts [] = { DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_RAW,
                               228, 229, DLT_NULL, DLT_LOOP, 12, 14 };

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int dlt = s_dlts [data [0] % (sizeof s_dlts / sizeof *s_dlts)];
    if (!ds_link_supported (dlt))
        return 0;
    size_t n = size - 1;
    uint8_t *frame = malloc (n ? n : 1);
    memcpy (frame, data + 1, n);
    ds_record_t rec;
    int rc = ds_parse_frame (dlt, frame, (uint32_t) n, 1, &rec);
    if (rc == DS_PARSE_OK && (rec.proto >= DS_PROTO_COUNT || rec.port < -1 || rec.port > 65535))
        abort ();
    free (frame);
    return 0;
}
