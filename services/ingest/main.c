/*  darkscope-ingest - reads captures, logs or an interface and publishes
    sharded record batches (or writes DarkVec's CSV).  Thin main: options
    and the service skeleton (service.h) over the ingest actor (ingest.h). */
#include "ingest.h"
#include "batch.h"
#include "ds_proto.h"
#include "opts.h"
#include "service.h"
#include "tz.h"
#include <stdio.h>
#include <string.h>

static const char *s_usage =
"NAME\n"
"    darkscope-ingest - darknet captures into sharded record batches\n"
"\n"
"SYNOPSIS\n"
"    darkscope-ingest [--pcap F|GLOB]... [--darkvec-log F|GLOB]... [--iface IF [--bpf E]]\n"
"                     [--shards N] [--sensor ID] [--endpoint E] [--wait S] [--batch N]\n"
"                     [--stats-interval S] [--http ADDR:PORT] [--log-format text|json]\n"
"    darkscope-ingest --pcap F|GLOB... --output csv [--out FILE] [--csv-extra] [--tz TZ]\n"
"\n"
"DESCRIPTION\n"
"    Reads every packet of its inputs -- pcap and pcapng files, gzip-compressed\n"
"    or not; DarkVec text logs (packets.log and the 17-column CSV of DarkVec's\n"
"    samples, also .gz); a live interface -- in that order, files in name order\n"
"    within each glob pattern.  Each frame becomes a record (ts, source address,\n"
"    destination port, protocol class, scanner fingerprint flags: Mirai, ZMap,\n"
"    masscan) following DESIGN.md section 2.  Link types: Ethernet with any VLAN\n"
"    tags, Linux SLL/SLL2, raw IP, BSD NULL/LOOP; any other is refused at open.\n"
"    Non-IP and malformed frames are skipped and counted; bad log lines are\n"
"    reported with file:line and counted; the rest is still read.\n"
"\n"
"    --output publish (default): records are published in batches on a ZeroMQ\n"
"    XPUB socket, topic \"pkt.NNNN\" per shard (shard = hash of the source\n"
"    address modulo --shards).  The first batch waits until each shard topic\n"
"    has a subscriber (--wait); files are read losslessly (the publisher waits\n"
"    for slow subscribers).  Each shard's stream starts with the sensor's\n"
"    counters (packets read, non-IP, malformed, bad_time, dropped), repeats\n"
"    them every --stats-interval seconds so status is current while a capture\n"
"    runs, and ends with an end-of-stream message carrying them.  A live\n"
"    capture never waits: what it cannot queue, and what libpcap dropped, is\n"
"    counted as dropped.  A capture from a pipe or FIFO (--pcap -) is read as\n"
"    it arrives: batches go out at least every 100 ms while it stays open.\n"
"    A live capture or a pipe starts a new epoch (its start time): restarted\n"
"    with the same --sensor, its sequence numbers start again without being\n"
"    taken for a replay; files have epoch 0, so a replay of them is one.\n"
"\n"
"    Timestamps that cannot be real -- before 1995-01-01 or more than one day\n"
"    past this host's clock -- are counted as bad_time and not published, so\n"
"    one broken packet never stretches the overview's window.\n"
"\n"
"    --output csv: writes DarkVec's intermediate CSV instead, header\n"
"    ts,ip,port,proto,pp (ts as YYYY-MM-DD HH:MM:SS.ffffff in --tz), every\n"
"    record as read (bad_time is not applied).\n"
"\n"
"    The counters are logged at the end; while files are read, a progress line\n"
"    (packets, rate, % of input bytes) is shown when stderr is a terminal.\n"
"    SIGINT/SIGTERM stop reading; what was read is still sent, with the EOS (a\n"
"    second signal abandons the sends).  SIGHUP is logged and ignored.\n"
"\n"
"EXIT STATUS\n"
"    0 all inputs read and sent; 1 an input or the output failed (see the log);\n"
"    2 bad command line.\n"
"\n"
"ENVIRONMENT\n"
"    Every option is also read from an environment variable (its name is in\n"
"    brackets below): DARKSCOPE_<OPTION> for a setting every program shares\n"
"    (DARKSCOPE_PCAP='a.pcap,b.pcap.gz', DARKSCOPE_SHARDS=4, DARKSCOPE_TZ=Europe/Rome,\n"
"    DARKSCOPE_QUIET=1), DARKSCOPE_INGEST_<OPTION> for one of this service alone\n"
"    (DARKSCOPE_INGEST_ENDPOINT=tcp://127.0.0.1:5550, DARKSCOPE_INGEST_OUTPUT=csv).\n"
"    A flag wins over the variable. --list-env prints them all.\n"
"\n"
"EXAMPLES\n"
"    darkscope-ingest --pcap 'traces/2021030*.pcap.gz' --shards 4\n"
"    darkscope-ingest --darkvec-log darknet01_20210501.csv.gz --output csv --tz Europe/Rome\n"
"    darkscope-ingest --iface eth1 --bpf 'not port 22' --sensor 2 --endpoint tcp://0.0.0.0:5550 \\\n"
"                     --cert sensor2.cert --trust labeler-certs/     # CURVE (darkscope keygen)\n";

static ds_ingest_config_t s_config;
static ds_strlist_t s_pcaps, s_logs;
static const char *s_tz = "UTC", *s_output = "publish";
static ds_tz_t *s_zone;              //  loaded by s_configure, freed after the service ends
static int64_t s_shards = 1, s_sensor = 0, s_wait_s = 30, s_batch = DS_BATCH_DEFAULT_CAPACITY, s_stats_s = 5;
static bool s_quiet;

static int
s_configure (void *config)
{
    ds_ingest_config_t *cfg = (ds_ingest_config_t *) config;
    if (strcmp (s_output, "publish") == 0)
        cfg->output = DS_INGEST_PUBLISH;
    else
    if (strcmp (s_output, "csv") == 0)
        cfg->output = DS_INGEST_CSV;
    else {
        fprintf (stderr, "error: --output must be publish or csv, got '%s'\n", s_output);
        return -1;
    }
    if (s_shards < 1 || s_shards > DS_SHARDS_MAX || s_sensor < 0 || s_sensor > UINT32_MAX
    ||  s_batch < 1 || s_batch > DS_BATCH_MAX_CAPACITY || s_wait_s < -1 || s_wait_s > 86400 * 365
    ||  s_stats_s < 0 || s_stats_s > 86400) {
        fprintf (stderr, "error: --shards 1..%d, --sensor >= 0, --batch 1..%d, --wait >= -1, "
                 "--stats-interval 0..86400\n",
                 DS_SHARDS_MAX, DS_BATCH_MAX_CAPACITY);
        return -1;
    }
    if (cfg->bpf && !cfg->iface) {
        fprintf (stderr, "error: --bpf needs --iface\n");
        return -1;
    }
    char err [512];
    s_zone = ds_tz_load (s_tz, err, sizeof err);
    if (!s_zone) {
        fprintf (stderr, "error: %s\n", err);
        return -1;
    }
    cfg->pcaps = s_pcaps.items;
    cfg->n_pcaps = s_pcaps.count;
    cfg->logs = s_logs.items;
    cfg->n_logs = s_logs.count;
    cfg->tz = s_zone;
    cfg->shards = (uint32_t) s_shards;
    cfg->sensor = (uint32_t) s_sensor;
    cfg->batch = (uint32_t) s_batch;
    cfg->wait_s = (int) s_wait_s;
    cfg->stats_interval_ms = (int) s_stats_s * 1000;
    cfg->progress = !s_quiet;
    return 0;
}

int
main (int argc, char **argv)
{
    ds_ingest_config_init (&s_config);
    ds_ingest_config_t *cfg = &s_config;
    const ds_opt_t opts [] = {
        { "pcap",        DS_OPT_LIST,   &s_pcaps,        "F|GLOB", "pcap/pcapng file or glob pattern, .gz too, - = standard input (repeatable)" },
        { "darkvec-log", DS_OPT_LIST,   &s_logs,         "F|GLOB", "DarkVec packets.log or 17-column CSV, .gz too (repeatable)" },
        { "iface",       DS_OPT_STRING, &cfg->iface,     "IF",     "capture live on this interface (after any files)" },
        { "bpf",         DS_OPT_STRING, &cfg->bpf,       "EXPR",   "BPF filter for --iface, e.g. 'not port 22'" },
        { "tz",          DS_OPT_STRING, &s_tz,           "TZ",     "time zone of days and CSV timestamps (default UTC)" },
        { "shards",      DS_OPT_INT,    &s_shards,       "N",      "number of shards, by source address hash, 1.." DS_SHARDS_MAX_TEXT " (default 1)" },
        { "sensor",      DS_OPT_INT,    &s_sensor,       "ID",     "this sensor's id in batches and EOS (default 0)" },
        { "endpoint",    DS_OPT_STRING, &cfg->endpoint,  "E",      "XPUB bind endpoint (default tcp://127.0.0.1:5550)" },
        { "output",      DS_OPT_STRING, &s_output,       "MODE",   "publish (default) or csv" },
        { "out",         DS_OPT_STRING, &cfg->out,       "FILE",   "csv: write to FILE instead of standard output" },
        { "csv-extra",   DS_OPT_BOOL,   &cfg->csv_extra, NULL,     "csv: append mirai (0/1) and ts_us columns" },
        { "wait",        DS_OPT_INT,    &s_wait_s,       "S",      "wait for a subscriber per shard topic (default 30; -1 forever; 0 none: batches before a subscriber are lost)" },
        { "batch",       DS_OPT_INT,    &s_batch,        "N",      "records per batch (default 4096, max 65536)" },
        { "stats-interval", DS_OPT_INT, &s_stats_s,      "S",      "send the counters every S seconds (default 5; 0 = only at start and end)" },
        { "quiet",       DS_OPT_BOOL,   &s_quiet,        NULL,     "no info lines and no progress line" },
        { 0 }
    };
    ds_service_t service = {
        .name = "ingest", .usage = s_usage, .opts = opts, .quiet = &s_quiet,
        .configure = s_configure, .actor = ds_ingest_actor, .config = &s_config, .metrics = &s_config.metrics,
        .ends = true
    };
    int rc = ds_service_main (argc, argv, &service);
    ds_tz_destroy (&s_zone);
    return rc;
}
