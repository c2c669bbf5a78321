/*  filemap.h - a regular file read through windows mapped read-only.

    The capture reader's fast path reads a file where it lies instead of
    copying it with read(2) into a buffer first: a window of the file is
    mapped, records are parsed in it, and the next window is mapped when
    the reader gets to its end.  A window holds at most a few MB of the
    file's pages, so mapping adds little to the resident size.

    A file that shrinks under a mapping (another process truncates it)
    would kill the reader with SIGBUS; here a page that vanished reads as
    zeros instead, and the map says it was cut (ds_filemap_cut_flag), so
    the reader drops what it read there and goes on as read(2) would have
    (see filemap.c).
*/
#ifndef DS_FILEMAP_H
#define DS_FILEMAP_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ds_filemap_t ds_filemap_t;

//  Windows of this size by default.
#define DS_FILEMAP_WINDOW (8u << 20)

//  A map of fd's file (regular, opened for reading; fd stays the caller's)
//  in windows of window bytes (rounded up to pages), or NULL if it cannot
//  be mapped (read it instead).
ds_filemap_t *ds_filemap_new (int fd, size_t window);

//  Unmaps the window and frees the map.
void ds_filemap_destroy (ds_filemap_t **self_p);

//  The file's bytes from offset off: *len of them, at least want unless the
//  file ends first (0 at or past its end), valid until the next call.  The
//  file's size is read again when a window is mapped, so a file that grows
//  is read to its new end.  NULL (errno set) if no window could be mapped.
const uint8_t *ds_filemap_at (ds_filemap_t *self, uint64_t off, size_t want, size_t *len);

//  The flag that turns non-zero when a page of the window vanished (the
//  file shrank under the reader): what was read since the last window was
//  mapped may be zeros.  Read it after using the bytes.
const volatile sig_atomic_t *ds_filemap_cut_flag (const ds_filemap_t *self);

#endif
