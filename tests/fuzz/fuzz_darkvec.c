/*  libs: ds_ingest ds_common */
/*  fuzz_darkvec.c - libFuzzer target: the DarkVec log reader (header
    detection, both layouts, every line) and its timestamp parser.  The input
    is written to a memory file and read through the real file path. */
#include "darkvec.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    int64_t ts;
    ds_darkvec_parse_ts ((const char *) data, size, &ts);
    int fd = memfd_create ("darkvec", 0);
    if (fd < 0)
        return 0;
    if (write (fd, data, size) != (ssize_t) size) {
        close (fd);
        return 0;
    }
    char path [64], err [256];
    snprintf (path, sizeof path, "/proc/self/fd/%d", fd);
    ds_darkvec_t *log = ds_darkvec_open (path, err, sizeof err);
    if (log) {
        ds_record_t rec;
        for (int i = 0; i < 100000; i++) {
            int rc = ds_darkvec_next (log, &rec);
            if (rc == DS_DARKVEC_ERROR || rc == DS_DARKVEC_END)
                break;
        }
        ds_darkvec_destroy (&log);
    }
    close (fd);
    return 0;
}
