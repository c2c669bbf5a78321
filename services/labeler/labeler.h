/*  labeler.h - the labeler service: packet batches in, labelled batches out.

    The actor subscribes to ingest's "pkt.%04u" topics (all shards, or the
    selected ones), gives every record a class id (ground truth, gt.h) and a
    service id (services.h), sets DS_FLAG_GT where a GT entry named the
    source, and republishes the batch as DS_MSG_LABELLED on "lab.%04u"
    (XPUB, ZMQ_XPUB_NODROP: back-pressure, never a drop).  EOS and STATS
    messages are forwarded unchanged (a STATS of a new epoch restarts the
    stream's seqs).  Before the first message is forwarded it waits
    until every shard it handles has a subscriber of its own topic, not
    only of "lab." (bounded by wait_ms).
    It counts gaps per (sensor, shard) and rejected messages.

    A REP control socket answers DESIGN §6 queries: "lookup" {ip} ->
    {"ip","class","matched","rule"}, "reload" {force} (re-reads every
    table; answered once the new tables are in use, or with why they are
    not: a load error, or -- unless forced -- tables that would lose
    entries: empty, only bad lines, fewer than half the entries), "status"
    (with the table generation, entries, last reload and its error).  The
    string "RELOAD" on the actor pipe reloads too (main sends it on
    SIGHUP).  Tables load on a thread of their own while batches flow;
    they are swapped in between two batches, never within one.

    Pipe commands: "$TERM"; "RELOAD", "RELOAD FORCE" (answered on the pipe,
    once done, with "RELOAD ok", "RELOAD failed: WHY" or "RELOAD refused:
    WHY"); "ENDPOINTS" -> two string frames, the bound data and control
    endpoints (resolved, "" if none).  If it cannot start, the actor logs
    why, signals -1 and then only waits for $TERM (answering "ENDPOINTS"
    with two empty strings).

    With config->tables set (`darkscope run`) the labeler has no data
    path: another thread of the process labels its batches itself
    (tables.h) with the tables this actor loads and reloads, which it puts
    there; the actor keeps only its control socket and pipe, binds no data
    endpoint ("ENDPOINTS" answers "" for it), and its status counts no
    batches or streams.
*/
#ifndef DS_LABELER_H
#define DS_LABELER_H

#include <czmq.h>
#include "opts.h"
#include "metrics.h"
#include "batch.h"
#include "gt.h"
#include "services.h"
#include "tables.h"

#define DS_LABELER_INPUT    "tcp://127.0.0.1:5550"
#define DS_LABELER_ENDPOINT "tcp://127.0.0.1:5551"
#define DS_LABELER_CONTROL  "tcp://127.0.0.1:5552"

//  Configuration.  The actor keeps a pointer: the struct and its strings
//  must outlive the actor (reloads re-read the files named here).
typedef struct {
    ds_strlist_t gt;                //  CSV ground-truth files
    ds_strlist_t gt_lists;          //  CLASS=FILE, FILE (<class>_v4.txt) or DIR
    ds_strlist_t aliases;           //  FROM=TO, on top of the default aliases
    const char *services;           //  services.json; NULL = the built-in table
    ds_strlist_t inputs;            //  ingest endpoints to connect; none = DS_LABELER_INPUT
    const char *endpoint;           //  XPUB to bind for labelled batches
    const char *control;            //  REP to bind; NULL or "" = none
    uint32_t shards;                //  how many shards exist (default 1)
    const char *shard_list;         //  "0,2-3": only these; NULL or "" = all
    int64_t wait_ms;                //  subscriber wait before the first batch;
                                    //  < 0 forever (default), 0 no wait
    bool force_reload;              //  accept every reload, even one losing entries
    ds_metrics_t *metrics;          //  --http registry, or NULL
    ds_tables_t *tables;            //  set: no data path, the tables in use are lent
                                    //  here to a thread that labels (see above)
} ds_labeler_config_t;

//  Sets the defaults.
void ds_labeler_config_init (ds_labeler_config_t *config);

//  Loads every table the config names (GT files, lists, aliases, services)
//  and builds them.  Returns 0, or -1 with the reason in err (nothing is
//  returned then).  Caller destroys *gt and *services.
int ds_labeler_load_tables (const ds_labeler_config_t *config, ds_gt_t **gt,
                            ds_services_t **services, char *err, size_t err_size);

//  Labels a batch in place with built tables: dictionaries, class and
//  service ids, DS_FLAG_GT.  matched is scratch space of batch->count
//  bytes.  Returns 0, -1 if out of memory.
int ds_labeler_label (ds_batch_t *batch, const ds_gt_t *gt,
                      const ds_services_t *services, uint8_t *matched);

//  The service: a czmq actor (see top of file); args is a ds_labeler_config_t.
void ds_labeler_actor (zsock_t *pipe, void *args);

//  Asks a running actor for its bound endpoints (resolved ports; "" for
//  none).  Returns 0, or -1 if the actor is not running (it failed to
//  start).
int ds_labeler_endpoints (zactor_t *actor, char *data, size_t data_size,
                          char *control, size_t control_size);

#endif
