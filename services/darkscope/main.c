/*  darkscope - the command users type: run, gen, query, report.

    Each subcommand is a row of s_commands; its options are a ds_opt_t table
    (flags override DARKSCOPE_* environment variables, opts.h: each
    command's own are DARKSCOPE_RUN_*, _GEN_*, _CLIENT_*, _REPORT_*). */
#include <czmq.h>
#include <string.h>
#include "ds_proto.h"
#include "opts.h"
#include "log.h"
#include "json.h"
#include "client.h"
#include "gen.h"
#include "report.h"
#include "run.h"
#include "curve.h"
#include <stdlib.h>

#define DEFAULT_QUERY_ENDPOINT "tcp://127.0.0.1:5570"

static const char *s_main_usage =
"Usage: darkscope COMMAND [OPTIONS]\n"
"\n"
"darkscope analyses darknet (network telescope) traffic and reproduces the\n"
"darknet overview of the DarkVec study: port ranking, packets per source,\n"
"distinct sources per day, ground-truth classes, activity patterns.\n"
"\n"
"Commands:\n"
"  run      read captures/logs (or a generated month) through every service in\n"
"           one process and write the overview (--json) and report (--report)\n"
"  gen      write a synthetic darknet month as a pcap plus its ground truth\n"
"  query    ask a running darkscope-query (or `darkscope run --serve`) a question\n"
"  report   fetch everything from a running query service and write the report\n"
"  keygen   write a CurveZMQ certificate pair for --cert / --trust (DESIGN §11)\n"
"\n"
"The services can also run apart, across hosts: darkscope-ingest,\n"
"darkscope-labeler, darkscope-aggregator, darkscope-query, darkscope-embed (each has --help).\n"
"\n"
"Run `darkscope COMMAND --help` for the options of a command.\n"
"\n"
"Environment: every option is also read from a variable (a flag wins):\n"
"DARKSCOPE_<OPTION> for a setting every program shares (DARKSCOPE_TZ,\n"
"DARKSCOPE_SHARDS, DARKSCOPE_GT, ...), DARKSCOPE_<PROGRAM>_<OPTION> for one of\n"
"a program alone: RUN, GEN, CLIENT (darkscope query) and REPORT here, e.g.\n"
"DARKSCOPE_RUN_JSON=o.json, DARKSCOPE_CLIENT_ENDPOINT=tcp://10.0.0.6:5570.\n"
"`darkscope COMMAND --list-env` prints a command's variables.\n"
"\n"
"Examples:\n"
"  darkscope run --report report/                 # the synthetic month\n"
"  darkscope run --pcap 'traces/2021030*' --gt gt.csv --tz Europe/Rome --json o.json\n"
"  darkscope query classes --last-day 2021-03-31\n";

//  Parses a command's options and the CURVE rows (--cert, --trust,
//  --insecure: curve.h) and sets CURVE up.  Returns 0; 1 after --help; 2
//  on bad usage; -1 if the certificates cannot be used (logged).
static int
s_parse (int argc, char **argv, const char *program, const ds_opt_t *opts, const char *usage,
         ds_strlist_t *words)
{
    ds_opt_t *all = ds_opts_join (opts, ds_curve_opts ());
    int rc = all ? ds_opts_parse (argc, argv, 2, program, all, usage, words) : -1;
    free (all);
    if (rc)
        return rc > 0 ? 1 : 2;
    return ds_curve_init_opts () ? -1 : 0;
}

//  The exit status after s_parse returned rc != 0: 0 after --help, 2 for
//  bad usage (a script must see a mistyped flag), 1 for unusable certificates.
static int
s_parse_exit (int rc)
{
    return rc == 1 ? 0 : rc == 2 ? 2 : 1;
}

//  --------------------------------------------------------------------------
//  run

static int
s_cmd_run (int argc, char **argv)
{
    ds_run_config_t cfg = { .tz = "UTC", .shards = 2, .min_packets = 10,
                            .gen_packets = 63500000, .seed = 1,
                            .checkpoint_interval = 60, .stats_interval = 5 };
    const ds_opt_t opts [] = {
        { "pcap",        DS_OPT_LIST,   &cfg.pcaps,    "F|GLOB",  "pcap/pcapng file(s), .gz too, - = stdin; repeatable; globs in name order" },
        { "darkvec-log", DS_OPT_LIST,   &cfg.logs,     "F|GLOB",  "DarkVec text log(s) (packets.log(.gz) or 17-column CSV); repeatable" },
        { "iface",       DS_OPT_STRING, &cfg.iface,    "IF",      "capture live from an interface (stop with Ctrl-C)" },
        { "bpf",         DS_OPT_STRING, &cfg.bpf,      "EXPR",    "BPF filter for --iface" },
        { "gt",          DS_OPT_LIST,   &cfg.gt,       "FILE",    "ground-truth CSV (ip/s_ip/src_ip + class/gt/label columns); repeatable" },
        { "gt-list",     DS_OPT_LIST,   &cfg.gt_lists, "CLASS=F", "CIDR list with its class, or a directory of <class>_v4.txt lists; repeatable" },
        { "alias",       DS_OPT_LIST,   &cfg.aliases,  "FROM=TO", "map class FROM to TO (added to the default aliases -> unknown)" },
        { "services",    DS_OPT_STRING, &cfg.services, "FILE",    "services table (DarkVec services.json format); default built in" },
        { "tz",          DS_OPT_STRING, &cfg.tz,       "TZ",      "time zone of days (TZ database name); default UTC" },
        { "shards",      DS_OPT_INT,    &cfg.shards,   "N",       "aggregator shards (by source address), 1.." DS_SHARDS_MAX_TEXT "; default 2" },
        { "first-day",   DS_OPT_STRING, &cfg.first_day, "DAY",    "first day of the window (YYYY-MM-DD); default first seen" },
        { "last-day",    DS_OPT_STRING, &cfg.last_day, "DAY",     "last day of the window; default last seen" },
        { "min-packets", DS_OPT_INT,    &cfg.min_packets, "N",    "filter: keep sources with >= N packets; default 10" },
        { "json",        DS_OPT_STRING, &cfg.json,     "FILE",    "write the overview JSON here ('-' = stdout)" },
        { "report",      DS_OPT_STRING, &cfg.report,   "DIR",     "write the HTML report and figures here (whole, or DIR left as it was)" },
        { "endpoint",    DS_OPT_STRING, &cfg.endpoint, "E",       "also serve queries on this endpoint (e.g. tcp://127.0.0.1:5570)" },
        { "serve",       DS_OPT_BOOL,   &cfg.serve,    NULL,      "keep serving queries on --endpoint (and --http) after the run, until Ctrl-C" },
        { "http",        DS_OPT_STRING, &cfg.http,     "ADDR:PORT", "serve /metrics, /healthz, /readyz (and with --serve the live dashboard) here" },
        { "web-dir",     DS_OPT_STRING, &cfg.web_dir,  "DIR",     "the dashboard's files (default BIN/../share/darkscope/web)" },
        { "checkpoint-dir", DS_OPT_STRING, &cfg.checkpoint_dir, "DIR", "aggregator checkpoints (shard-N.ckpt; the run exits 1 if the last fails); default none" },
        { "checkpoint-interval", DS_OPT_INT, &cfg.checkpoint_interval, "S", "seconds between checkpoints when changed; default 60; 0 = at the end" },
        { "retain-days", DS_OPT_INT,   &cfg.retain_days, "N",    "keep only the newest N days; default 0 = every day" },
        { "stats-interval", DS_OPT_INT, &cfg.stats_interval, "S", "ingest sends its counters every S seconds; default 5; 0 = start and end" },
        { "gen-packets", DS_OPT_INT,    &cfg.gen_packets, "N",    "size of the synthetic month used when no input is given; default 63500000 (DarkVec's month, 4.4 GB cached in ~/.cache/darkscope)" },
        { "seed",        DS_OPT_INT,    &cfg.seed,     "S",       "seed of the synthetic month; default 1" },
        { "log-format",  DS_OPT_STRING, &cfg.log_format, "FORMAT", "log lines: text (default) or json (one object a line)" },
        { "quiet",       DS_OPT_BOOL,   &cfg.quiet,    NULL,      "no progress or info lines" },
        { "embed",       DS_OPT_BOOL,   &cfg.embed,    NULL,      "also train DarkVec's embedding; adds \"embedding\" to the JSON" },
        { "model-out",   DS_OPT_STRING, &cfg.model_out, "FILE",   "embed: write the vectors (word2vec text format, one line per source)" },
        { "corpus-out",  DS_OPT_STRING, &cfg.corpus_out, "FILE",  "embed: write the corpus (gensim LineSentence text)" },
        { "classes-out", DS_OPT_STRING, &cfg.classes_out, "FILE", "embed: write every sender's class and 7-NN class (CSV)" },
        { "embed-threads", DS_OPT_INT,  &cfg.embed_threads, "N",  "embed: training threads; default 2" },
        { "embed-epochs", DS_OPT_INT,   &cfg.embed_epochs, "N",   "embed: training epochs; default 20 (DarkVec)" },
        { 0 }
    };
    const char *usage =
        "Usage: darkscope run [--pcap F|GLOB]... [--darkvec-log F|GLOB]... [--iface IF [--bpf E]]\n"
        "                     [--gt F]... [--gt-list CLASS=F]... [--services F] [--tz TZ]\n"
        "                     [--shards N] [--first-day D] [--last-day D] [--min-packets N]\n"
        "                     [--json FILE] [--report DIR] [--retain-days N] [--embed [--model-out F]]\n"
        "                     [--endpoint E] [--serve] [--http ADDR:PORT] [--log-format text|json]\n"
        "\n"
        "Starts ingest, labeler, N aggregator shards and the query service in one\n"
        "process (over inproc://; ingest labels with the labeler's tables and publishes\n"
        "straight to the shards), reads every input to its end with back-pressure\n"
        "(nothing is dropped), and writes the darknet overview.  With no input it\n"
        "generates the default synthetic month (seeded, cached under\n"
        "$XDG_CACHE_HOME/darkscope or ~/.cache/darkscope) with its ground truth and\n"
        "runs on that.  Progress is shown on a terminal; a summary is printed at the end.\n"
        "A run that only writes the overview (no --report, --serve, --endpoint, --http or\n"
        "--checkpoint-dir: nothing can ask for activity patterns) does not keep them.\n"
        "With --embed the embed service trains DarkVec's word2vec of senders on the same\n"
        "stream (per service, one sentence per local hour; V 50, C 25, 20 epochs) and the\n"
        "JSON gains \"embedding\": the 7-NN leave-one-out accuracy, macro F1, per-class rows.\n"
        "\n"
        "Examples:\n"
        "  darkscope run --report report/ --json report/overview.json\n"
        "  darkscope run --pcap 'traces/2021030*' --gt gt.csv --gt-list shared/data/scanners \\\n"
        "                --tz Europe/Rome --last-day 2021-03-31 --json overview.json\n";
    int rc = s_parse (argc, argv, "run", opts, usage, NULL);
    if (rc)
        return s_parse_exit (rc);
    if (cfg.retain_days < 0 || cfg.retain_days > 36600) {
        fprintf (stderr, "error: --retain-days must be 0..36600\n");
        return 2;
    }
    if (cfg.checkpoint_interval < 0 || cfg.checkpoint_interval > 86400
    ||  cfg.stats_interval < 0 || cfg.stats_interval > 86400) {
        fprintf (stderr, "error: --checkpoint-interval and --stats-interval must be 0..86400\n");
        return 2;
    }
    return ds_run (&cfg);
}

//  --------------------------------------------------------------------------
//  gen

static int
s_cmd_gen (int argc, char **argv)
{
    const char *out = NULL, *gt_out = NULL, *start = "2021-03-02", *prefix = "203.0.113.0/24";
    int64_t days = 30, packets = 2000000, seed = 1, max_active = 0;
    bool quiet = false;
    const ds_opt_t opts [] = {
        { "out",     DS_OPT_STRING, &out,     "F.pcap", "pcap file to write, - = standard output (required)" },
        { "gt-out",  DS_OPT_STRING, &gt_out,  "F.csv",  "ground-truth CSV to write (ip,class)" },
        { "days",    DS_OPT_INT,    &days,    "N",      "days of traffic; default 30" },
        { "packets", DS_OPT_INT,    &packets, "N",      "packets in all (about); default 2000000 (DarkVec month: 63500000)" },
        { "seed",    DS_OPT_INT,    &seed,    "S",      "random seed; same seed, same bytes; default 1" },
        { "max-active-days", DS_OPT_INT, &max_active, "N", "steady stream: unlisted sources active <= N days, wrapping around; default 0 = off" },
        { "start",   DS_OPT_STRING, &start,   "DAY",    "first day (UTC); default 2021-03-02" },
        { "prefix",  DS_OPT_STRING, &prefix,  "CIDR",   "the telescope's IPv4 prefix; default 203.0.113.0/24" },
        { "quiet",   DS_OPT_BOOL,   &quiet,   NULL,     "no summary" },
        { 0 }
    };
    const char *usage =
        "Usage: darkscope gen --out F.pcap [--gt-out gt.csv] [--days N] [--packets N] [--seed S]\n"
        "\n"
        "Writes a synthetic darknet month that looks like DarkVec's: Mirai-like\n"
        "sources on 23/2323 TCP with the Mirai fingerprint, research scanners with\n"
        "their own rhythms (censys, shodan, stretchoid, engin-umich, ...), worms on\n"
        "445 and 5555 TCP, UDP probes, ICMP, backscatter and a long tail of sources\n"
        "sending one or two packets.  Research scanners of one organisation work as\n"
        "a coordinated group (the same hours, or a shared burst period), so the\n"
        "embedding of `run --embed` has classes to recover.  Deterministic per seed.\n"
        "With --max-active-days every day holds the same mix of sources (a steady\n"
        "stream for long runs: day 300 looks like day 30).\n"
        "\n"
        "Examples:\n"
        "  darkscope gen --out month.pcap --gt-out gt.csv --packets 63500000\n"
        "  darkscope gen --out - --days 365 --packets 730000000 --max-active-days 30 \\\n"
        "    | darkscope run --pcap - --retain-days 30 --json overview.json   # a year, 30 days kept\n";
    int rc = ds_opts_parse (argc, argv, 2, "gen", opts, usage, NULL);
    if (rc)
        return rc > 0 ? 0 : 2;
    if (!out) {
        fprintf (stderr, "darkscope gen: --out is required (see --help)\n");
        return 2;
    }
    ds_gen_config_t cfg;
    ds_gen_config_defaults (&cfg);
    cfg.out_path = out;
    cfg.gt_path = gt_out;
    cfg.days = (int) days;
    cfg.packets = (uint64_t) packets;
    cfg.seed = (uint64_t) seed;
    cfg.start_day = start;
    cfg.telescope = prefix;
    cfg.quiet = quiet;
    if (max_active < 0 || max_active > days) {
        fprintf (stderr, "darkscope gen: --max-active-days %lld out of range 0..%lld (--days)\n",
                 (long long) max_active, (long long) days);
        return 2;
    }
    cfg.max_active_days = (int) max_active;
    ds_gen_summary_t summary;
    if (ds_gen_run (&cfg, &summary) != 0)
        return 1;
    if (!quiet) {
        fprintf (stderr, "darkscope gen: %llu packets from %llu sources (%llu IPv6, %.1f%% under 10 packets) "
                 "in %.1f s -> %s\n", (unsigned long long) summary.packets,
                 (unsigned long long) summary.sources, (unsigned long long) summary.sources_v6,
                 summary.sources ? 100.0 * (double) summary.sources_small / (double) summary.sources : 0.0,
                 summary.seconds, out);
        for (int k = 0; k < DS_GEN_KIND_COUNT; k++)
            fprintf (stderr, "  %-12s %8llu sources %10llu packets\n", ds_gen_kind_name (k),
                     (unsigned long long) summary.kind_sources [k],
                     (unsigned long long) summary.kind_packets [k]);
    }
    return 0;
}

//  --------------------------------------------------------------------------
//  query

//  The options of `darkscope query`.
typedef struct {
    const char *endpoint, *first, *last, *klass;
    int64_t min_packets, from, to, bin, timeout, k, width, height, limit, offset;
    bool json, csv;
} s_query_opts_t;

//  The request the words (QUERY [IP]) and options ask for: 0, or 2 after
//  saying what is wrong.
static int
s_query_build (const s_query_opts_t *o, const ds_strlist_t *words, ds_query_t *q)
{
    if (words->count < 1) {
        fprintf (stderr, "darkscope query: which query? (see --help)\n");
        return 2;
    }
    ds_query_init (q);
    snprintf (q->name, sizeof q->name, "%s", words->items [0]);
    if (strcmp (q->name, "lookup") == 0 || strcmp (q->name, "knn") == 0) {
        if (words->count != 2) {
            fprintf (stderr, "darkscope query: %s needs one IP address\n", q->name);
            return 2;
        }
        snprintf (q->ip, sizeof q->ip, "%s", words->items [1]);
    }
    else
    if (words->count > 1) {
        fprintf (stderr, "darkscope query: unexpected argument '%s'\n", words->items [1]);
        return 2;
    }
    if (o->first)
        snprintf (q->first_day, sizeof q->first_day, "%s", o->first);
    if (o->last)
        snprintf (q->last_day, sizeof q->last_day, "%s", o->last);
    if (o->klass)
        snprintf (q->class_name, sizeof q->class_name, "%s", o->klass);
    if (o->min_packets >= 0)
        q->min_packets = o->min_packets;
    q->from_us = o->from;
    q->to_us = o->to;
    if (o->bin > 0)
        q->bin_s = o->bin;
    if (o->width >= 0)
        q->width = o->width;
    if (o->height >= 0)
        q->height = o->height;
    if (o->limit >= 0)
        q->limit = o->limit;
    q->offset = o->offset;
    if (o->k < 0 || o->k > 1000) {
        fprintf (stderr, "darkscope query: --k must be 1..1000\n");
        return 2;
    }
    q->k = o->k;
    return 0;
}

//  Asks the query service and prints the answer; the exit status.
static int
s_query_ask (const s_query_opts_t *o, const ds_query_t *q)
{
    ds_client_t *client = ds_client_new (o->endpoint, (int) o->timeout);
    if (!client) {
        fprintf (stderr, "darkscope query: cannot connect to %s\n", o->endpoint);
        return 1;
    }
    msgpack_zone zone;
    msgpack_zone_init (&zone, 65536);
    msgpack_object result;
    char err [512];
    int rc = 0;
    if (ds_client_request (client, q, &zone, &result, err, sizeof err) != 0) {
        fprintf (stderr, "darkscope query %s: %s\n", q->name, err);
        rc = 1;
    }
    else
    if (ds_client_print (stdout, q->name, &result,
                         o->json ? DS_FORMAT_JSON : o->csv ? DS_FORMAT_CSV : DS_FORMAT_TABLE) != 0)
        rc = 1;
    msgpack_zone_destroy (&zone);
    ds_client_destroy (&client);
    return rc;
}

static int
s_cmd_query (int argc, char **argv)
{
    s_query_opts_t o = { .endpoint = DEFAULT_QUERY_ENDPOINT, .min_packets = -1, .from = INT64_MIN,
                         .to = INT64_MAX, .timeout = 10000, .width = -1, .height = -1, .limit = -1 };
    ds_strlist_t words = { 0 };
    const ds_opt_t opts [] = {
        { "endpoint",    DS_OPT_STRING, &o.endpoint,    "E",   "query service; default " DEFAULT_QUERY_ENDPOINT },
        { "first-day",   DS_OPT_STRING, &o.first,       "DAY", "first day of the window" },
        { "last-day",    DS_OPT_STRING, &o.last,        "DAY", "last day of the window" },
        { "min-packets", DS_OPT_INT,    &o.min_packets, "N",   "filter threshold; default 10" },
        { "class",       DS_OPT_STRING, &o.klass,       "C",   "pattern: only sources of this class" },
        { "from-us",     DS_OPT_INT,    &o.from,        "T",   "pattern: from this time (microseconds since the epoch)" },
        { "to-us",       DS_OPT_INT,    &o.to,          "T",   "pattern: up to (excluding) this time" },
        { "bin",         DS_OPT_INT,    &o.bin,         "S",   "pattern: bin width in seconds, a multiple of 60; default 60" },
        { "width",       DS_OPT_INT,    &o.width,       "N",   "pattern: raster columns, 1..4096 (at most one per bin); default 640" },
        { "height",      DS_OPT_INT,    &o.height,      "N",   "pattern: raster rows, 1..4096 (at most one per source); default 360" },
        { "limit",       DS_OPT_INT,    &o.limit,       "N",   "pattern: sample points, 0..200000; default 100000" },
        { "offset",      DS_OPT_INT,    &o.offset,      "N",   "pattern: first sample point (paging: the previous page's next_offset)" },
        { "k",           DS_OPT_INT,    &o.k,           "N",   "knn: neighbours (default 10); classify: voters (default the service's, 7)" },
        { "timeout-ms",  DS_OPT_INT,    &o.timeout,     "MS",  "wait this long for the answer (for a connection: 2 s at most); default 10000" },
        { "json",        DS_OPT_BOOL,   &o.json,        NULL,  "print JSON" },
        { "csv",         DS_OPT_BOOL,   &o.csv,         NULL,  "print CSV" },
        { 0 }
    };
    const char *usage =
        "Usage: darkscope query [--endpoint E] QUERY [IP] [OPTIONS] [--json|--csv]\n"
        "\n"
        "Queries:\n"
        "  overview   the whole darknet overview (DESIGN §5); --csv: key,value rows of its\n"
        "             dataset, filter and ingest counters (its tables: the queries below)\n"
        "  ports      packets per destination port, ranked\n"
        "  ecdf       ECDF of packets per source\n"
        "  daily      distinct sources per day, filtered and cumulative\n"
        "  classes    last-day ground-truth classes of the kept sources\n"
        "  heatmap    fraction of each class's packets per service\n"
        "  pattern    activity pattern: exact raster of (source, time bin) points, sources\n"
        "             in order of first activity, and a page of sample points\n"
        "  lookup IP  the ground-truth class of an address and the rule that matched\n"
        "             (text: key: value lines; --csv: key,value rows)\n"
        "  status     the state of every shard and sensor stream: complete or not and why\n"
        "             (text: verdict, one line per shard and per stream; --csv: one row per\n"
        "             shard; --json: all of it)\n"
        "  knn IP     the senders most like IP in the embedding (cosine), with classes\n"
        "  classify   the 7-NN class and confidence of every unlabelled sender\n"
        "  embedding  the 7-NN leave-one-out evaluation: per class precision, recall, F1\n"
        "  projection the vectors on their two principal axes (PCA), with classes\n"
        "             (text and --csv: x, y, class, predicted class per point)\n"
        "  (knn, classify, embedding, projection: answered by darkscope-embed through the\n"
        "  query service)\n"
        "\n"
        "Tables are rounded as DarkVec printed them; --json and --csv give full precision.\n"
        "\n"
        "Examples:\n"
        "  darkscope query classes --last-day 2021-03-31\n"
        "  darkscope query pattern --class stretchoid --csv > stretchoid.csv\n"
        "  darkscope query pattern --width 1 --height 1 --offset 100000 --csv   # next page\n"
        "  darkscope query lookup 198.51.100.7\n"
        "  darkscope query knn 198.51.100.7 --k 5\n";
    int rc = s_parse (argc, argv, "client", opts, usage, &words);
    if (rc)
        return s_parse_exit (rc);
    ds_query_t q;
    rc = s_query_build (&o, &words, &q);
    return rc ? rc : s_query_ask (&o, &q);
}

//  --------------------------------------------------------------------------
//  report

static int
s_cmd_report (int argc, char **argv)
{
    const char *endpoint = DEFAULT_QUERY_ENDPOINT, *out = NULL;
    int64_t timeout = 30000;
    const ds_opt_t opts [] = {
        { "endpoint",   DS_OPT_STRING, &endpoint, "E",   "query service; default " DEFAULT_QUERY_ENDPOINT },
        { "out",        DS_OPT_STRING, &out,      "DIR", "directory to write index.html, figures and data (required)" },
        { "timeout-ms", DS_OPT_INT,    &timeout,  "MS",  "per query (for a connection: 2 s at most); default 30000" },
        { 0 }
    };
    const char *usage =
        "Usage: darkscope report [--endpoint E] --out DIR\n"
        "\n"
        "Fetches the overview and the activity patterns from a running query service\n"
        "and writes a self-contained HTML report (DIR/index.html, opens offline) with\n"
        "the notebook's tables and figures (SVG, drawn by gnuplot) and the JSON/CSV\n"
        "data behind each figure.  The report replaces an earlier one in DIR only\n"
        "once it is complete: a report that fails leaves DIR as it was.\n";
    int rc = s_parse (argc, argv, "report", opts, usage, NULL);
    if (rc)
        return s_parse_exit (rc);
    if (!out) {
        fprintf (stderr, "darkscope report: --out DIR is required\n");
        return 2;
    }
    ds_client_t *client = ds_client_new (endpoint, (int) timeout);
    if (!client) {
        fprintf (stderr, "darkscope report: cannot connect to %s\n", endpoint);
        return 1;
    }
    char err [512];
    rc = ds_report_write (out, ds_client_fetch, client, err, sizeof err);
    if (rc != 0)
        fprintf (stderr, "darkscope report: %s\n", err);
    else
        fprintf (stderr, "darkscope report: wrote %s/index.html\n", out);
    ds_client_destroy (&client);
    return rc ? 1 : 0;
}

//  --------------------------------------------------------------------------

//  --------------------------------------------------------------------------
//  keygen

static int
s_cmd_keygen (int argc, char **argv)
{
    const char *dir = ".";
    ds_strlist_t words = { 0 };
    const ds_opt_t opts [] = {
        { "dir", DS_OPT_STRING, &dir, "D", "directory to write NAME.cert and NAME.cert_secret in (made if missing; default .)" },
        { 0 }
    };
    const char *usage =
        "Usage: darkscope keygen NAME [--dir D]\n"
        "\n"
        "Writes a CurveZMQ certificate pair (czmq zcert): D/NAME.cert, the public\n"
        "key to hand to peers (their --trust directory, or ENDPOINT@NAME.cert when\n"
        "they connect to this one), and D/NAME.cert_secret (mode 0600), for this\n"
        "one's own --cert.\n"
        "\n"
        "Example:\n"
        "  darkscope keygen labeler --dir /etc/darkscope/certs\n";
    int rc = ds_opts_parse (argc, argv, 2, "keygen", opts, usage, &words);
    if (rc)
        return rc > 0 ? 0 : 2;
    if (words.count != 1) {
        fprintf (stderr, "darkscope keygen: give one NAME (see --help)\n");
        return 2;
    }
    char err [512];
    if (ds_curve_keygen (dir, words.items [0], err, sizeof err)) {
        fprintf (stderr, "darkscope keygen: %s\n", err);
        return 1;
    }
    fprintf (stderr, "darkscope keygen: wrote %s/%s.cert and %s/%s.cert_secret\n",
             dir, words.items [0], dir, words.items [0]);
    return 0;
}

typedef struct {
    const char *name;
    int (*handler) (int argc, char **argv);
} s_command_t;

static const s_command_t s_commands [] = {
    { "run",    s_cmd_run },
    { "gen",    s_cmd_gen },
    { "query",  s_cmd_query },
    { "report", s_cmd_report },
    { "keygen", s_cmd_keygen },
    { NULL, NULL }
};

int
main (int argc, char **argv)
{
    ds_log_init ("darkscope");
    if (argc < 2 || strcmp (argv [1], "--help") == 0 || strcmp (argv [1], "-h") == 0
    ||  strcmp (argv [1], "help") == 0) {
        printf ("%s", s_main_usage);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp (argv [1], "--version") == 0) {
        printf ("darkscope 0.1.0\n");
        return 0;
    }
    for (const s_command_t *c = s_commands; c->name; c++)
        if (strcmp (argv [1], c->name) == 0) {
            int rc = c->handler (argc, argv);
            ds_curve_shutdown ();
            return rc;
        }
    fprintf (stderr, "darkscope: unknown command '%s' (see darkscope --help)\n", argv [1]);
    return 2;
}
