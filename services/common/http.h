/*  http.h - the operations HTTP server of a darkscope process (--http).

    A small embedded server (GNU libmicrohttpd, one thread per connection,
    at most 64 at once) answering GET and HEAD:
      /metrics   the registry's Prometheus text exposition (metrics.h)
      /healthz   200 "ok" unless a service group failed, else 503 + reasons
      /readyz    200 when every group is ready, else 503; the body lists
                 each condition and watched socket either way
      PREFIX...  a route added with ds_http_route (e.g. the dashboard's
                 /api/), then files of a static directory (ds_http_static)
    Handlers run on the connection's thread, never on a service thread.
*/
#ifndef DS_HTTP_H
#define DS_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include "metrics.h"

typedef struct _ds_http_t ds_http_t;
typedef struct _ds_http_req_t ds_http_req_t;

//  A route handler: fills *body (malloc'd, the server frees it), *size and
//  *type (a static string) and returns the HTTP status.  path is the
//  request path (prefix included).
typedef int (ds_http_fn) (void *arg, ds_http_req_t *req, const char *path,
                          char **body, size_t *size, const char **type);

//  Creates a server for `listen` ("ADDR:PORT", "[V6]:PORT" or "PORT" for
//  127.0.0.1; port 0 picks a free one) serving `metrics` (may be NULL: no
//  /metrics).  Not started yet.  NULL with a reason in err on a bad address.
ds_http_t *ds_http_new (const char *listen, ds_metrics_t *metrics, char *err, size_t err_size);

//  Destroys the server (stops it first); NULL-safe; nulls the pointer.
void ds_http_destroy (ds_http_t **self_p);

//  Routes GETs whose path starts with prefix to fn (before ds_http_start).
int ds_http_route (ds_http_t *self, const char *prefix, ds_http_fn *fn, void *arg);

//  Serves the files of dir (index.html for "/") after the routes.
void ds_http_static (ds_http_t *self, const char *dir);

//  Binds and starts serving.  Returns 0, or -1 with a reason in err.
int ds_http_start (ds_http_t *self, char *err, size_t err_size);

//  The bound port (after ds_http_start), 0 if not started.
int ds_http_port (ds_http_t *self);

//  A query-string argument of a request, or NULL.
const char *ds_http_arg (ds_http_req_t *req, const char *name);

//  The --http of a service main(): a new metrics registry, owned by the
//  server (destroyed with it), served on `listen` from now on; logs the
//  address.  Returns NULL after logging why (bad address, port busy).
ds_http_t *ds_http_serve (const char *listen);

//  The same, not started yet (add routes, then ds_http_launch).  NULL
//  after logging why (bad address).
ds_http_t *ds_http_prepare (const char *listen);

//  Starts a prepared server and logs its address.  Returns 0, or -1
//  after logging why.
int ds_http_launch (ds_http_t *self);

//  The server's registry (for the services' configs); NULL-safe.
ds_metrics_t *ds_http_metrics (ds_http_t *self);

#endif
