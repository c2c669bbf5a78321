/*  run.c - `darkscope run`: the services composed in one process.

    ingest + labelling ──inproc://ds-lab──▶ aggregator × N
          ▲ (tables)                             ▲
    labeler (control) ◀── query ─────────────────┘
                           ▲
    client (overview, report) ──inproc://ds-query

    Each service is the same czmq actor the standalone executables run,
    but for one shortcut: ingest labels its batches itself with the
    labeler's tables (tables.h) and publishes them where the labeler
    would, so a batch crosses one socket, not two, and is encoded and
    decoded once; the labeler keeps its control socket (lookup, reload,
    status) and lends its tables.  The
    run ends when ingest has read everything and every shard has reported
    the end of stream of its (one) sensor; then the overview is fetched
    through the query service like any client would.
*/
#include "run.h"
#include "client.h"
#include "gen.h"
#include "report.h"
#include "report_embed.h"
#include "afile.h"
#include "json.h"
#include "log.h"
#include "signals.h"
#include "tz.h"
#include "ingest.h"
#include "labeler.h"
#include "aggregator.h"
#include "query.h"
#include "embed.h"
#include "http.h"
#include "dashboard.h"
#include "transport.h"
#include "actor.h"
#include "alloc.h"
#include "curve.h"
#include "ds_proto.h"
#include "mpread.h"
#include <czmq.h>
#include <limits.h>
#include <sys/stat.h>

#define EP_LAB      "inproc://ds-lab"
#define EP_LABCTL   "inproc://ds-labctl"
#define EP_QUERY    "inproc://ds-query"
#define EP_EMBED    "inproc://ds-embed"

//  The default synthetic month, generated once per (seed, size) into the
//  cache directory and reused after.
static int
s_default_month (const ds_run_config_t *cfg, char *pcap, char *gt, size_t size)
{
    const char *base = getenv ("XDG_CACHE_HOME");
    char dir [512];
    if (base && *base)
        snprintf (dir, sizeof dir, "%s/darkscope", base);
    else
        snprintf (dir, sizeof dir, "%s/.cache/darkscope", getenv ("HOME") ? getenv ("HOME") : "/tmp");
    if (zsys_dir_create ("%s", dir) != 0) {
        ds_log_error ("cannot create cache directory %s: %s", dir, strerror (errno));
        return -1;
    }
    snprintf (pcap, size, "%s/month-s%lld-p%lld.pcap", dir, (long long) cfg->seed,
              (long long) cfg->gen_packets);
    snprintf (gt, size, "%s/month-s%lld-p%lld-gt.csv", dir, (long long) cfg->seed,
              (long long) cfg->gen_packets);
    struct stat st;
    if (stat (pcap, &st) == 0 && stat (gt, &st) == 0) {
        ds_log_info ("using the synthetic month %s", pcap);
        return 0;
    }
    ds_log_info ("no input given: generating the synthetic month (%lld packets, seed %lld) into %s",
                 (long long) cfg->gen_packets, (long long) cfg->seed, pcap);
    //  Written under temporary names and renamed, so an interrupted
    //  generation is never mistaken for a finished one.
    char tmp_pcap [700], tmp_gt [700];
    snprintf (tmp_pcap, sizeof tmp_pcap, "%s.tmp", pcap);
    snprintf (tmp_gt, sizeof tmp_gt, "%s.tmp", gt);
    ds_gen_config_t gen;
    ds_gen_config_defaults (&gen);
    gen.out_path = tmp_pcap;
    gen.gt_path = tmp_gt;
    gen.packets = (uint64_t) cfg->gen_packets;
    gen.seed = (uint64_t) cfg->seed;
    gen.quiet = cfg->quiet;
    ds_gen_summary_t summary;
    if (ds_gen_run (&gen, &summary) != 0)
        return -1;
    if (rename (tmp_pcap, pcap) != 0 || rename (tmp_gt, gt) != 0) {
        ds_log_error ("cannot rename %s: %s", tmp_pcap, strerror (errno));
        return -1;
    }
    return 0;
}

//  Waits for a string on an actor's pipe; returns it (caller frees) or NULL
//  if interrupted.
static char *
s_wait_string (zpoller_t *poller, zactor_t **actors, size_t n, size_t *which)
{
    while (!ds_signals_stop ()) {
        void *ready = zpoller_wait (poller, 200);
        if (!ready)
            continue;
        for (size_t i = 0; i < n; i++)
            if (actors [i] && ready == zactor_sock (actors [i])) {
                *which = i;
                return zstr_recv (ready);
            }
    }
    return NULL;
}

//  The overview as the run holds it: the reply's msgpack bytes, and with
//  an embedding those bytes unpacked and the embedding's section added.
typedef struct {
    zmsg_t *reply;                  //  holds the bytes
    const uint8_t *bytes;           //  the overview map, validated
    size_t size;
    msgpack_zone zone;
    msgpack_object object;          //  with --embed only
    bool unpacked;
} s_overview_t;

//  Writes the overview as JSON to out: straight from its bytes (a 5 M
//  overview unpacks into ~8 MB of msgpack objects: most of the time its
//  output took), or from the object that has the embedding attached.
static int
s_json_out (FILE *out, const s_overview_t *ov)
{
    return ov->unpacked ? ds_json_write (out, &ov->object) : ds_json_write_mp (out, ov->bytes, ov->size);
}

//  Writes the overview to path ('-': stdout); a file appears whole, under
//  its name only once written (afile.h), so a watcher never reads half.
static int
s_write_json (const char *path, const s_overview_t *ov)
{
    if (strcmp (path, "-") == 0) {
        int rc = s_json_out (stdout, ov);
        fputc ('\n', stdout);
        if (fflush (stdout) != 0 || rc)
            ds_log_error ("cannot write the overview to stdout: %s", strerror (errno));
        return rc;
    }
    ds_afile_t *file = ds_afile_new (path);
    if (!file) {
        ds_log_error ("cannot write %s: %s", path, strerror (errno));
        return -1;
    }
    int rc = s_json_out (ds_afile_stream (file), ov);
    fputc ('\n', ds_afile_stream (file));
    rc = ds_afile_finish (&file, rc);
    if (rc)
        ds_log_error ("cannot write %s: %s", path, strerror (errno ? errno : EIO));
    return rc;
}

//  The unsigned integer at path (keys, NULL-terminated) in the map of
//  size bytes at data into *value; false (*value untouched) if there is
//  none.
static bool
s_uint_at (const uint8_t *data, size_t size, const char *const *path, uint64_t *value)
{
    for (; *path; path++)
        if (!ds_client_mp_get (data, size, *path, &data, &size))
            return false;
    ds_mpread_t r;
    ds_mpread_init (&r, data, size);
    return ds_mpread_uint (&r, value) == 0;
}

static void
s_summary (const s_overview_t *ov, double seconds)
{
    uint64_t read = 0, non_ip = 0, malformed = 0, bad_time = 0, dropped = 0, gaps = 0, sources = 0;
    uint64_t packets = 0;
    const struct { const char *path [4]; uint64_t *into; } fields [] = {
        { { "ingest", "packets_read" }, &read }, { { "ingest", "non_ip" }, &non_ip },
        { { "ingest", "malformed" }, &malformed }, { { "ingest", "bad_time" }, &bad_time },
        { { "ingest", "dropped" }, &dropped }, { { "ingest", "gaps" }, &gaps },
        { { "dataset", "window", "sources" }, &sources }, { { "dataset", "window", "packets" }, &packets },
    };
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++)
        s_uint_at (ov->bytes, ov->size, fields [i].path, fields [i].into);
    char line [512];
    snprintf (line, sizeof line, "%llu packets read in %.2f s (%.2f M packets/s); "
              "window: %llu packets from %llu sources; skipped: %llu non-IP, %llu malformed, "
              "%llu impossible timestamps; dropped %llu; gaps %llu",
             (unsigned long long) read, seconds, seconds > 0 ? (double) read / seconds / 1e6 : 0.0,
             (unsigned long long) packets, (unsigned long long) sources,
             (unsigned long long) non_ip, (unsigned long long) malformed, (unsigned long long) bad_time,
             (unsigned long long) dropped, (unsigned long long) gaps);
    if (ds_log_json ())
        ds_log_info ("%s", line);
    else
        fprintf (stderr, "darkscope run: %s\n", line);
}

//  Starts the embed service on the labelled stream (before the labeler
//  publishes).  Returns the actor, or NULL after logging why.
static zactor_t *
s_embed_start (const ds_run_config_t *cfg, const ds_tz_t *tz, ds_embed_config_t *ec, uint32_t shards)
{
    ds_embed_config_init (ec);
    ec->inputs.items [0] = EP_LAB;
    ec->inputs.count = 1;
    ec->endpoint = EP_EMBED;
    ec->shards = shards;
    ec->tz = tz;
    ec->model_out = cfg->model_out;
    ec->corpus_out = cfg->corpus_out;
    ec->classes_out = cfg->classes_out;
    if (cfg->embed_threads > 0)
        ec->w2v.threads = (int) cfg->embed_threads;
    if (cfg->embed_epochs > 0)
        ec->w2v.epochs = (int) cfg->embed_epochs;
    char bound [256];
    zactor_t *actor = ds_actor_new (ds_embed_actor, ec);
    if (!actor || ds_embed_endpoint (actor, bound, sizeof bound) != 0) {
        ds_log_error ("embed service did not start");
        zactor_destroy (&actor);
    }
    return actor;
}

//  Waits for the embed service's model; 0 when trained.
static int
s_embed_wait (zactor_t *embed)
{
    zpoller_t *poller = zpoller_new (zactor_sock (embed), NULL);
    size_t which;
    zactor_t *actors [1] = { embed };
    char *msg = s_wait_string (poller, actors, 1, &which);
    zpoller_destroy (&poller);
    int rc = msg && streq (msg, "TRAINED") ? 0 : -1;
    if (rc)
        ds_log_error ("the embedding did not complete (%s)", msg ? "training failed" : "interrupted");
    free (msg);
    return rc;
}

//  A run's services and their configs (the configs live as long as the
//  actors that read them).  On the heap: DS_SHARDS_MAX shards' worth.
typedef struct {
    const ds_run_config_t *cfg;
    const ds_tz_t *tz;
    uint32_t shards;
    ds_strlist_t pcaps, gt;         //  the inputs: given, or the default month
    char month_pcap [600], month_gt [600];
    zactor_t *aggs [DS_SHARDS_MAX];
    bool agg_eos [DS_SHARDS_MAX];   //  shard restored complete: its EOS event came at start
    char agg_ep [DS_SHARDS_MAX][64], ckpt [DS_SHARDS_MAX][600];
    zactor_t *query, *labeler, *ingest, *embed;
    ds_embed_config_t embed_cfg;
    ds_query_config_t query_cfg;
    ds_labeler_config_t lab_cfg;
    ds_ingest_config_t ing_cfg;
    ds_http_t *http;                //  --http, or NULL
    ds_dashboard_t *dashboard;      //  with --serve: the dashboard on it
    ds_metrics_t *metrics;          //  its registry, handed to every service
    ds_tables_t *tables;            //  the labeler's, lent to ingest
    bool stopping;                  //  s_stop_begin done
    bool shards_told;               //  the shards were sent $TERM (s_shards_stop)
    bool reported;                  //  the report was written
} s_run_t;

//  Checks the options that need no service; 0, or 2 after saying why.
static int
s_check (const ds_run_config_t *cfg)
{
    if (cfg->shards < 1 || cfg->shards > DS_SHARDS_MAX) {
        fprintf (stderr, "darkscope run: --shards must be 1..%d\n", DS_SHARDS_MAX);
        return 2;
    }
    if (cfg->serve && !cfg->endpoint && !cfg->http) {
        fprintf (stderr, "darkscope run: --serve needs --endpoint or --http\n");
        return 2;
    }
    int32_t day;
    const char *const days [2][2] = { { "--first-day", cfg->first_day }, { "--last-day", cfg->last_day } };
    for (int i = 0; i < 2; i++)
        if (days [i][1] && ds_day_parse (days [i][1], &day) != 0) {
            fprintf (stderr, "darkscope run: %s '%s' is not a day (YYYY-MM-DD)\n", days [i][0], days [i][1]);
            return 2;
        }
    return 0;
}

//  The inputs: the given ones, or the default synthetic month and its GT.
static int
s_inputs (s_run_t *r)
{
    const ds_run_config_t *cfg = r->cfg;
    r->pcaps = cfg->pcaps;
    r->gt = cfg->gt;
    if (r->pcaps.count == 0 && cfg->logs.count == 0 && !cfg->iface) {
        if (s_default_month (cfg, r->month_pcap, r->month_gt, sizeof r->month_pcap) != 0)
            return -1;
        r->pcaps.items [r->pcaps.count++] = r->month_pcap;
        if (r->gt.count < DS_STRLIST_MAX)
            r->gt.items [r->gt.count++] = r->month_gt;
    }
    return 0;
}

static bool s_one_shot (const ds_run_config_t *cfg);

//  The labeler's config, with the tables it lends to ingest.  0, or -1
//  after logging why.
static int
s_labeler_config (s_run_t *r)
{
    const ds_run_config_t *cfg = r->cfg;
    ds_labeler_config_t *lab = &r->lab_cfg;
    ds_labeler_config_init (lab);
    lab->gt = r->gt;
    lab->gt_lists = cfg->gt_lists;
    lab->aliases = cfg->aliases;
    lab->services = cfg->services;
    lab->control = EP_LABCTL;
    lab->tables = r->tables = ds_tables_new ();
    if (!r->tables) {
        ds_log_error ("out of memory");
        return -1;
    }
    lab->shards = r->shards;
    lab->metrics = r->metrics;
    return 0;
}

//  The aggregator shards and the labeler, downstream of ingest (which
//  starts last, so every subscriber is there before data flows).  They
//  start at once (ds_actor_new_all: each shard allocates its store, the
//  labeler loads its tables, ~1.5 ms apiece, on a core each) and are then
//  asked in turn whether they are up.  A one-shot run's shards keep no
//  activity patterns when no client can ask during the run either (no
//  --endpoint): only the overview will be asked.
static int
s_start_shards_labeler (s_run_t *r)
{
    const ds_run_config_t *cfg = r->cfg;
    //  The actors copy their configs as they start.
    ds_aggregator_config_t *agg = calloc (r->shards, sizeof *agg);
    if (!agg || s_labeler_config (r) != 0) {
        if (!agg)
            ds_log_error ("out of memory");
        free (agg);
        return -1;
    }
    zactor_fn *fns [DS_SHARDS_MAX + 1];
    void *args [DS_SHARDS_MAX + 1];
    zactor_t *actors [DS_SHARDS_MAX + 1];
    for (uint32_t k = 0; k < r->shards; k++) {
        snprintf (r->agg_ep [k], sizeof r->agg_ep [k], "inproc://ds-agg-%u", k);
        ds_aggregator_config_init (&agg [k]);
        agg [k].shard = k;
        agg [k].shards = r->shards;
        agg [k].inputs.items [0] = EP_LAB;
        agg [k].inputs.count = 1;
        agg [k].endpoint = r->agg_ep [k];
        agg [k].sensors = 1;
        agg [k].tz = r->tz;
        agg [k].retain_days = (uint32_t) cfg->retain_days;
        agg [k].no_patterns = s_one_shot (cfg) && !cfg->endpoint;
        agg [k].checkpoint_interval_ms = cfg->checkpoint_interval * 1000;
        agg [k].metrics = r->metrics;
        if (cfg->checkpoint_dir) {
            zsys_dir_create ("%s", cfg->checkpoint_dir);
            snprintf (r->ckpt [k], sizeof r->ckpt [k], "%s/shard-%u.ckpt", cfg->checkpoint_dir, k);
            agg [k].checkpoint = r->ckpt [k];
        }
        fns [k] = ds_aggregator_actor;
        args [k] = &agg [k];
    }
    fns [r->shards] = ds_labeler_actor;
    args [r->shards] = &r->lab_cfg;
    ds_actor_new_all (r->shards + 1, fns, args, actors);
    free (agg);
    memcpy (r->aggs, actors, r->shards * sizeof *actors);
    r->labeler = actors [r->shards];
    //  An actor is there even when it failed to start: ask it.
    for (uint32_t k = 0; k < r->shards; k++) {
        char bound [256];
        bool early_eos = false;
        if (!r->aggs [k] || ds_aggregator_endpoint (r->aggs [k], bound, sizeof bound, &early_eos) != 0) {
            ds_log_error ("aggregator shard %u did not start", k);
            return -1;
        }
        r->agg_eos [k] = early_eos;
    }
    char data_ep [256], control_ep [256];
    if (!r->labeler || ds_labeler_endpoints (r->labeler, data_ep, sizeof data_ep,
                                             control_ep, sizeof control_ep) != 0) {
        ds_log_error ("labeler did not start (see above)");
        return -1;
    }
    return 0;
}

//  True when the run asks for nothing after the overview (no report, no
//  serving, no HTTP server to answer) and writes no final checkpoint.
static bool
s_one_shot (const ds_run_config_t *cfg)
{
    return !cfg->report && !cfg->serve && !cfg->http && !cfg->checkpoint_dir;
}

//  Tells every shard to end, so they free their stores at once, one core
//  each.  Once.  Also the query service's on_merged of a one-shot run: the
//  overview has had its last round with the shards, which free their
//  stores while it is packed and written.  (Called from the query
//  service's thread then: this thread is waiting for that answer's reply,
//  whose sending orders the two, and touches the shards' pipes after it.)
static void
s_shards_stop (void *arg)
{
    s_run_t *r = arg;
    if (r->shards_told)
        return;
    r->shards_told = true;
    for (uint32_t k = 0; k < r->shards; k++)
        if (r->aggs [k])
            zstr_send (r->aggs [k], "$TERM");
}

//  The query service over the shards (and the embed service, if any).
static int
s_start_query (s_run_t *r)
{
    ds_query_config_t *q = &r->query_cfg;
    ds_query_config_init (q);
    q->embed = r->embed ? EP_EMBED : NULL;
    q->endpoint = r->cfg->endpoint ? r->cfg->endpoint : EP_QUERY;
    for (uint32_t k = 0; k < r->shards; k++)
        q->shard_endpoints.items [k] = r->agg_ep [k];
    q->shard_endpoints.count = r->shards;
    q->labeler = EP_LABCTL;
    q->metrics = r->metrics;
    if (s_one_shot (r->cfg)) {
        q->on_merged = s_shards_stop;
        q->on_merged_arg = r;
    }
    //  The shards are threads of this process: slow on a loaded machine
    //  (a day sealed, a fork), never gone.  Marked down after 5 s, a busy
    //  shard failed the year-long soak's final overview; wait up to just
    //  under the client's minute instead.
    q->timeout_ms = 55000;
    char bound [256];
    r->query = ds_actor_new (ds_query_actor, q);
    if (!r->query || ds_query_endpoint (r->query, bound, sizeof bound) != 0) {
        ds_log_error ("query service did not start");
        return -1;
    }
    ds_dashboard_set_endpoint (r->dashboard, q->endpoint);
    return 0;
}

//  Ingest (the labeler's tables lent): data flows from here on.
static int
s_start_pipeline (s_run_t *r)
{
    const ds_run_config_t *cfg = r->cfg;
    ds_ingest_config_t *ing = &r->ing_cfg;
    ds_ingest_config_init (ing);
    ing->pcaps = r->pcaps.items;
    ing->n_pcaps = r->pcaps.count;
    ing->logs = cfg->logs.items;
    ing->n_logs = cfg->logs.count;
    ing->iface = cfg->iface;
    ing->bpf = cfg->bpf;
    ing->shards = r->shards;
    ing->sensor = 0;
    ing->stats_interval_ms = (int) (cfg->stats_interval * 1000);
    ing->endpoint = EP_LAB;
    ing->label = ds_tables_label;
    ing->label_arg = r->tables;
    ing->progress = !cfg->quiet;
    ing->metrics = r->metrics;
    r->ingest = ds_actor_new (ds_ingest_actor, ing);
    if (!r->ingest) {
        ds_log_error ("ingest did not start (see above)");
        return -1;
    }
    return 0;
}

//  Waits for ingest to finish and every shard to see its end of stream.
//  Ctrl-C ends the input: ingest still sends what it read and the EOS.  A
//  live capture then completes the run; files not read to their end make
//  ingest report FAILED, and the run says it is incomplete.  0 when done.
static int
s_wait_end (s_run_t *r)
{
    //  A shard restored from a complete checkpoint told its EOS at start
    //  (a replay of the same files adds nothing and sends no new one).
    zpoller_t *poller = zpoller_new (zactor_sock (r->ingest), NULL);
    zactor_t *watch [DS_SHARDS_MAX + 1];
    watch [0] = r->ingest;
    size_t pending = 1;
    for (uint32_t k = 0; k < r->shards; k++) {
        watch [k + 1] = r->agg_eos [k] ? NULL : r->aggs [k];
        if (watch [k + 1]) {
            zpoller_add (poller, zactor_sock (r->aggs [k]));
            pending++;
        }
    }
    bool failed = false, stop_sent = false;
    while (pending > 0) {
        size_t which = 0;
        char *msg = s_wait_string (poller, watch, r->shards + 1, &which);
        if (!msg) {
            if (ds_signals_stop () && !stop_sent && watch [0]) {
                ds_signals_clear_stop ();    //  first: a second Ctrl-C is never lost
                ds_log_info ("interrupted: ending the input, finishing the run");
                zstr_send (r->ingest, "STOP");
                stop_sent = true;
                continue;
            }
            break;
        }
        if (which == 0 && strcmp (msg, "FAILED") == 0)
            failed = true;
        zpoller_remove (poller, zactor_sock (watch [which]));
        watch [which] = NULL;
        pending--;
        free (msg);
        if (failed)
            break;
    }
    zpoller_destroy (&poller);
    if (failed || pending > 0) {
        ds_log_error ("the run did not complete (%s)", failed ? "ingest failed" : "interrupted");
        return -1;
    }
    return 0;
}

//  The overview (and the embedding's section) into ov; *empty when its
//  window has no day.  0, or -1 after logging why.
static int
s_overview (s_run_t *r, ds_client_t *client, s_overview_t *ov, bool *empty)
{
    const ds_run_config_t *cfg = r->cfg;
    ds_query_t q;
    ds_query_init (&q);
    snprintf (q.name, sizeof q.name, "overview");
    if (cfg->first_day)
        snprintf (q.first_day, sizeof q.first_day, "%s", cfg->first_day);
    if (cfg->last_day)
        snprintf (q.last_day, sizeof q.last_day, "%s", cfg->last_day);
    q.min_packets = cfg->min_packets;
    char err [512];
    if (ds_client_request_raw (client, &q, &ov->reply, &ov->bytes, &ov->size, err, sizeof err) != 0) {
        ds_log_error ("overview query failed: %s", err);
        return -1;
    }
    //  The embedding's section goes into the overview's map: unpacked (the
    //  bytes were validated with the reply, and outlive the object).
    if (r->embed) {
        if (ds_mp_unpack (ov->bytes, ov->size, &ov->zone, &ov->object) != DS_OK
        ||  ov->object.type != MSGPACK_OBJECT_MAP) {
            ds_log_error ("overview query failed: the result is not a map");
            return -1;
        }
        ov->unpacked = true;
        if (ds_rembed_attach (ds_client_fetch, client, &ov->zone, &ov->object, err, sizeof err) != 0) {
            ds_log_error ("embedding query failed: %s", err);
            return -1;
        }
    }
    uint64_t days = 1;
    *empty = s_uint_at (ov->bytes, ov->size, (const char *const []) { "window", "days", NULL }, &days)
          && days == 0;
    if (*empty)
        ds_log_warn ("no record to aggregate (empty input, nothing but non-IP, malformed "
                     "or impossible timestamps): the overview is of an empty window");
    return 0;
}

//  Tells ingest, the labeler, the embed and query services to end without
//  waiting: s_stop_begin's zactor_destroy finds each ended or ending.
static void
s_services_tell_stop (s_run_t *r)
{
    zactor_t *services [] = { r->ingest, r->labeler, r->embed, r->query };
    for (size_t i = 0; i < sizeof services / sizeof *services; i++)
        if (services [i])
            zstr_send (services [i], "$TERM");
}

//  Stops every service but the shards, upstream first, writes the
//  shards' final checkpoints (if one fails, the run fails: DESIGN §12) and
//  tells every shard to end, so they free their stores at once, one core
//  each.  Once only.  Returns rc, or 1.
static int
s_stop_begin (s_run_t *r, int rc)
{
    if (r->stopping)
        return rc;
    r->stopping = true;
    zactor_destroy (&r->ingest);
    zactor_destroy (&r->labeler);
    zactor_destroy (&r->embed);
    zactor_destroy (&r->query);
    for (uint32_t k = 0; k < r->shards; k++) {
        char err [512];
        if (r->aggs [k] && r->cfg->checkpoint_dir
        &&  ds_aggregator_final (r->aggs [k], err, sizeof err) != 0) {
            ds_log_error_kv (DS_FIELDS (DS_KV ("shard", k), DS_KV ("reason", err)),
                             "shard %u: the final checkpoint failed: %s", k, err);
            rc = 1;
        }
    }
    s_shards_stop (r);
    return rc;
}

//  Stops every service (s_stop_begin, if not done yet) and waits for the
//  shards: zactor_destroy's own $TERM then finds each ended or ending and
//  waits for its signal.  Returns rc, or 1.
static int
s_stop (s_run_t *r, int rc)
{
    rc = s_stop_begin (r, rc);
    for (uint32_t k = 0; k < r->shards; k++)
        zactor_destroy (&r->aggs [k]);
    //  Their threads end just after (czmq closes each pipe after its
    //  signal): waited for, so czmq's exit handler finds no socket open
    //  and does not sleep 200 ms.
    if (!ds_actor_join (2000))
        ds_log_warn ("a service thread did not end within 2 s");
    return rc;
}

//  The results, fetched through the query service like any client: the
//  JSON, the summary line, the report.  Returns the exit status.
static int
s_results (s_run_t *r, double t_ingest)
{
    const ds_run_config_t *cfg = r->cfg;
    char self_ep [1024];                    //  with CURVE on: with our own key
    ds_client_t *client = ds_client_new (ds_curve_self (r->query_cfg.endpoint, self_ep,
                                                        sizeof self_ep), 60000);
    if (!client) {
        ds_log_error ("cannot connect to the query service at %s", r->query_cfg.endpoint);
        return 1;
    }
    s_overview_t overview = { .reply = NULL };
    msgpack_zone_init (&overview.zone, 65536);
    bool empty = false;                 //  the overview of an empty window
    int rc = s_overview (r, client, &overview, &empty) == 0 ? 0 : 1;
    //  Nothing more to ask and no final checkpoint to write first: the
    //  services (the shards told already, s_shards_stop) end while this
    //  thread writes the JSON; s_stop waits for them after it.
    if (rc == 0 && s_one_shot (cfg))
        s_services_tell_stop (r);
    if (rc == 0) {
        if (cfg->json && s_write_json (cfg->json, &overview) != 0)
            rc = 1;
        if (!cfg->quiet)
            s_summary (&overview, t_ingest);
    }
    msgpack_zone_destroy (&overview.zone);
    zmsg_destroy (&overview.reply);
    char err [512];
    if (rc == 0 && cfg->report && empty)
        ds_log_warn ("report not written to %s: there is no day to draw", cfg->report);
    else
    if (rc == 0 && cfg->report) {
        if (ds_report_write (cfg->report, ds_client_fetch, client, err, sizeof err) != 0) {
            ds_log_error ("report: %s", err);
            rc = 1;
        }
        else {
            ds_log_info ("report written to %s/index.html", cfg->report);
            r->reported = true;
        }
    }
    ds_client_destroy (&client);
    return rc;
}

//  The outputs, before any input is read (a month or an embedding takes
//  long; finding then that a file cannot be written loses it): the report
//  directory made (what was created into made, to be removed if no report
//  is written), every output file's directory there and writable.
static int
s_check_outputs (const ds_run_config_t *cfg, char *made, size_t made_size)
{
    char err [512];
    if (cfg->report && ds_report_prepare (cfg->report, made, made_size, err, sizeof err) != 0) {
        fprintf (stderr, "darkscope run: --report: %s\n", err);
        return 1;
    }
    const char *files [][2] = { { "--json", cfg->json }, { "--model-out", cfg->model_out },
                                { "--corpus-out", cfg->corpus_out }, { "--classes-out", cfg->classes_out } };
    for (size_t i = 0; i < sizeof files / sizeof *files; i++)
        if (files [i][1] && strcmp (files [i][1], "-") != 0 && ds_afile_check (files [i][1]) != 0) {
            fprintf (stderr, "darkscope run: cannot write %s %s: %s\n", files [i][0], files [i][1],
                     strerror (errno));
            return 1;
        }
    return 0;
}

//  The services in zone tz, start to stop (see ds_run); *reported when
//  the report was written.
static int
s_run_services (const ds_run_config_t *cfg, const ds_tz_t *tz, bool *reported)
{
    s_run_t *r = calloc (1, sizeof *r);
    if (!r) {
        ds_log_error ("out of memory");
        return 1;
    }
    r->cfg = cfg;
    r->tz = tz;
    r->shards = (uint32_t) cfg->shards;
    if (s_inputs (r) != 0) {
        free (r);
        return 1;
    }
    ds_signals_install ();
    //  The HTTP server before the services, so it sees them start; with
    //  --serve it also has the dashboard (the query service's own).
    if (cfg->http) {
        r->http = ds_http_prepare (cfg->http);
        r->dashboard = r->http && cfg->serve ? ds_dashboard_new (r->http, cfg->web_dir) : NULL;
        if (!r->http || (cfg->serve && !r->dashboard) || ds_http_launch (r->http)) {
            ds_http_destroy (&r->http);
            ds_dashboard_destroy (&r->dashboard);
            free (r);
            return 1;
        }
    }
    r->metrics = ds_http_metrics (r->http);
    int rc = 1;
    int64_t t0 = zclock_usecs ();
    bool with_embed = cfg->embed || cfg->model_out || cfg->corpus_out || cfg->classes_out;
    if (s_start_shards_labeler (r) != 0
    ||  (with_embed && !(r->embed = s_embed_start (cfg, tz, &r->embed_cfg, r->shards)))
    ||  s_start_query (r) != 0
    ||  s_start_pipeline (r) != 0
    ||  s_wait_end (r) != 0)
        goto stop;
    double t_ingest = (double) (zclock_usecs () - t0) / 1e6;
    if (r->embed && s_embed_wait (r->embed) != 0)
        goto stop;
    rc = s_results (r, t_ingest);
    if (rc == 0 && cfg->serve) {
        ds_log_info ("serving queries on %s until Ctrl-C", r->query_cfg.endpoint);
        while (!ds_signals_stop ())
            zclock_sleep (200);
    }
stop:
    rc = s_stop (r, rc);
    ds_tables_destroy (&r->tables);         //  after ingest and the labeler
    ds_http_destroy (&r->http);     //  after the services that write its registry
    ds_dashboard_destroy (&r->dashboard);
    *reported = r->reported;
    free (r);
    return rc;
}

//  The run in zone tz (see ds_run).  Without a report written, the report
//  directory is removed again if the run created it and nothing went in.
static int
s_run (const ds_run_config_t *cfg, const ds_tz_t *tz)
{
    char made [PATH_MAX] = "";
    int rc = s_check (cfg);
    if (rc == 0)
        rc = s_check_outputs (cfg, made, sizeof made);
    bool reported = false;
    if (rc == 0)
        rc = s_run_services (cfg, tz, &reported);
    if (cfg->report && !reported)
        ds_report_unprepare (cfg->report, made);
    return rc;
}

int
ds_run (const ds_run_config_t *cfg)
{
    ds_log_set_quiet (cfg->quiet);
    if (cfg->log_format && ds_log_set_format (cfg->log_format)) {
        fprintf (stderr, "darkscope run: --log-format must be text or json\n");
        return 2;
    }
    ds_malloc_tune ();
    char err [512];
    ds_tz_t *tz = ds_tz_load (cfg->tz, err, sizeof err);
    if (!tz) {
        fprintf (stderr, "darkscope run: %s\n", err);
        return 2;
    }
    int rc = s_run (cfg, tz);
    ds_tz_destroy (&tz);
    return rc;
}
