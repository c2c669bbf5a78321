/*  labeler_internal.h - the labeler's state, shared by its files (not an API).

    The labeler (labeler.h) is one module in three files, one job each:
      labeler.c   the actor: tables, sockets, start and stop, the pipe
      forward.c   the data path: subscriptions, streams, messages from
                  ingest labelled and forwarded
      control.c   the control socket (lookup, reload, status) and reloads
    This header holds what they share.  Only those files include it.
*/
#ifndef DS_LABELER_INTERNAL_H
#define DS_LABELER_INTERNAL_H

#include "labeler.h"
#include "reload.h"
#include "ds_proto.h"

typedef struct {
    uint32_t sensor;
    uint32_t shard;
    uint64_t next_seq;              //  seq expected next
    uint64_t gaps;                  //  batches missing (seq jumps, EOS tail)
    uint64_t out_of_order;          //  batches with seq < next_seq
    uint64_t batches;
    uint64_t records;
    uint64_t epoch;                 //  the sensor's epoch (ds_stats_t): a larger one restarts seqs
    bool eos;
    uint64_t unheard;               //  batches forwarded while lab.<shard> had no subscriber (lost)
    uint64_t unheard_shard;         //  forwarded while only whole-stream subscribers ("lab.",
                                    //  e.g. embed) had it: lost for the shard's aggregator
    uint8_t *last;                  //  the last STATS or EOS forwarded (re-announced to a new subscriber)
    size_t last_size;
    bool announce;                  //  a subscriber arrived: send `last` again
    ds_mstream_t m;                 //  its metric series
} labeler_stream_t;

//  Who asked for a reload, and how.
typedef struct {
    bool asked;
    bool force;                     //  accept tables that lose entries
    bool reply;                     //  the control socket waits for the result
    bool pipe;                      //  tell the pipe the result (RELOAD from main)
} labeler_request_t;

typedef struct {
    const ds_labeler_config_t *config;
    zsock_t *pipe;
    zsock_t *sub;                   //  from ingest
    zsock_t *xpub;                  //  to aggregators
    zsock_t *rep;                   //  control, may be NULL
    char data_endpoint [256];
    char control_endpoint [256];
    ds_gt_t *gt;
    ds_services_t *services;
    ds_batch_t *batch;              //  reused for every message
    uint8_t *matched;               //  scratch, DS_BATCH_MAX_CAPACITY
    msgpack_sbuffer out;            //  reused encode buffer
    bool packed;                    //  not inproc: the packed batch layout (fewer bytes)
    bool *handled;                  //  [shards]: shards this labeler serves
    uint32_t shards;
    char **subscriptions;           //  active XPUB subscriptions (raw bytes)
    size_t *subscription_len;
    size_t n_subscriptions;
    bool ready;                     //  subscribers present (or wait over)
    int64_t wait_deadline;          //  zclock_mono ms; INT64_MAX = forever
    bool terminated;
    labeler_stream_t *streams;
    size_t n_streams;
    uint64_t *unheard;              //  [shards]: batches sent to nobody in a row (0: heard)
    uint64_t unheard_total;         //  batches forwarded to nobody, all shards (lost)
    uint64_t *unheard_shard;        //  [shards]: in a row without a subscriber of the shard's own
    uint64_t unheard_shard_total;   //  batches no subscriber of their shard got, all shards
    uint64_t announced;             //  STATS/EOS sent again to new subscribers
    uint64_t batches, records, eos, stats, rejected;
    uint64_t too_big;               //  control requests above DS_FRAME_CONTROL_MAX
    //  Reloads (reload.h)
    ds_reload_t *loader;            //  a load in flight, or NULL
    labeler_request_t load;               //  ... who asked for it
    labeler_request_t again;              //  asked for while it ran: one more after it
    uint64_t generation;            //  table sets swapped in; 1 = those of the start
    int64_t loaded_at;              //  wall clock (us) the tables in use were swapped in
    uint64_t reloads, reload_errors, reload_refusals;
    int64_t last_reload_at;         //  wall clock (us) of the last reload's end, 0: none
    char last_reload_result [16];   //  "ok", "failed", "refused"
    bool last_reload_forced;
    char last_reload_error [512];   //  why the last reload failed or was refused, "" if it did not
    //  Metrics (--http)
    uint64_t waits;                 //  sends that waited at the high-water mark
    ds_mgroup_t *metrics;           //  NULL without --http
    int m_rejects, m_eos, m_reloads, m_reload_errors, m_queue, m_waits;
    int m_unheard, m_unheard_shard;
} labeler_t;

//  Serves one request of the control socket (a "reload" is answered when
//  its load ends).
void labeler_control_handle (labeler_t *self);

//  True while the control socket owes the answer of a reload: it takes no
//  other request until then (REQ/REP).
bool labeler_control_busy (const labeler_t *self);

//  Starts a reload, or (one is running) asks for one more after it.
void labeler_reload_start (labeler_t *self, labeler_request_t request);

//  Takes the result of the load in flight (it has ended): checks it,
//  swaps it in or keeps the tables in use, answers whoever asked.
void labeler_reload_finish (labeler_t *self);

//  labeler_reload_finish if the load in flight has ended.
void labeler_reload_poll (labeler_t *self);

//  Logs the sizes of the tables in use, one line.
void labeler_log_tables (labeler_t *self, const char *what);

//  One command from the actor pipe (RELOAD, $TERM, ...) (labeler.c).
void labeler_handle_pipe (labeler_t *self);

//  Receives one message from ingest and handles it (forward.c).
void labeler_forward_data (labeler_t *self);

//  Takes one subscription change from the XPUB (forward.c).
void labeler_forward_subscription (labeler_t *self);

//  Sets ready once every handled shard has a subscriber (forward.c).
void labeler_forward_check_ready (labeler_t *self);

//  Sends again the remembered STATS/EOS a new subscriber asked for (forward.c).
void labeler_forward_announce (labeler_t *self);

//  Wall clock, microseconds since the Unix epoch.
int64_t labeler_wall_us (void);

#endif
