/*  libs: ds_labeler ds_common */
/*  fuzz_gt.c - libFuzzer target: ground-truth loading, as a CSV and as a
    CIDR list, then lookups.  The input goes through a real (memory) file. */
#include "gt.h"
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    int fd = memfd_create ("gt", 0);
    if (fd < 0)
        return 0;
    if (write (fd, data, size) != (ssize_t) size) {
        close (fd);
        return 0;
    }
    char path [64], err [256];
    snprintf (path, sizeof path, "/proc/self/fd/%d", fd);
    ds_gt_t *gt = ds_gt_new ();
    ds_gt_load_csv (gt, path, err, sizeof err);
    ds_gt_load_list (gt, path, "fuzzclass", err, sizeof err);
    if (ds_gt_build (gt) == 0) {
        ds_addr_t addr = { { 0 } };
        for (int i = 0; i < 64; i++) {
            addr.b [i % 16] = (uint8_t) (i * 37);
            bool matched;
            if (ds_gt_lookup (gt, &addr, &matched) >= ds_gt_class_count (gt))
                abort ();
        }
    }
    ds_gt_destroy (&gt);
    close (fd);
    return 0;
}
