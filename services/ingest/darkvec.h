/*  darkvec.h - DarkVec text logs as a record source (DESIGN.md §3).

    Two layouts, told apart by the header line: the raw `packets.log` (fields
    separated by runs of spaces/tabs) and the comma-separated 17-column
    variant of DarkVec's public samples (a leading unnamed index column).
    Columns are found by header name: ts, src_ip, dst_port and proto are
    required, mirai is optional.  Files may be gzip-compressed.  A line that
    cannot be read is counted and reported with file:line (the first 10 of a
    file in full, then a count at the end), and reading goes on.
*/
#ifndef DS_DARKVEC_H
#define DS_DARKVEC_H

#include <stddef.h>
#include <stdint.h>
#include "record.h"

typedef struct ds_darkvec_t ds_darkvec_t;

//  Results of ds_darkvec_next.
enum {
    DS_DARKVEC_RECORD = 0,          //  rec filled in
    DS_DARKVEC_BAD    = 1,          //  a bad data line (counted, reported)
    DS_DARKVEC_END    = 2,          //  no more lines
    DS_DARKVEC_ERROR  = -1          //  read error (logged)
};

//  Opens a log and reads its header.  On failure returns NULL with a reason
//  naming the file in err.  Caller destroys.
ds_darkvec_t *ds_darkvec_open (const char *path, char *err, size_t err_size);

//  Destroys a reader (reports the count of bad lines not shown in full).
void ds_darkvec_destroy (ds_darkvec_t **self_p);

//  Reads the next data line into rec.
int ds_darkvec_next (ds_darkvec_t *self, ds_record_t *rec);

//  Compressed bytes consumed so far (for progress).
uint64_t ds_darkvec_offset (ds_darkvec_t *self);

//  Parses decimal epoch seconds ("1619827200.2047381") into microseconds by
//  truncating the text (no floating point).  Returns 0, or -1 if not a number.
int ds_darkvec_parse_ts (const char *text, size_t len, int64_t *ts_us);

#endif
