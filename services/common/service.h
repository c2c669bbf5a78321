/*  service.h - the one skeleton every darkscope service executable runs.

    A service's main() describes the service -- name, usage, option rows,
    a configure step, its actor -- and ds_service_main runs the same steps
    for every one of them, in this order:

      parse      flags over DARKSCOPE_* variables over defaults (opts.h)
      validate   the service's configure step turns the parsed values into
                 its config; a bad value is a usage error (exit status 2)
      log        ds_log_init (name), --quiet, --log-format, the allocator tuning
      http       with --http ADDR:PORT: the operations server (http.h:
                 /metrics, /healthz, /readyz and the service's own routes),
                 its registry handed to the service's config; started
                 before the actor, so that it sees the service come up
      signals    SIGINT/SIGTERM ask to stop, SIGHUP to reload, SIGPIPE is
                 ignored (signals.h); actors block signals themselves
      actor      started, then asked whether it is up (exit status 1 if not)
      wait       until a stop signal; SIGHUP is forwarded as "RELOAD" to a
                 service that reloads, logged and ignored by the others

    A service that ends by itself (ingest: its inputs end) reports "DONE"
    or "FAILED" on its pipe and exits 0 or 1 accordingly.  The first stop
    signal asks it to "STOP" (it sends what it has read, then its end of
    stream); a second one abandons it (exit status 1).  Any other service
    runs until a stop signal and exits 0, or 1 if its finish step (an
    aggregator's final checkpoint) fails.  Stopping then destroys the actor
    ($TERM).
*/
#ifndef DS_SERVICE_H
#define DS_SERVICE_H

#include <stdbool.h>
#include <czmq.h>
#include "opts.h"
#include "http.h"

typedef struct {
    const char *name;               //  "ingest", "labeler", ...: the log's and the variables' (DARKSCOPE_INGEST_*)
    const char *usage;              //  --help text above the option rows
    const ds_opt_t *opts;           //  the option rows, {NULL}-terminated
    bool *quiet;                    //  the target of the --quiet row
    //  After parsing: checks the parsed values and completes config.
    //  Returns 0, or -1 after printing what is wrong (exit status 2).
    int (*configure) (void *config);
    zactor_fn *actor;               //  the service's actor
    void *config;                   //  the actor's argument; outlives it
    //  Once the actor runs: 0 if it is up (NULL: nothing to ask).
    int (*started) (zactor_t *actor);
    bool reloads;                   //  SIGHUP is forwarded as "RELOAD"
    bool ends;                      //  the actor ends itself: "DONE"/"FAILED"
    const char *stopping;           //  logged when a stop signal ends it, or NULL
    //  After a stop signal, before the actor is destroyed: its last work
    //  (an aggregator's final checkpoint); non-zero makes the exit status 1.
    int (*finish) (zactor_t *actor);
    //  --http and --log-format are rows every service has (added by the
    //  skeleton).  Where --http's registry goes in config, or NULL: the
    //  skeleton then watches only that the actor started (/readyz).
    ds_metrics_t **metrics;
    //  With --http, before the server starts: adds the service's routes
    //  (the query service's dashboard).  0, or -1 after logging why.
    int (*http_routes) (ds_http_t *http);
    //  After the server is gone: frees what http_routes made (may be NULL).
    void (*http_done) (void);
} ds_service_t;

//  Runs the service to its end; returns the process exit status: 0, 1 if
//  it could not start or (a service that ends) failed, 2 on bad usage.
int ds_service_main (int argc, char **argv, const ds_service_t *service);

#endif
