/*  service.c - see service.h. */
#include "service.h"
#include "actor.h"
#include "log.h"
#include "signals.h"
#include "transport.h"
#include "alloc.h"
#include "curve.h"
#include <stdio.h>
#include <stdlib.h>

#define S_WAIT_SLICE_MS 200         //  how often the wait looks at the signal flags

//  Waits for the end: a stop signal, or (a service that ends) its report.
//  Returns the exit status.
static int
s_wait (zactor_t *actor, const ds_service_t *service)
{
    zpoller_t *poller = zpoller_new (actor, NULL);
    bool stop_sent = false;
    int rc = 0;
    while (true) {
        if (ds_signals_reload ()) {
            if (service->reloads) {
                ds_log_info_kv (DS_FIELDS (DS_KV ("signal", "SIGHUP")), "reloading");
                zstr_send (actor, "RELOAD");
            }
            else
                ds_log_info_kv (DS_FIELDS (DS_KV ("signal", "SIGHUP")),
                                "the %s has nothing to reload; going on", service->name);
        }
        if (ds_signals_stop ()) {
            if (service->ends && !stop_sent) {
                //  Cleared before the request, so that a second signal,
                //  however soon, is not lost.
                ds_signals_clear_stop ();
                ds_log_info ("stopping: ending the input, sending what was read (again to abandon)");
                zstr_send (actor, "STOP");
                stop_sent = true;
            }
            else {
                if (service->stopping)
                    ds_log_info ("%s", service->stopping);
                rc = service->ends ? 1 : 0;
                break;
            }
        }
        if (!zpoller_wait (poller, S_WAIT_SLICE_MS)) {
            if (ds_poller_ended (poller)) {
                rc = service->ends ? 1 : 0;
                break;
            }
            continue;                   //  time-out, or a signal (EINTR)
        }
        char *message = zstr_recv (actor);
        if (!message) {
            rc = service->ends ? 1 : 0;
            break;
        }
        bool done = service->ends && (streq (message, "DONE") || streq (message, "FAILED"));
        if (done)
            rc = streq (message, "DONE") ? 0 : 1;
        zstr_free (&message);
        if (done)
            break;
    }
    zpoller_destroy (&poller);
    return rc;
}

//  Starts --http: the registry into the service's config, its routes, the
//  server.  Returns the server, or NULL after logging why.
static ds_http_t *
s_http_start (const char *listen, const ds_service_t *service)
{
    ds_http_t *http = ds_http_prepare (listen);
    if (!http)
        return NULL;
    if (service->metrics)
        *service->metrics = ds_http_metrics (http);
    if ((service->http_routes && service->http_routes (http) != 0) || ds_http_launch (http)) {
        ds_http_destroy (&http);
        if (service->metrics)
            *service->metrics = NULL;
    }
    return http;
}

int
ds_service_main (int argc, char **argv, const ds_service_t *service)
{
    //  Every service takes --cert, --trust, --insecure (curve.h), --http
    //  and --log-format.
    const char *http_listen = NULL, *log_format = "text";
    const ds_opt_t ours [] = {
        { "http", DS_OPT_STRING, &http_listen, "ADDR:PORT",
          "serve /metrics, /healthz, /readyz here (default off)" },
        { "log-format", DS_OPT_STRING, &log_format, "FORMAT",
          "log lines: text (default) or json (one object a line)" },
        { 0 }
    };
    ds_opt_t *own = ds_opts_join (service->opts, ds_curve_opts ());
    ds_opt_t *opts = own ? ds_opts_join (own, ours) : NULL;
    free (own);
    int rc = opts ? ds_opts_parse (argc, argv, 1, service->name, opts, service->usage, NULL) : -1;
    free (opts);
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    if (ds_log_set_format (log_format) != 0) {
        fprintf (stderr, "error: --log-format must be text or json, got '%s'\n", log_format);
        return 2;
    }
    if (service->configure && service->configure (service->config) != 0)
        return 2;
    ds_log_init (service->name);
    if (ds_curve_init_opts () != 0)
        return 1;
    ds_log_set_quiet (service->quiet && *service->quiet);
    ds_malloc_tune ();
    ds_signals_install ();
    ds_http_t *http = NULL;
    if (http_listen && !(http = s_http_start (http_listen, service)))
        return 1;
    //  A service without series of its own: ready once it started.
    ds_mgroup_t *group = service->metrics ? NULL
                       : ds_metrics_group (ds_http_metrics (http), service->name, NULL);
    ds_mgroup_condition (group, "started", false);
    zactor_t *actor = ds_actor_new (service->actor, service->config);
    if (!actor || (service->started && service->started (actor) != 0)) {
        ds_log_error ("could not start (see above)");
        zactor_destroy (&actor);
        ds_actor_join (2000);
        ds_curve_shutdown ();
        ds_http_destroy (&http);
        if (service->http_done)
            service->http_done ();
        zsys_shutdown ();
        return 1;
    }
    ds_mgroup_condition (group, "started", true);
    rc = s_wait (actor, service);
    if (rc == 0 && !service->ends && service->finish && service->finish (actor) != 0)
        rc = 1;
    zactor_destroy (&actor);
    //  Its thread closes its pipe just after: waited for, or czmq's
    //  zsys_shutdown, finding a socket open, sleeps 200 ms (actor.h).
    ds_actor_join (2000);
    ds_curve_shutdown ();
    //  The server reads the registry the actor wrote: it goes after it.
    ds_http_destroy (&http);
    if (service->http_done)
        service->http_done ();
    //  Sockets that linger (a finished stream's tail for slow subscribers)
    //  are delivered here, within their linger time.
    zsys_shutdown ();
    return rc;
}
