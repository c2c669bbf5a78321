/*  darkscope-query - the query front door (thin main: options and the
    service skeleton, service.h, over the query actor). */
#include "ds_proto.h"
#include "query.h"
#include "dashboard.h"
#include "opts.h"
#include "service.h"
#include <stdio.h>

static const char *s_usage =
"NAME\n"
"    darkscope-query - answer darknet overview queries by merging all aggregator shards\n"
"\n"
"SYNOPSIS\n"
"    darkscope-query [--endpoint ENDPOINT] [--shards N | --shard-endpoint ENDPOINT...]\n"
"                    [--labeler ENDPOINT] [--timeout-ms MS]\n"
"                    [--http ADDR:PORT [--web-dir DIR]] [--log-format text|json] [--quiet]\n"
"\n"
"DESCRIPTION\n"
"    The front door of darkscope. Clients (darkscope query/report, or any ZeroMQ REQ\n"
"    client with msgpack) send {\"v\":1,\"q\":NAME,\"args\":{...}} and get\n"
"    {\"v\":1,\"ok\":true,\"result\":...} or {\"v\":1,\"ok\":false,\"error\":\"...\"}.\n"
"    For each request the service asks every darkscope-aggregator shard for its part and\n"
"    merges them exactly (shards partition sources, so sums and disjoint unions are exact):\n"
"    the same input through 1, 2 or 4 shards gives byte-identical results.\n"
"\n"
"    A shard that does not answer within --timeout-ms makes the reply an error naming that\n"
"    shard's endpoint, never a silently partial answer, and is marked down: later requests\n"
"    fail at once, naming it, until it answers a probe (sent every second). Bad requests\n"
"    get an error reply; so do requests above 1 MiB and answers above 16 MiB (narrow the\n"
"    query: fewer days, a class, a wider bin).\n"
"\n"
"QUERIES (args in parentheses, all optional)\n"
"    overview  (first_day, last_day, min_packets)  the DarkVec overview object\n"
"    ports     (first_day, last_day)                {\"port_ranking\": [...]}\n"
"    ecdf      (first_day, last_day)                {\"sender_ecdf\": [...]}\n"
"    daily     (first_day, last_day, min_packets)   {\"daily\": [...]}\n"
"    classes   (first_day, last_day, min_packets)   {\"classes\": [...]}\n"
"    heatmap   (first_day, last_day, min_packets)   {\"heatmap\": {...}}\n"
"    pattern   (first_day, last_day, class, from_us, to_us, bin_s, width, height, limit, offset):\n"
"              an exact width x height raster and a page of sample points, computed by the\n"
"              shards in rounds of bounded messages (proto/PROTOCOL.md); bin_s, from_us and\n"
"              to_us must be multiples of 60 s (default bin 60 s)\n"
"    lookup    (ip)      forwarded to the labeler's control endpoint\n"
"    knn (ip, k), classify (k), embedding, projection\n"
"              forwarded to the embed service (darkscope-embed, --embed-endpoint)\n"
"    status    every shard's status (streams, gaps, EOS) and which shards saw all EOS\n"
"    Days are YYYY-MM-DD in the aggregators' time zone; the default window is every day\n"
"    seen; min_packets defaults to 10.\n"
"\n"
"HTTP\n"
"    With --http ADDR:PORT: /metrics (Prometheus text), /healthz, /readyz (ready when every\n"
"    shard answers), and the live dashboard: / draws the overview's tables and figures\n"
"    (Apache ECharts, served from --web-dir, no CDN), refreshing while data arrive;\n"
"    /api/QUERY?ARG=VALUE... asks this service's front door and answers JSON.\n"
"\n"
"ENVIRONMENT\n"
"    Every option is also read from an environment variable (its name is in brackets\n"
"    below): DARKSCOPE_<OPTION> for a setting every program shares (DARKSCOPE_SHARDS),\n"
"    DARKSCOPE_QUERY_<OPTION> for one of this service alone\n"
"    (DARKSCOPE_QUERY_SHARD_ENDPOINT=tcp://agg0:5560,tcp://agg1:5561,\n"
"    DARKSCOPE_QUERY_TIMEOUT_MS=2000). With shard endpoints, --shards (or DARKSCOPE_SHARDS)\n"
"    must count them. A flag wins over the variable. --list-env prints them all.\n"
"\n"
"EXAMPLES\n"
"    darkscope-query --shards 4                  # shards at tcp://127.0.0.1:5560..5563\n"
"    darkscope-query --shard-endpoint tcp://10.0.0.7:5560@agg0.cert,tcp://10.0.0.8:5560@agg1.cert \\\n"
"                    --labeler tcp://10.0.0.6:5552@labeler.cert --endpoint tcp://0.0.0.0:5570 \\\n"
"                    --cert query.cert --trust clients/   # CURVE: each endpoint with its server's cert\n"
"    darkscope query overview --json             # ask it\n"
"\n"
"EXIT STATUS\n"
"    0 after SIGINT/SIGTERM, 1 if it could not start (busy port, bad endpoint), 2 bad usage.\n";

static ds_query_config_t s_config;
static int64_t s_shards = 0, s_timeout = DS_QUERY_TIMEOUT_DEFAULT;
static bool s_quiet;
static const char *s_web_dir;       //  --web-dir (NULL: the installed files)
static ds_dashboard_t *s_dashboard; //  with --http: the dashboard's routes

static int
s_configure (void *config)
{
    ds_query_config_t *cfg = (ds_query_config_t *) config;
    //  DARKSCOPE_SHARDS is shared by every service: with shard endpoints
    //  it must count them.
    if (s_shards && cfg->shard_endpoints.count && (size_t) s_shards != cfg->shard_endpoints.count) {
        fprintf (stderr, "error: --shards %lld but %zu --shard-endpoint\n", (long long) s_shards,
                 cfg->shard_endpoints.count);
        return -1;
    }
    if (s_shards < 0 || s_shards > DS_SHARDS_MAX || s_timeout < 1 || s_timeout > 3600000) {
        fprintf (stderr, "error: --shards must be 1..%d and --timeout-ms 1..3600000\n", DS_SHARDS_MAX);
        return -1;
    }
    static char storage [DS_SHARDS_MAX][64];
    if (!cfg->shard_endpoints.count)
        ds_query_default_shards (cfg, s_shards ? (uint32_t) s_shards : 1, storage);
    cfg->timeout_ms = (int) s_timeout;
    return 0;
}

static int
s_started (zactor_t *actor)
{
    char endpoint [256];
    if (ds_query_endpoint (actor, endpoint, sizeof endpoint) != 0)
        return -1;
    ds_dashboard_set_endpoint (s_dashboard, endpoint);
    return 0;
}

//  --http: the live dashboard (/ and /api/QUERY) next to /metrics.
static int
s_http_routes (ds_http_t *http)
{
    s_dashboard = ds_dashboard_new (http, s_web_dir);
    return s_dashboard ? 0 : -1;
}

static void
s_http_done (void)
{
    ds_dashboard_destroy (&s_dashboard);
}

int
main (int argc, char **argv)
{
    ds_query_config_init (&s_config);
    ds_query_config_t *config = &s_config;
    const ds_opt_t opts [] = {
        { "endpoint", DS_OPT_STRING, &config->endpoint, "ENDPOINT",
          "front door REP (default " DS_QUERY_ENDPOINT_DEFAULT ")" },
        { "shard-endpoint", DS_OPT_LIST, &config->shard_endpoints, "ENDPOINT",
          "an aggregator shard's REP, in shard order (repeatable)" },
        { "shards", DS_OPT_INT, &s_shards, "N",
          "N shards, 1.." DS_SHARDS_MAX_TEXT ", at their default endpoints tcp://127.0.0.1:5560+K (default 1)" },
        { "labeler", DS_OPT_STRING, &config->labeler, "ENDPOINT",
          "labeler control REP for lookup (default " DS_QUERY_LABELER_DEFAULT ")" },
        { "embed-endpoint", DS_OPT_STRING, &config->embed, "ENDPOINT",
          "embed service REP for knn, classify, embedding, projection (default " DS_QUERY_EMBED_DEFAULT ")" },
        { "timeout-ms", DS_OPT_INT, &s_timeout, "MS", "how long to wait for every shard (default 5000)" },
        { "web-dir", DS_OPT_STRING, &s_web_dir, "DIR",
          "with --http: the dashboard's files (default BIN/../share/darkscope/web, installed with the binaries)" },
        { "quiet", DS_OPT_BOOL, &s_quiet, NULL, "only warnings and errors on stderr" },
        { NULL, DS_OPT_STRING, NULL, NULL, NULL }
    };
    ds_service_t service = {
        .name = "query", .usage = s_usage, .opts = opts, .quiet = &s_quiet,
        .configure = s_configure, .actor = ds_query_actor, .config = &s_config, .metrics = &s_config.metrics,
        .started = s_started, .http_routes = s_http_routes, .http_done = s_http_done
    };
    return ds_service_main (argc, argv, &service);
}
