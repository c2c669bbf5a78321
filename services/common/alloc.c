/*  alloc.c - see alloc.h.  Sanitizer builds replace glibc's allocator:
    there glibc's malloc_trim touches arenas it does not own (it aborted a
    run at thread exit), so nothing is trimmed.
*/
#include "alloc.h"
#include "sanitized.h"
#include <malloc.h>

void
ds_malloc_tune (void)
{
    mallopt (M_MMAP_THRESHOLD, 4 << 20);
    mallopt (M_TRIM_THRESHOLD, 256 << 20);
}

void
ds_malloc_release (void)
{
#if defined (__GLIBC__) && !DS_SANITIZED
    malloc_trim (0);                //  a sanitizer's allocator is not glibc's
#endif
}
