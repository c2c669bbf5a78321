/*  run.h - `darkscope run`: every service in one process over inproc://.

    The same service units as the distributed deployment (ingest, labeler,
    N aggregator shards, query), composed as czmq actors in one process.
    Consumes the inputs to their end, waits until every shard has seen the
    end of stream, then asks the embedded query service for the overview
    and writes --json and/or --report.  With embed, the embed service
    subscribes to the labelled stream too; the run then also waits for its
    model and adds its evaluation to the JSON as "embedding".
*/
#ifndef DS_RUN_H
#define DS_RUN_H

#include "opts.h"

typedef struct {
    ds_strlist_t pcaps;             //  files or globs
    ds_strlist_t logs;              //  DarkVec logs, files or globs
    const char *iface;              //  live capture, or NULL
    const char *bpf;
    ds_strlist_t gt;                //  ground-truth CSV files
    ds_strlist_t gt_lists;          //  CLASS=FILE or DIR
    ds_strlist_t aliases;           //  FROM=TO
    const char *services;           //  services table, NULL = built in
    const char *tz;
    int64_t shards;
    const char *first_day;
    const char *last_day;
    int64_t min_packets;
    const char *json;               //  overview JSON output file
    const char *report;             //  report directory
    const char *endpoint;           //  also serve queries here (tcp), or NULL
    const char *checkpoint_dir;     //  aggregator checkpoints, or NULL
    int64_t retain_days;            //  aggregators keep the newest N days; 0 = all
    int64_t checkpoint_interval;    //  seconds between checkpoints when changed; 0 = end only
    int64_t stats_interval;         //  seconds between ingest's counters (STATS); 0 = start/end
    int64_t gen_packets;            //  size of the default synthetic month
    int64_t seed;
    bool quiet;
    bool serve;                     //  keep serving queries after the run
    const char *log_format;         //  "text" (NULL too) or "json"
    const char *http;               //  ADDR:PORT of /metrics, /healthz, /readyz, or NULL
    const char *web_dir;            //  the dashboard's files (NULL: installed ones)
    bool embed;                     //  also run the embed service (DarkVec §4-6)
    const char *model_out;          //  embed: word2vec text file, or NULL
    const char *corpus_out;         //  embed: LineSentence corpus file, or NULL
    const char *classes_out;        //  embed: CSV of every sender's class and k-NN class, or NULL
    int64_t embed_threads;          //  embed: training threads (0: 2)
    int64_t embed_epochs;           //  embed: epochs (0: 20)
} ds_run_config_t;

//  Runs the pipeline; returns the process exit code (0 success).
int ds_run (const ds_run_config_t *cfg);

#endif
