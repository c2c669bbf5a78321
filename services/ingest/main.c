/*  darkscope-ingest - reads captures, logs or an interface and publishes
    sharded record batches (or writes DarkVec's CSV).  Thin main over
    ds_ingest_run (ingest.h). */
#include "ingest.h"
#include "batch.h"
#include "ds_proto.h"
#include "log.h"
#include "opts.h"
#include "tz.h"
#include "transport.h"
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static volatile int s_stop = 0;

static void
s_on_signal (int sig)
{
    (void) sig;
    s_stop = 1;
}

static const char *s_usage =
"NAME\n"
"    darkscope-ingest - darknet captures into sharded record batches\n"
"\n"
"SYNOPSIS\n"
"    darkscope-ingest [--pcap F|GLOB]... [--darkvec-log F|GLOB]... [--iface IF [--bpf E]]\n"
"                     [--shards N] [--sensor ID] [--endpoint E] [--wait S] [--batch N]\n"
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
"    for slow subscribers).  Each shard's stream ends with an end-of-stream\n"
"    message carrying the counters.  A live capture never waits: what it\n"
"    cannot queue, and what libpcap dropped, is counted as dropped.\n"
"\n"
"    --output csv: writes DarkVec's intermediate CSV instead, header\n"
"    ts,ip,port,proto,pp (ts as YYYY-MM-DD HH:MM:SS.ffffff in --tz).\n"
"\n"
"    The counters are logged at the end; while files are read, a progress line\n"
"    (packets, rate, % of input bytes) is shown when stderr is a terminal.\n"
"    SIGINT/SIGTERM stop reading; what was read is still sent, with the EOS.\n"
"\n"
"EXIT STATUS\n"
"    0 all inputs read and sent; 1 an input or the output failed (see the log);\n"
"    2 bad command line.\n"
"\n"
"ENVIRONMENT\n"
"    Every option NAME is also read from DARKSCOPE_<NAME> (upper case, '-' as\n"
"    '_'), e.g. DARKSCOPE_PCAP='a.pcap,b.pcap.gz', DARKSCOPE_SHARDS=4,\n"
"    DARKSCOPE_ENDPOINT=tcp://127.0.0.1:5550, DARKSCOPE_TZ=Europe/Rome,\n"
"    DARKSCOPE_OUTPUT=csv, DARKSCOPE_QUIET=1.  A flag wins over the variable.\n"
"\n"
"EXAMPLES\n"
"    darkscope-ingest --pcap 'traces/2021030*.pcap.gz' --shards 4\n"
"    darkscope-ingest --darkvec-log darknet01_20210501.csv.gz --output csv --tz Europe/Rome\n"
"    darkscope-ingest --iface eth1 --bpf 'not port 22' --sensor 2 --endpoint tcp://0.0.0.0:5550\n";

int
main (int argc, char **argv)
{
    ds_strlist_t pcaps = { 0 }, logs = { 0 };
    const char *iface = NULL, *bpf = NULL, *tz = "UTC", *endpoint = DS_INGEST_ENDPOINT;
    const char *output = "publish", *out = NULL;
    int64_t shards = 1, sensor = 0, wait_s = 30, batch = DS_BATCH_DEFAULT_CAPACITY;
    bool csv_extra = false, quiet = false;
    const ds_opt_t opts [] = {
        { "pcap",        DS_OPT_LIST,   &pcaps,     "F|GLOB", "pcap/pcapng file or glob pattern, .gz too, - = standard input (repeatable)" },
        { "darkvec-log", DS_OPT_LIST,   &logs,      "F|GLOB", "DarkVec packets.log or 17-column CSV, .gz too (repeatable)" },
        { "iface",       DS_OPT_STRING, &iface,     "IF",     "capture live on this interface (after any files)" },
        { "bpf",         DS_OPT_STRING, &bpf,       "EXPR",   "BPF filter for --iface, e.g. 'not port 22'" },
        { "tz",          DS_OPT_STRING, &tz,        "TZ",     "time zone of days and CSV timestamps (default UTC)" },
        { "shards",      DS_OPT_INT,    &shards,    "N",      "number of shards, by source address hash (default 1)" },
        { "sensor",      DS_OPT_INT,    &sensor,    "ID",     "this sensor's id in batches and EOS (default 0)" },
        { "endpoint",    DS_OPT_STRING, &endpoint,  "E",      "XPUB bind endpoint (default tcp://127.0.0.1:5550)" },
        { "output",      DS_OPT_STRING, &output,    "MODE",   "publish (default) or csv" },
        { "out",         DS_OPT_STRING, &out,       "FILE",   "csv: write to FILE instead of standard output" },
        { "csv-extra",   DS_OPT_BOOL,   &csv_extra, NULL,     "csv: append mirai (0/1) and ts_us columns" },
        { "wait",        DS_OPT_INT,    &wait_s,    "S",      "wait for a subscriber per shard topic (default 30; -1 forever; 0 none: batches before a subscriber are lost)" },
        { "batch",       DS_OPT_INT,    &batch,     "N",      "records per batch (default 4096, max 65536)" },
        { "quiet",       DS_OPT_BOOL,   &quiet,     NULL,     "no info lines and no progress line" },
        { 0 }
    };
    int rc = ds_opts_parse (argc, argv, 1, opts, s_usage, NULL);
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    ds_log_init ("ingest");
    ds_malloc_tune ();
    ds_log_set_quiet (quiet);

    ds_ingest_config_t cfg;
    ds_ingest_config_init (&cfg);
    if (strcmp (output, "publish") == 0)
        cfg.output = DS_INGEST_PUBLISH;
    else
    if (strcmp (output, "csv") == 0)
        cfg.output = DS_INGEST_CSV;
    else {
        fprintf (stderr, "error: --output must be publish or csv, got '%s'\n", output);
        return 2;
    }
    if (shards < 1 || shards > DS_SHARDS_MAX || sensor < 0 || sensor > UINT32_MAX
    ||  batch < 1 || batch > DS_BATCH_MAX_CAPACITY || wait_s < -1 || wait_s > 86400 * 365) {
        fprintf (stderr, "error: --shards 1..%d, --sensor >= 0, --batch 1..%d, --wait >= -1\n",
                 DS_SHARDS_MAX, DS_BATCH_MAX_CAPACITY);
        return 2;
    }
    if (bpf && !iface) {
        fprintf (stderr, "error: --bpf needs --iface\n");
        return 2;
    }
    char err [512];
    ds_tz_t *zone = ds_tz_load (tz, err, sizeof err);
    if (!zone) {
        fprintf (stderr, "error: %s\n", err);
        return 2;
    }
    cfg.pcaps = pcaps.items;
    cfg.n_pcaps = pcaps.count;
    cfg.logs = logs.items;
    cfg.n_logs = logs.count;
    cfg.iface = iface;
    cfg.bpf = bpf;
    cfg.tz = zone;
    cfg.shards = (uint32_t) shards;
    cfg.sensor = (uint32_t) sensor;
    cfg.endpoint = endpoint;
    cfg.batch = (uint32_t) batch;
    cfg.wait_s = (int) wait_s;
    cfg.out = out;
    cfg.csv_extra = csv_extra;
    cfg.progress = !quiet;

    //  Our own handlers, not czmq's: they only set the flag.
    zsys_handler_set (NULL);
    struct sigaction sa;
    memset (&sa, 0, sizeof sa);
    sa.sa_handler = s_on_signal;
    sigemptyset (&sa.sa_mask);
    sigaction (SIGINT, &sa, NULL);
    sigaction (SIGTERM, &sa, NULL);
    signal (SIGPIPE, SIG_IGN);

    rc = ds_ingest_run (&cfg, NULL, &s_stop);
    zsys_shutdown ();
    ds_tz_destroy (&zone);
    return rc == 0 ? 0 : 1;
}
