/*  dashboard.h - the live dashboard on the query service's HTTP server.

    Adds to an ops HTTP server (http.h, before it starts):
      /api/NAME?ARGS   the query protocol over HTTP: NAME is a query
                       (overview, ports, ecdf, daily, classes, heatmap,
                       pattern, lookup, status), ARGS its args as URL
                       parameters (first_day, min_packets, class, width...).
                       The request goes to the query service's own front
                       door (so through its fan-out and merge) and the
                       reply comes back as JSON: {"ok":true,"result":...}
                       or {"ok":false,"error":"..."}.  A pattern's raster
                       (zlib cells on the wire) comes as "raster_cells", an
                       array of rows of counts.
      /                the page and its scripts, files of the web data
                       directory (index.html, dashboard.js, and the
                       charting library installed with the binaries).
*/
#ifndef DS_DASHBOARD_H
#define DS_DASHBOARD_H

#include <stddef.h>
#include "http.h"

typedef struct _ds_dashboard_t ds_dashboard_t;

//  Attaches the dashboard to http (not started yet).  web_dir NULL: the
//  installed data directory, found from the executable (BIN/../share/
//  darkscope/web).  Returns NULL after logging why (no such directory).
//  Caller destroys, after the server.
ds_dashboard_t *ds_dashboard_new (ds_http_t *http, const char *web_dir);

//  Destroys it; NULL-safe; nulls the pointer.
void ds_dashboard_destroy (ds_dashboard_t **self_p);

//  The query service's front endpoint the API asks (tcp://0.0.0.0 and
//  tcp://* become 127.0.0.1).  Until set, the API answers 503.
void ds_dashboard_set_endpoint (ds_dashboard_t *self, const char *endpoint);

//  Writes the default web directory (from /proc/self/exe) into buf.
//  Returns 0, or -1 if it cannot be found.
int ds_dashboard_default_dir (char *buf, size_t size);

#endif
