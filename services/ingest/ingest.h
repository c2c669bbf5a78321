/*  ingest.h - the ingest service: inputs -> records -> sharded batches.

    Reads capture files, DarkVec logs and/or a live interface in that order
    (source.h), parses each frame (parse.h) and either publishes the records
    as batches on an XPUB socket, one stream per (sensor, shard)
    (publish.h), or writes them as DarkVec's intermediate CSV (csvout.h).  Files are read losslessly: the first batch
    waits until every shard topic has a subscriber and sends wait at the
    high-water mark (ZMQ_XPUB_NODROP + retry on ZMQ_POLLOUT).  A live capture
    never blocks on a slow subscriber: a batch that cannot be queued is
    dropped and counted.  Each stream starts with the sensor's counters
    (STATS, with its epoch: 0 for files, the start time for a live capture
    or a pipe),
    repeats them every stats_interval_ms and ends with an EOS carrying them.
    A published record whose timestamp cannot be real -- before 1995-01-01
    or more than a day past this host's clock -- is counted as bad_time and
    not sent (the CSV output keeps every record).  With a labelling
    function set (`darkscope run`), batches are labelled here and the
    streams published on "lab.NNNN", where a labeler would have put them.
*/
#ifndef DS_INGEST_H
#define DS_INGEST_H

#include <czmq.h>
#include "source.h"
#include "tz.h"
#include "metrics.h"
#include "publish.h"

#define DS_INGEST_ENDPOINT "tcp://127.0.0.1:5550"

typedef enum {
    DS_INGEST_PUBLISH = 0,          //  batches on the XPUB endpoint
    DS_INGEST_CSV     = 1           //  ts,ip,port,proto,pp text
} ds_ingest_output_t;

typedef struct {
    const char *const *pcaps;       //  capture files or glob patterns
    size_t n_pcaps;
    const char *const *logs;        //  DarkVec logs or glob patterns
    size_t n_logs;
    const char *iface;              //  live capture interface, or NULL
    const char *bpf;                //  live capture filter, or NULL
    const ds_tz_t *tz;              //  zone of CSV timestamps (NULL: UTC); borrowed,
                                    //  must outlive the run
    uint32_t shards;                //  >= 1
    uint32_t sensor;                //  this sensor's id
    const char *endpoint;           //  XPUB bind endpoint (NULL: default)
    uint32_t batch;                 //  records per batch (0: 4096)
    int wait_s;                     //  wait for subscribers: 0 none, < 0 forever
    ds_ingest_output_t output;
    const char *out;                //  CSV file; NULL or "-" = stdout
    bool csv_extra;                 //  CSV: also mirai,ts_us columns
    bool progress;                  //  progress line when stderr is a terminal
    int stats_interval_ms;          //  counters (STATS) every this often; 0: only at
                                    //  the start and in the EOS (default 5000)
    char *bound;                    //  if set: receives the endpoint bound
    size_t bound_size;              //  (e.g. "tcp://127.0.0.1:*" -> its port)
    ds_metrics_t *metrics;          //  --http registry, or NULL
    ds_publish_label_fn *label;     //  set: labels each batch (label_arg) and publishes
    void *label_arg;                //  on "lab.NNNN" (ds_publish_set_label)
} ds_ingest_config_t;

//  Sets every field of cfg to its default.
void ds_ingest_config_init (ds_ingest_config_t *cfg);

//  Runs an ingest in the calling thread to the end of its inputs.  Fills
//  stats (may be NULL).  Returns 0, or -1 after logging what failed.
int ds_ingest_run (const ds_ingest_config_t *cfg, ds_ingest_stats_t *stats);

//  czmq actor over the same logic; config is a ds_ingest_config_t that must
//  outlive the actor.  Binds, signals 0 (or -1 after logging why it could
//  not start), reads everything, then sends "DONE" on the pipe ("FAILED" if
//  an input or the output failed, the wait for subscribers timed out, or
//  files were not read to their end) and waits for "$TERM".  "STOP" ends the
//  input early (what was read is sent, then the EOS); "$TERM" during a run
//  abandons it at once.
void ds_ingest_actor (zsock_t *pipe, void *config);

//  Logs the counters of a run, one line.
void ds_ingest_stats_log (const ds_ingest_stats_t *stats, double seconds);

#endif
