/*  alloc.h - the process's allocator policy: glibc's thresholds set once
    at start, and free pages given back after large, short-lived work.
*/
#ifndef DS_ALLOC_H
#define DS_ALLOC_H

//  Tunes glibc's allocator for the batch path; call once at process start,
//  before threads.  A batch message (~140 KB) is allocated by one thread
//  and freed by another (the next service, or zmq's I/O thread); with the
//  default dynamic thresholds frees trim the arena and the next batches
//  fault their pages back in (page faults are dear, in VMs most).  Fixed
//  thresholds keep freed memory for reuse: mmap only above 4 MB, trim only
//  above 256 MB of free top.
void ds_malloc_tune (void);

//  Gives the allocator's free pages back to the system, in every arena:
//  after an answer whose temporaries were large (an overview or pattern
//  partial, a merge of many partials), so they do not stay resident until
//  the next day's eviction trims (retention.c).  glibc only; else nothing.
void ds_malloc_release (void);

#endif
