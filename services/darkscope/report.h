/*  report.h - `darkscope report`: the DarkVec overview as one HTML page.

    The engine asks a fetch callback for the query results it needs (the §5
    overview, then the activity pattern of all sources and of the classes
    "stretchoid" and "engin-umich" over the overview's window), and writes
    into a directory:

      index.html            self-contained page (inline CSS, no scripts, no
                            remote assets): dataset statistics, last-day
                            classes, filter, ingest counters, every figure
      fig-<name>.svg        figures rendered by gnuplot (svg terminal)
      fig-<name>.csv        the data behind each figure
      overview.json         the full overview
      report.gp             the gnuplot script (re-run it to re-render)

    The caller supplies the transport: `darkscope report` fetches over a REQ
    socket, `darkscope run --report` from its embedded query service, tests
    from objects they build.  Pattern times are shown in the overview's
    time zone, read here by name (tz.h; the process zone is not touched);
    if that zone is unknown on this host, times are in UTC and the page
    says so.

    gnuplot is found on PATH, or at $DARKSCOPE_GNUPLOT if set.
*/
#ifndef DS_REPORT_H
#define DS_REPORT_H

#include <stddef.h>
#include <msgpack.h>
#include "ds_proto.h"

//  Sample points a pattern figure asks for (its CSV); the figure itself is
//  the query's exact raster (or its dots, when they are all in the sample).
#define DS_REPORT_POINTS_MAX    100000

//  Answers one query: on success sets *result to an object allocated in
//  zone (the "result" of the reply) and returns 0; on failure writes the
//  reason into err and returns -1.
typedef int (*ds_report_fetch_fn) (void *ctx, const ds_query_t *query, msgpack_zone *zone,
                                   msgpack_object *result, char *err, size_t err_size);

//  Creates the report directory dir (and its parents) and checks that it
//  is a writable directory, as ds_report_write will: a run checks it before
//  reading its input (and may write its --json into it).  The shallowest
//  directory it created goes into made ("" if none) for
//  ds_report_unprepare.  Returns 0, or -1 with the reason in err (and
//  nothing it created left).
int ds_report_prepare (const char *dir, char *made, size_t made_size, char *err, size_t err_size);

//  When no report was written after ds_report_prepare (the run failed, or
//  had no day to draw): removes the directories it created (made) that
//  hold nothing, so a failure leaves no empty directory behind.
void ds_report_unprepare (const char *dir, const char *made);

//  Fetches what the report needs through fetch(ctx, ...) and writes the
//  report into dir (created if missing).  The files are written into a
//  staging directory inside dir and moved into place once all are
//  written: a failure leaves what was there before (the old report whole,
//  never a mix of old and new files), and a directory it created is
//  removed again.  Returns 0, or -1 with a reason in err (fetch failed,
//  unexpected result shape, dir not writable, gnuplot missing or failing).
int ds_report_write (const char *dir, ds_report_fetch_fn fetch, void *ctx,
                     char *err, size_t err_size);

#endif
