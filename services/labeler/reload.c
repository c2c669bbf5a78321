/*  reload.c - loading the labeler's tables on a thread of their own; see
    reload.h.

    The loader is a czmq actor: it loads, sends the result on its pipe as
    [gt pointer][services pointer][error text] and waits for $TERM.  The
    pointers never leave the process; whoever reads the message owns the
    tables.
*/
#include "reload.h"
#include "signals.h"
#include <string.h>

struct ds_reload_t {
    zactor_t *actor;
    bool collected;                 //  the result was taken
};

static void
s_loader (zsock_t *pipe, void *args)
{
    ds_signals_block_thread ();
    const ds_labeler_config_t *config = args;
    zsock_signal (pipe, 0);
    ds_gt_t *gt = NULL;
    ds_services_t *services = NULL;
    char err [512] = "";
    if (ds_labeler_load_tables (config, &gt, &services, err, sizeof err) != 0) {
        gt = NULL;
        services = NULL;
        if (!err [0])
            snprintf (err, sizeof err, "the tables could not be loaded");
    }
    zsock_send (pipe, "pps", gt, services, err);
    while (true) {
        char *command = zstr_recv (pipe);
        bool term = !command || streq (command, "$TERM");
        zstr_free (&command);
        if (term)
            break;
    }
}

ds_reload_t *
ds_reload_start (const ds_labeler_config_t *config)
{
    ds_reload_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->actor = zactor_new (s_loader, (void *) config);
    if (!self->actor) {
        free (self);
        return NULL;
    }
    return self;
}

zsock_t *
ds_reload_sock (ds_reload_t *self)
{
    return zactor_sock (self->actor);
}

int
ds_reload_collect (ds_reload_t *self, ds_gt_t **gt, ds_services_t **services,
                   char *err, size_t err_size)
{
    *gt = NULL;
    *services = NULL;
    if (self->collected) {
        snprintf (err, err_size, "the result of this load was taken already");
        return -1;
    }
    void *g = NULL, *s = NULL;
    char *text = NULL;
    self->collected = true;
    if (zsock_recv (self->actor, "pps", &g, &s, &text) != 0) {
        snprintf (err, err_size, "the loader did not answer");
        zstr_free (&text);
        return -1;
    }
    int rc = g && s ? 0 : -1;
    if (rc)
        snprintf (err, err_size, "%s", text && *text ? text : "the tables could not be loaded");
    *gt = g;
    *services = s;
    zstr_free (&text);
    return rc;
}

void
ds_reload_destroy (ds_reload_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ds_reload_t *self = *self_p;
    if (!self->collected) {
        ds_gt_t *gt;
        ds_services_t *services;
        char err [8];
        ds_reload_collect (self, &gt, &services, err, sizeof err);
        ds_gt_destroy (&gt);
        ds_services_destroy (&services);
    }
    zactor_destroy (&self->actor);
    free (self);
    *self_p = NULL;
}

ds_reload_counts_t
ds_reload_counts (const ds_gt_t *gt, const ds_services_t *services)
{
    ds_reload_counts_t counts = {
        .gt_entries = gt ? ds_gt_exact_count (gt) + ds_gt_prefix_count (gt) : 0,
        .gt_warnings = gt ? ds_gt_warning_count (gt) : 0,
        .services = services ? ds_services_entries (services) : 0
    };
    return counts;
}

//  The loss check of one table: -1 with why if next keeps less than half.
static int
s_check (const char *what, size_t now, size_t next, size_t warnings, char *why, size_t why_size)
{
    if (now == 0 || next * 2 >= now)
        return 0;
    if (next == 0 && warnings > 0)
        snprintf (why, why_size, "the new %s has no usable entry (%zu lines could not be read) "
                  "where the current one has %zu", what, warnings, now);
    else
    if (next == 0)
        snprintf (why, why_size, "the new %s is empty where the current one has %zu entries",
                  what, now);
    else
        snprintf (why, why_size, "the new %s has %zu entries, fewer than half of the current %zu",
                  what, next, now);
    return -1;
}

int
ds_reload_check (const ds_reload_counts_t *now, const ds_reload_counts_t *next,
                 char *why, size_t why_size)
{
    if (s_check ("ground truth", now->gt_entries, next->gt_entries, next->gt_warnings,
                 why, why_size))
        return -1;
    return s_check ("services table", now->services, next->services, 0, why, why_size);
}
