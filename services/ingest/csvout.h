/*  csvout.h - records as DarkVec's intermediate CSV (--output csv).

    One line per record, `ts,ip,port,proto,pp`, ts as "YYYY-MM-DD
    HH:MM:SS.ffffff" in the writer's time zone (tz.h); with `extra` also
    `mirai,ts_us`.  This is the converter that lets pandas users reuse
    DarkVec's notebooks (DESIGN §3), and for it the per-packet path: the
    timestamp text is cached per second and the file has a 1 MiB buffer.
    The first write error is logged with the file name, later ones are not.
*/
#ifndef DS_CSVOUT_H
#define DS_CSVOUT_H

#include <stdbool.h>
#include <stdint.h>
#include "record.h"
#include "tz.h"

typedef struct ds_csvout_t ds_csvout_t;

//  Creates path (NULL or "-": standard output) and writes the header line;
//  timestamps are local times of tz (NULL: UTC; borrowed: it must outlive
//  the writer).  NULL, with the error logged, if the file cannot be
//  created.  Caller destroys.
ds_csvout_t *ds_csvout_new (const char *path, bool extra, const ds_tz_t *tz);

//  Closes the file if ds_csvout_close did not (silently), frees; NULL-safe;
//  nulls the caller's pointer.
void ds_csvout_destroy (ds_csvout_t **self_p);

//  Writes the line of one record.  Returns 0, or -1 (logged).
int ds_csvout_write (ds_csvout_t *self, const ds_record_t *rec);

//  Hands the buffered lines to the file now (live capture, periodically).
//  Returns 0, or -1 (logged).
int ds_csvout_flush (ds_csvout_t *self);

//  Flushes and closes the file (standard output is flushed, not closed).
//  Returns 0, or -1 if this or an earlier write failed.
int ds_csvout_close (ds_csvout_t *self);

//  Records written so far.
uint64_t ds_csvout_records (const ds_csvout_t *self);

#endif
