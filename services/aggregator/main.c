/*  darkscope-aggregator - one shard's exact aggregates (thin main: options
    and the service skeleton, service.h, over the aggregator actor). */
#include "ds_proto.h"
#include "aggregator.h"
#include "log.h"
#include "opts.h"
#include "service.h"
#include "tz.h"
#include <stdio.h>

static const char *s_usage =
"NAME\n"
"    darkscope-aggregator - exact per-day darknet aggregates of one shard\n"
"\n"
"SYNOPSIS\n"
"    darkscope-aggregator [--shard K] [--shards N] [--input ENDPOINT]... [--endpoint ENDPOINT]\n"
"                         [--sensors S] [--tz TZ] [--checkpoint FILE]\n"
"                         [--checkpoint-interval SECONDS] [--retain-days N]\n"
"                         [--http ADDR:PORT] [--log-format text|json] [--quiet]\n"
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
"    added. A checkpoint restored with more days than N loses the older ones at start. The\n"
"    default window of every query is the retained days (up to the newest day of all shards).\n"
"\n"
"CHECKPOINTS\n"
"    With --checkpoint FILE the state is written to FILE.tmp (created anew, mode 0600, never\n"
"    through a link), fsynced and renamed over FILE (atomic) at end of stream, every\n"
"    --checkpoint-interval seconds when something changed (default 60; 0 = only at end of\n"
"    stream and stop) and on SIGINT/SIGTERM. A forked child writes it while batches and\n"
"    queries go on (the data path pauses only for the fork: status shows the pauses); a\n"
"    failed one (a full disk) is logged, shown in status and tried again. The file has\n"
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
"      status                                       streams (gaps, replays, EOS, epochs, live\n"
"                                                   counters, last batch, lag), memory, checkpoints\n"
"    Clients normally ask darkscope-query, which merges all shards.\n"
"\n"
"ENVIRONMENT\n"
"    Every option is also read from an environment variable (its name is in brackets\n"
"    below): DARKSCOPE_<OPTION> for a setting every program shares (DARKSCOPE_SHARDS=4,\n"
"    DARKSCOPE_TZ), DARKSCOPE_AGGREGATOR_<OPTION> for one of this service alone\n"
"    (DARKSCOPE_AGGREGATOR_SHARD=2, DARKSCOPE_AGGREGATOR_CHECKPOINT=/var/lib/darkscope/s2.ckpt,\n"
"    DARKSCOPE_AGGREGATOR_INPUT=tcp://labeler:5551); repeatable options take ','-separated\n"
"    values. A flag wins over the variable. --list-env prints them all.\n"
"\n"
"EXAMPLES\n"
"    darkscope-aggregator                               # shard 0 of 1, tcp://127.0.0.1:5560\n"
"    darkscope-aggregator --shard 1 --shards 4 --tz Europe/Rome \\\n"
"                         --checkpoint /var/lib/darkscope/shard1.ckpt\n"
"    darkscope-aggregator --shard 0 --shards 2 --sensors 3 --cert agg0.cert --trust clients/ \\\n"
"                         --input tcp://10.0.0.5:5551@labeler.cert --endpoint tcp://0.0.0.0:5560\n"
"\n"
"EXIT STATUS\n"
"    0 after SIGINT/SIGTERM (a checkpoint is written first), 1 if it could not start (busy\n"
"    port, refused checkpoint) or its final checkpoint failed, 2 bad usage (also an unknown\n"
"    time zone).\n";

static ds_aggregator_config_t s_config;
static int64_t s_shard = 0, s_shards = 1, s_sensors = 1, s_interval = 60, s_retain = 0;
static const char *s_tz = "UTC";
static ds_tz_t *s_zone;              //  loaded by s_configure, freed after the service ends
static bool s_quiet;

static int
s_configure (void *config)
{
    ds_aggregator_config_t *cfg = (ds_aggregator_config_t *) config;
    if (s_shards < 1 || s_shards > DS_SHARDS_MAX || s_shard < 0 || s_shard >= s_shards) {
        fprintf (stderr, "error: need 0 <= --shard < --shards <= %d\n", DS_SHARDS_MAX);
        return -1;
    }
    if (s_sensors < 1 || s_sensors > 65535 || s_interval < 0 || s_retain < 0 || s_retain > 36600) {
        fprintf (stderr, "error: --sensors must be 1..65535, --checkpoint-interval >= 0, --retain-days 0..36600\n");
        return -1;
    }
    char err [512];
    s_zone = ds_tz_load (s_tz, err, sizeof err);
    if (!s_zone) {
        fprintf (stderr, "error: %s\n", err);
        return -1;
    }
    if (cfg->checkpoint && !*cfg->checkpoint)
        cfg->checkpoint = NULL;
    cfg->shard = (uint32_t) s_shard;
    cfg->shards = (uint32_t) s_shards;
    cfg->sensors = (uint32_t) s_sensors;
    cfg->tz = s_zone;
    cfg->checkpoint_interval_ms = s_interval * 1000;
    cfg->retain_days = (uint32_t) s_retain;
    return 0;
}

static int
s_finish (zactor_t *actor)
{
    char err [512];
    int rc = ds_aggregator_final (actor, err, sizeof err);
    if (rc != 0)
        ds_log_error_kv (DS_FIELDS (DS_KV ("reason", err)), "the final checkpoint failed: %s", err);
    return rc;
}

static int
s_started (zactor_t *actor)
{
    char endpoint [256];
    bool eos = false;
    return ds_aggregator_endpoint (actor, endpoint, sizeof endpoint, &eos);
}

int
main (int argc, char **argv)
{
    ds_aggregator_config_init (&s_config);
    ds_aggregator_config_t *config = &s_config;
    const ds_opt_t opts [] = {
        { "shard", DS_OPT_INT, &s_shard, "K", "this shard's index, 0..N-1 (default 0)" },
        { "shards", DS_OPT_INT, &s_shards, "N", "how many shards exist, 1.." DS_SHARDS_MAX_TEXT " (default 1)" },
        { "input", DS_OPT_LIST, &config->inputs, "ENDPOINT",
          "labeler XPUB to subscribe to (repeatable; default " DS_AGGREGATOR_INPUT_DEFAULT ")" },
        { "endpoint", DS_OPT_STRING, &config->endpoint, "ENDPOINT",
          "REP for partial queries (default tcp://127.0.0.1:(5560+K))" },
        { "sensors", DS_OPT_INT, &s_sensors, "S", "sensors whose end of stream to expect (default 1)" },
        { "tz", DS_OPT_STRING, &s_tz, "TZ", "time zone of calendar days, a TZ database name (default UTC)" },
        { "checkpoint", DS_OPT_STRING, &config->checkpoint, "FILE", "checkpoint file (default none)" },
        { "checkpoint-interval", DS_OPT_INT, &s_interval, "SECONDS",
          "checkpoint period when changed; 0 = only at end of stream and stop (default 60)" },
        { "retain-days", DS_OPT_INT, &s_retain, "N",
          "keep only the newest N days (older ones are evicted); default 0 = every day" },
        { "quiet", DS_OPT_BOOL, &s_quiet, NULL, "only warnings and errors on stderr" },
        { NULL, DS_OPT_STRING, NULL, NULL, NULL }
    };
    ds_service_t service = {
        .name = "aggregator", .usage = s_usage, .opts = opts, .quiet = &s_quiet,
        .configure = s_configure, .actor = ds_aggregator_actor, .config = &s_config, .metrics = &s_config.metrics,
        .started = s_started, .stopping = "stopping (checkpoint first)",
        .finish = s_finish
    };
    int rc = ds_service_main (argc, argv, &service);
    ds_tz_destroy (&s_zone);
    return rc;
}
