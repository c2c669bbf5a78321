/*  report_data.h - typed reading of query results, and the report's one
    error path.

    The report reads the overview and the pattern results (msgpack objects
    a query service answered) through these accessors.  A missing key or a
    value of another type records "unexpected result shape: <where>: ..."
    and returns a harmless value (0, "", an empty array or map), so a
    reader walks a result linearly and checks ds_rdata_failed() once.
    The report's other steps (files, gnuplot) record their failures here
    too: the first failure wins, later ones are no-ops, and it is what
    ds_report_write() returns in err.
*/
#ifndef DS_REPORT_DATA_H
#define DS_REPORT_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <msgpack.h>
#include "tz.h"

typedef struct _ds_rdata_t ds_rdata_t;

//  The overview's window and settings, as every part of the report reads them.
typedef struct {
    char first_day [11];            //  YYYY-MM-DD
    char last_day [11];
    char tz [64];                   //  the overview's time zone
    int64_t days;                   //  as the overview counts them
    int64_t min_packets;            //  the filter threshold
    int32_t first_dn, last_dn;      //  the window as day numbers
    const ds_tz_t *zone;            //  zone of local times: the overview's, or UTC if this
                                    //  host does not know it (set by report.c; NULL: UTC)
    bool tz_matches;                //  zone is the overview's (set by report.c)
} ds_rwindow_t;

//  Creates the reader; the first failure is written into err (err_size
//  bytes, emptied now; NULL keeps it inside).  Caller destroys.
ds_rdata_t *ds_rdata_new (char *err, size_t err_size);

//  Destroys the reader; NULL-safe, nulls *self_p.
void ds_rdata_destroy (ds_rdata_t **self_p);

//  Records a failure unless one is recorded already; returns -1.
int ds_rdata_fail (ds_rdata_t *self, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

//  True once a failure is recorded.
bool ds_rdata_failed (const ds_rdata_t *self);

//  Integer at map[key] (negative ones too; above INT64_MAX: INT64_MAX);
//  `where` names the map in the error ("overview.daily[]").
int64_t ds_rdata_int (ds_rdata_t *self, const msgpack_object *map, const char *key, const char *where);

//  Number (float or integer) at map[key].
double ds_rdata_num (ds_rdata_t *self, const msgpack_object *map, const char *key, const char *where);

//  String at map[key]; points into the result, NOT NUL-terminated.
msgpack_object_str ds_rdata_str (ds_rdata_t *self, const msgpack_object *map, const char *key,
                                 const char *where);

//  Array at map[key] (an empty one on failure).
const msgpack_object *ds_rdata_arr (ds_rdata_t *self, const msgpack_object *map, const char *key,
                                    const char *where);

//  Map at map[key] (an empty one on failure).
const msgpack_object *ds_rdata_map (ds_rdata_t *self, const msgpack_object *map, const char *key,
                                    const char *where);

//  Reads the window and settings of an overview into *window after
//  checking its schema ("darkscope.overview/1"); tz_matches is left false.
int ds_rdata_window (ds_rdata_t *self, const msgpack_object *overview, ds_rwindow_t *window);

//  True if obj is an integer (of either sign).
bool ds_rdata_is_int (const msgpack_object *obj);

//  The integer obj holds (see ds_rdata_is_int; above INT64_MAX: INT64_MAX).
int64_t ds_rdata_as_int (const msgpack_object *obj);

//  Copies a string into buf (size >= 1), truncating; NUL bytes become '?'.
void ds_rdata_copy (char *buf, size_t size, msgpack_object_str s);

#endif
