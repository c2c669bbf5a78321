/*  reload.h - the labeler's tables, loaded off its data thread and checked
    before they replace the tables in use.

    ds_reload_start reads and builds every table the configuration names
    (ds_labeler_load_tables) on a thread of its own, so the labeler goes on
    labelling batches with the tables it has while files are read; it polls
    ds_reload_sock and collects the new tables once they are ready.
    ds_reload_check then says whether the new tables would lose entries the
    current ones hold -- an empty file, a file of bad lines only, fewer than
    half the entries -- which the labeler refuses unless told to force it
    (DESIGN §12).
*/
#ifndef DS_RELOAD_H
#define DS_RELOAD_H

#include "labeler.h"

typedef struct ds_reload_t ds_reload_t;

//  What a table set holds, for the loss check and status.
typedef struct {
    size_t gt_entries;              //  exact addresses + prefixes
    size_t gt_warnings;             //  lines that could not be used
    size_t services;                //  services table entries
} ds_reload_counts_t;

//  Starts loading the tables config names on a thread of its own; config
//  must outlive the load.  NULL if the thread could not start.  Caller
//  destroys.
ds_reload_t *ds_reload_start (const ds_labeler_config_t *config);

//  The socket that becomes readable when the load has finished.
zsock_t *ds_reload_sock (ds_reload_t *self);

//  Takes the result (waits for it if the load is still running): 0 with
//  the new tables (caller destroys them), or -1 with the reason in err.
//  Call once.
int ds_reload_collect (ds_reload_t *self, ds_gt_t **gt, ds_services_t **services,
                       char *err, size_t err_size);

//  Destroys a load; NULL-safe; nulls the caller's pointer.  A result not
//  collected is waited for and freed.
void ds_reload_destroy (ds_reload_t **self_p);

//  The counts of a table set.
ds_reload_counts_t ds_reload_counts (const ds_gt_t *gt, const ds_services_t *services);

//  0 if tables with counts `next` may replace tables with counts `now`;
//  -1 with the reason in why if they would lose entries: a table that had
//  entries left with fewer than half of them (none at all: an empty file,
//  or only lines that could not be used).
int ds_reload_check (const ds_reload_counts_t *now, const ds_reload_counts_t *next,
                     char *why, size_t why_size);

#endif
