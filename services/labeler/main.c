/*  darkscope-labeler - the labeler service (thin main: options and the
    service skeleton, service.h, over the labeler actor). */
#include "ds_proto.h"
#include "labeler.h"
#include "opts.h"
#include "service.h"
#include <stdio.h>

static const char *s_usage =
"NAME\n"
"    darkscope-labeler - label darknet packet batches with ground truth and services\n"
"\n"
"SYNOPSIS\n"
"    darkscope-labeler [--gt FILE]... [--gt-list CLASS=FILE|FILE|DIR]... [--alias FROM=TO]...\n"
"                      [--services FILE] [--input ENDPOINT]... [--endpoint ENDPOINT]\n"
"                      [--control ENDPOINT] [--shards N] [--shard-list LIST] [--wait SECONDS]\n"
"                      [--force-reload]\n"
"                      [--http ADDR:PORT] [--log-format text|json] [--quiet]\n"
"\n"
"DESCRIPTION\n"
"    Subscribes to the packet batches of darkscope-ingest (topics pkt.NNNN), gives every\n"
"    record the ground-truth class of its source address and the service class of its\n"
"    port/proto, and republishes the batches on lab.NNNN for darkscope-aggregator.\n"
"    End-of-stream messages are forwarded unchanged; gaps in each (sensor, shard)\n"
"    sequence are counted. Nothing is dropped: the output applies back-pressure, and\n"
"    the first batch waits until every shard handled has a subscriber of its own topic\n"
"    (an aggregator; a reader of every shard such as darkscope-embed does not count).\n"
"\n"
"    Ground truth, any mix, several files:\n"
"      --gt FILE        CSV with a header: address column ip, s_ip or src_ip; class column\n"
"                       class, gt or label; other columns ignored (DarkVec's big_gt.csv).\n"
"      --gt-list SPEC   CIDR list, one IPv4/IPv6 prefix or address per line, '#' comments.\n"
"                       SPEC is CLASS=FILE, or FILE named <class>_v4.txt/<class>_v6.txt,\n"
"                       or a DIR whose *_v4.txt/*_v6.txt files are all loaded.\n"
"    Lookup: an exact address beats a prefix, a longer prefix beats a shorter one; among\n"
"    duplicates with different classes the first loaded wins (with a warning naming\n"
"    file:line). Aliases then map classes (default netscout, esrg_stanford,\n"
"    quadmetrics, criminalip, adscore -> unknown; --alias X=X removes one). A source\n"
"    matched by nothing is 'unknown'. The Mirai fingerprint is resolved downstream.\n"
"\n"
"    Services: a JSON object {\"23/tcp\": \"telnet\", ...} (DarkVec's services.json format);\n"
"    the built-in default covers ftp, ssh, telnet, mail, dns, http, kerberos, netbios,\n"
"    netbios-smb, proxy, dbs, p2p. A pp not in the table: port '-' -> icmp,\n"
"    0-1023 -> unk_sys, 1024-49151 -> unk_usr, 49152-65535 -> unk_eph.\n"
"\n"
"CONTROL\n"
"    The --control REP socket speaks msgpack {\"v\":1,\"q\":NAME,\"args\":{...}}:\n"
"      lookup {\"ip\": ADDR}  -> {\"ip\",\"class\",\"matched\",\"rule\"}\n"
"      reload [{\"force\": true}] -> re-reads every file; answered once the new tables\n"
"                             are in use, or with why the old ones stay\n"
"      status               -> counters, gaps per stream, table sizes, generation and the\n"
"                             last reload (time, result, error)\n"
"    SIGHUP reloads too. Tables load on a thread of their own while batches keep being\n"
"    labelled; they are swapped in between batches: a batch is labelled entirely by the\n"
"    old tables or entirely by the new ones. A reload that fails keeps the old tables; so\n"
"    does one that would lose entries -- a table that had entries left empty, holding\n"
"    only lines that could not be read, or with fewer than half its entries -- unless\n"
"    forced ({\"force\": true}, or --force-reload for every reload). The reason is logged\n"
"    and shown in status (tables.last_reload.error).\n"
"\n"
"ENVIRONMENT\n"
"    Every option is also read from an environment variable (its name is in brackets\n"
"    below): DARKSCOPE_<OPTION> for a setting every program shares\n"
"    (DARKSCOPE_GT_LIST=/lists/censys_v4.txt,/lists/shodan_v4.txt, DARKSCOPE_SHARDS=4),\n"
"    DARKSCOPE_LABELER_<OPTION> for one of this service alone (DARKSCOPE_LABELER_CONTROL=...);\n"
"    repeatable options take ','-separated values. A flag wins over the variable.\n"
"    --list-env prints them all.\n"
"\n"
"EXAMPLES\n"
"    darkscope-labeler --gt big_gt.csv --gt-list shared/data/scanners\n"
"    darkscope-labeler --gt-list censys=extra.txt --alias netscout=netscout \\\n"
"                      --services my_services.json --shards 4 --shard-list 0-1\n"
"    kill -HUP $(pidof darkscope-labeler)      # reload the tables\n"
"\n"
"EXIT STATUS\n"
"    0 after SIGINT/SIGTERM, 1 if it could not start (bad table, busy port), 2 bad usage.\n";

static ds_labeler_config_t s_config;
static int64_t s_shards = 1, s_wait_s = -1;
static bool s_quiet;

static int
s_configure (void *config)
{
    ds_labeler_config_t *cfg = (ds_labeler_config_t *) config;
    if (s_shards < 1 || s_shards > DS_SHARDS_MAX) {
        fprintf (stderr, "error: --shards must be 1..%d\n", DS_SHARDS_MAX);
        return -1;
    }
    cfg->shards = (uint32_t) s_shards;
    cfg->wait_ms = s_wait_s < 0 ? -1 : s_wait_s * 1000;
    return 0;
}

static int
s_started (zactor_t *actor)
{
    char data [256], control [256];
    return ds_labeler_endpoints (actor, data, sizeof data, control, sizeof control);
}

int
main (int argc, char **argv)
{
    ds_labeler_config_init (&s_config);
    ds_labeler_config_t *config = &s_config;
    const ds_opt_t opts [] = {
        { "gt", DS_OPT_LIST, &config->gt, "FILE", "ground-truth CSV (repeatable)" },
        { "gt-list", DS_OPT_LIST, &config->gt_lists, "CLASS=FILE|FILE|DIR",
          "CIDR list; class from CLASS= or <class>_v4.txt (repeatable)" },
        { "alias", DS_OPT_LIST, &config->aliases, "FROM=TO", "class alias, on top of the defaults (repeatable)" },
        { "services", DS_OPT_STRING, &config->services, "FILE", "services.json (default: built in)" },
        { "input", DS_OPT_LIST, &config->inputs, "ENDPOINT",
          "ingest endpoint to subscribe to (repeatable; default " DS_LABELER_INPUT ")" },
        { "endpoint", DS_OPT_STRING, &config->endpoint, "ENDPOINT",
          "XPUB for labelled batches (default " DS_LABELER_ENDPOINT ")" },
        { "control", DS_OPT_STRING, &config->control, "ENDPOINT",
          "REP for lookup/reload/status, '' for none (default " DS_LABELER_CONTROL ")" },
        { "shards", DS_OPT_INT, &s_shards, "N", "how many shards exist, 1.." DS_SHARDS_MAX_TEXT " (default 1)" },
        { "shard-list", DS_OPT_STRING, &config->shard_list, "LIST", "handle only these shards, e.g. 0,2-3 (default all)" },
        { "wait", DS_OPT_INT, &s_wait_s, "SECONDS",
          "wait for subscribers before the first batch; -1 forever (default), 0 not at all" },
        { "force-reload", DS_OPT_BOOL, &config->force_reload, NULL,
          "accept every reload, also one that loses entries (default: refuse it)" },
        { "quiet", DS_OPT_BOOL, &s_quiet, NULL, "only warnings and errors on stderr" },
        { 0 }
    };
    ds_service_t service = {
        .name = "labeler", .usage = s_usage, .opts = opts, .quiet = &s_quiet,
        .configure = s_configure, .actor = ds_labeler_actor, .config = &s_config, .metrics = &s_config.metrics,
        .started = s_started, .reloads = true
    };
    return ds_service_main (argc, argv, &service);
}
