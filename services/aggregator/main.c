/*  darkscope-aggregator - one shard's exact aggregates (thin main: flags,
    start, wait, stop). */
#include "aggregator.h"
#include "log.h"
#include "signals.h"
#include "transport.h"
#include "opts.h"
#include "tz.h"
#include <signal.h>
#include <stdio.h>
#include <string.h>

static const char *s_usage =
"NAME\n"
"    darkscope-aggregator - exact per-day darknet aggregates of one shard\n"
"\n"
"SYNOPSIS\n"
"    darkscope-aggregator [--shard K] [--shards N] [--input ENDPOINT]... [--endpoint ENDPOINT]\n"
"                         [--sensors S] [--tz TZ] [--checkpoint FILE]\n"
"                         [--checkpoint-interval SECONDS] [--retain-days N] [--quiet]\n"
"\n"
"DESCRIPTION\n"
"    Subscribes to shard K's labelled batches (topic lab.KKKK) on the labeler's XPUB and\n"
"    keeps the exact aggregates of the sources of that shard: per (day, source) packets and\n"
"    flags, per (day, source, port/proto) packets, and per (source, minute) the first\n"
"    packet time. Memory grows with distinct keys, never with packets. From these it\n"
"    answers, for any window of days and any min_packets, the partial results that\n"
"    darkscope-query merges into the DarkVec overview (dataset, port ranking, sender ECDF,\n"
"    filter, daily and cumulative sources, last-day classes, class x service heatmap) and\n"
"    activity patterns.\n"
"\n"
"    Activity patterns are kept at 60-second resolution: a pattern query's bin_s and its\n"
"    from_us/to_us must be multiples of 60 s (other values are refused with an error).\n"
"\n"
"    Each batch carries (sensor, shard, seq). A batch is applied at most once: a seq newer\n"
"    than the next expected one counts the missing seqs as gaps (so do batches announced\n"
"    by an end-of-stream but never received); an older one is applied only if it is one\n"
"    of those gaps, else it is a replay and is ignored. So replaying the input after a\n"
"    crash or a restart from a checkpoint fills exactly the gaps and changes nothing else.\n"
"    Up to 4096 missing seq ranges per shard are remembered (also in the checkpoint);\n"
"    beyond that a gap stays counted for good. An end-of-stream message closes a sensor's\n"
"    stream; once every expected sensor (--sensors) has ended, the aggregator writes a\n"
"    checkpoint and logs it. It keeps answering queries until stopped.\n"
"\n"
"RETENTION\n"
"    With --retain-days N only the newest N local days are kept: when a record of a newer\n"
"    day arrives, older days are evicted from every table, with the sources no retained\n"
"    day holds and their pattern bins, so memory and checkpoints stop growing once N days\n"
"    are full. Records older than the retained days are counted as expired (status) and not\n"
"    added. The default window of every query is the retained days.\n"
"\n"
"CHECKPOINTS\n"
"    With --checkpoint FILE the state is written to FILE.tmp, fsynced and renamed over FILE\n"
"    (atomic) at end of stream, every --checkpoint-interval seconds when something changed\n"
"    (default 60; 0 = only at end of stream and stop) and on SIGINT/SIGTERM. The file has\n"
"    a header (magic, version, shard, shard count, time zone) and a CRC32 of its body. At\n"
"    start an existing FILE is restored; a corrupt, truncated or foreign file (another\n"
"    shard, shard count or time zone) is refused with an error naming the file and the\n"
"    reason, and the service does not start (delete or move the file to start empty).\n"
"    So is a file of an older checkpoint version (version 2 lacks the missing seq ranges).\n"
"\n"
"QUERIES\n"
"    The --endpoint REP socket answers the query service's rounds, DSK messages\n"
"    (proto/PROTOCOL.md): partial requests (range, overview, ppsrc, status) and\n"
"    pattern requests (one round of a pattern query); and msgpack\n"
"    {\"v\":1,\"q\":NAME,\"args\":{...}}:\n"
"      status                                       streams, gaps, replays, EOS, memory\n"
"    Clients normally ask darkscope-query, which merges all shards.\n"
"\n"
"ENVIRONMENT\n"
"    Every option can be set as DARKSCOPE_<OPTION> (upper case, '-' -> '_'), e.g.\n"
"    DARKSCOPE_SHARD=2, DARKSCOPE_SHARDS=4, DARKSCOPE_CHECKPOINT=/var/lib/darkscope/s2.ckpt,\n"
"    DARKSCOPE_INPUT=tcp://labeler:5551; repeatable options take ','-separated values.\n"
"    A flag wins over the variable.\n"
"\n"
"EXAMPLES\n"
"    darkscope-aggregator                               # shard 0 of 1, tcp://127.0.0.1:5560\n"
"    darkscope-aggregator --shard 1 --shards 4 --tz Europe/Rome \\\n"
"                         --checkpoint /var/lib/darkscope/shard1.ckpt\n"
"    darkscope-aggregator --shard 0 --shards 2 --sensors 3 \\\n"
"                         --input tcp://10.0.0.5:5551 --endpoint tcp://0.0.0.0:5560\n"
"\n"
"EXIT STATUS\n"
"    0 after SIGINT/SIGTERM (a checkpoint is written first), 1 if it could not start (busy\n"
"    port, refused checkpoint), 2 bad usage (also an unknown time zone).\n";

int
main (int argc, char **argv)
{
    ds_aggregator_config_t config;
    ds_aggregator_config_init (&config);
    int64_t shard = 0, shards = 1, sensors = 1, interval = 60, retain = 0;
    const char *tz = "UTC";
    bool quiet = false;
    const ds_opt_t opts [] = {
        { "shard", DS_OPT_INT, &shard, "K", "this shard's index, 0..N-1 (default 0)" },
        { "shards", DS_OPT_INT, &shards, "N", "how many shards exist (default 1)" },
        { "input", DS_OPT_LIST, &config.inputs, "ENDPOINT",
          "labeler XPUB to subscribe to (repeatable; default " DS_AGGREGATOR_INPUT_DEFAULT ")" },
        { "endpoint", DS_OPT_STRING, &config.endpoint, "ENDPOINT",
          "REP for partial queries (default tcp://127.0.0.1:(5560+K))" },
        { "sensors", DS_OPT_INT, &sensors, "S", "sensors whose end of stream to expect (default 1)" },
        { "tz", DS_OPT_STRING, &tz, "TZ", "time zone of calendar days, a TZ database name (default UTC)" },
        { "checkpoint", DS_OPT_STRING, &config.checkpoint, "FILE", "checkpoint file (default none)" },
        { "checkpoint-interval", DS_OPT_INT, &interval, "SECONDS",
          "checkpoint period when changed; 0 = only at end of stream and stop (default 60)" },
        { "retain-days", DS_OPT_INT, &retain, "N",
          "keep only the newest N days (older ones are evicted); default 0 = every day" },
        { "quiet", DS_OPT_BOOL, &quiet, NULL, "only warnings and errors on stderr" },
        { NULL, DS_OPT_STRING, NULL, NULL, NULL }
    };
    int rc = ds_opts_parse (argc, argv, 1, opts, s_usage, NULL);
    if (rc)
        return rc > 0 ? 0 : 2;
    if (shards < 1 || shards > 9999 || shard < 0 || shard >= shards) {
        fprintf (stderr, "error: need 0 <= --shard < --shards <= 9999\n");
        return 2;
    }
    if (sensors < 1 || sensors > 65535 || interval < 0 || retain < 0 || retain > 36600) {
        fprintf (stderr, "error: --sensors must be 1..65535, --checkpoint-interval >= 0, --retain-days 0..36600\n");
        return 2;
    }
    char err [512];
    ds_tz_t *zone = ds_tz_load (tz, err, sizeof err);
    if (!zone) {
        fprintf (stderr, "error: %s\n", err);
        return 2;
    }
    if (config.checkpoint && !*config.checkpoint)
        config.checkpoint = NULL;
    config.shard = (uint32_t) shard;
    config.shards = (uint32_t) shards;
    config.sensors = (uint32_t) sensors;
    config.tz = zone;
    config.checkpoint_interval_ms = interval * 1000;
    config.retain_days = (uint32_t) retain;
    ds_log_init ("aggregator");
    ds_log_set_quiet (quiet);

    ds_signals_install ();
    ds_malloc_tune ();

    zactor_t *actor = zactor_new (ds_aggregator_actor, &config);
    char endpoint [256];
    bool eos = false;
    if (!actor || ds_aggregator_endpoint (actor, endpoint, sizeof endpoint, &eos)) {
        ds_log_error ("could not start (see above)");
        zactor_destroy (&actor);
        ds_tz_destroy (&zone);
        return 1;
    }
    ds_signals_wait (actor, false);
    ds_log_info ("stopping (checkpoint first)");
    zactor_destroy (&actor);
    ds_tz_destroy (&zone);
    return 0;
}
