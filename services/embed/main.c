/*  darkscope-embed - DarkVec's embeddings of senders (thin main: options
    and the service skeleton, service.h, over the embed actor). */
#include "ds_proto.h"
#include "embed.h"
#include "opts.h"
#include "service.h"
#include "tz.h"
#include <stdio.h>
#include <stdlib.h>

static const char *s_usage =
"NAME\n"
"    darkscope-embed - word2vec embeddings of darknet senders and their 7-NN classes\n"
"\n"
"SYNOPSIS\n"
"    darkscope-embed [--input ENDPOINT]... [--endpoint ENDPOINT] [--shards N] [--sensors S]\n"
"                    [--tz TZ] [--vector-size V] [--window C] [--epochs E] [--min-count M]\n"
"                    [--negative N] [--sample S] [--threads T] [--seed S] [--k K]\n"
"                    [--corpus-out FILE] [--model-out FILE] [--classes-out FILE]\n"
"                    [--http ADDR:PORT] [--log-format text|json] [--quiet]\n"
"\n"
"DESCRIPTION\n"
"    DarkVec's embedding (CoNEXT 2021, sections 4-6), in C. Subscribes to the labelled\n"
"    batches of every shard (topics lab.) and builds the corpus: per service class, one\n"
"    sentence per local hour (--tz) holding the source address of every packet in time\n"
"    order. When every stream (N shards x S sensors) has ended, or on the query 'train',\n"
"    it trains skip-gram word2vec with negative sampling (DarkVec: V 50, C 25, min_count\n"
"    10, sample 0, 20 epochs; --threads workers), classifies every sender by the majority\n"
"    class of its K nearest labelled senders (cosine), and evaluates that leave-one-out\n"
"    over the labelled senders (per-class precision, recall, F1; accuracy; macro and\n"
"    weighted F1). Batches arriving after that are counted as late and not used.\n"
"\n"
"    With one thread the model is the same for the same seed and stream, bit for bit.\n"
"    --corpus-out writes the corpus as gensim LineSentence text (one line per service\n"
"    and hour, addresses separated by spaces); --model-out writes the vectors in\n"
"    word2vec text format (gensim's KeyedVectors.load_word2vec_format reads it).\n"
"\n"
"QUERIES\n"
"    The --endpoint REP socket speaks msgpack {\"v\":1,\"q\":NAME,\"args\":{...}}:\n"
"      knn {\"ip\": IP, \"k\": 10}    nearest senders, cosine similarity and class\n"
"      classify {\"k\": K}          predicted class and confidence of each unlabelled sender\n"
"      embedding                  evaluation table, parameters, corpus size, seconds\n"
"      projection                 2-D PCA of the vectors with classes (the report's figure)\n"
"      train                      train now on what has arrived (live capture)\n"
"      status                     state, packets, streams ended, gaps, progress\n"
"    darkscope-query forwards knn, classify, embedding and projection here\n"
"    (its --embed-endpoint); `darkscope query knn IP` asks through it.\n"
"\n"
"ENVIRONMENT\n"
"    Every option is also read from an environment variable (its name is in brackets\n"
"    below): DARKSCOPE_<OPTION> for a setting every program shares (DARKSCOPE_SHARDS=4,\n"
"    DARKSCOPE_MODEL_OUT), DARKSCOPE_EMBED_<OPTION> for one of this service alone\n"
"    (DARKSCOPE_EMBED_INPUT=tcp://labeler:5551, DARKSCOPE_EMBED_THREADS=8). A flag wins\n"
"    over the variable. --list-env prints them all.\n"
"\n"
"EXAMPLES\n"
"    darkscope-embed --shards 2 --model-out vectors.txt     # tcp://127.0.0.1:5580\n"
"    darkscope-embed --shards 4 --tz Europe/Rome --threads 8 --corpus-out corpus.txt\n"
"\n"
"EXIT STATUS\n"
"    0 after SIGINT/SIGTERM, 1 if it could not start (busy port, bad parameters), 2 bad usage.\n";

static ds_embed_config_t s_config;
static int64_t s_shards = 1, s_sensors = 1, s_dim, s_window, s_epochs, s_min_count,
               s_negative, s_threads, s_seed, s_k;
static const char *s_tz = "UTC", *s_sample = "0";
static ds_tz_t *s_zone;              //  loaded by s_configure, freed after the service ends
static bool s_quiet;

static int
s_configure (void *config)
{
    ds_embed_config_t *cfg = (ds_embed_config_t *) config;
    char *end;
    cfg->w2v.sample = strtod (s_sample, &end);
    if (s_shards < 1 || s_shards > DS_SHARDS_MAX || s_sensors < 1 || s_sensors > 65535 || *end
    ||  s_min_count < 1 || s_min_count > UINT32_MAX || s_k < 1 || s_k > 1000 || s_dim < 1 || s_dim > 1024
    ||  s_window < 1 || s_window > 1000 || s_epochs < 1 || s_epochs > 10000 || s_negative < 1
    ||  s_negative > 100 || s_threads < 1 || s_threads > 64 || s_seed < 0) {
        fprintf (stderr, "error: a parameter is out of range (see --help)\n");
        return -1;
    }
    cfg->shards = (uint32_t) s_shards;
    cfg->sensors = (uint32_t) s_sensors;
    cfg->w2v.dim = (int) s_dim;
    cfg->w2v.window = (int) s_window;
    cfg->w2v.epochs = (int) s_epochs;
    cfg->w2v.negative = (int) s_negative;
    cfg->w2v.threads = (int) s_threads;
    cfg->w2v.seed = (uint64_t) s_seed;
    cfg->min_count = (uint32_t) s_min_count;
    cfg->k = (uint32_t) s_k;
    const char *why = ds_w2v_params_check (&cfg->w2v);
    if (why) {
        fprintf (stderr, "error: %s\n", why);
        return -1;
    }
    char err [512];
    s_zone = ds_tz_load (s_tz, err, sizeof err);
    if (!s_zone) {
        fprintf (stderr, "error: %s\n", err);
        return -1;
    }
    cfg->tz = s_zone;
    return 0;
}

static int
s_started (zactor_t *actor)
{
    char endpoint [256];
    return ds_embed_endpoint (actor, endpoint, sizeof endpoint);
}

int
main (int argc, char **argv)
{
    ds_embed_config_init (&s_config);
    ds_embed_config_t *config = &s_config;
    s_dim = config->w2v.dim;
    s_window = config->w2v.window;
    s_epochs = config->w2v.epochs;
    s_min_count = config->min_count;
    s_negative = config->w2v.negative;
    s_threads = config->w2v.threads;
    s_seed = (int64_t) config->w2v.seed;
    s_k = config->k;
    const ds_opt_t opts [] = {
        { "input", DS_OPT_LIST, &config->inputs, "ENDPOINT",
          "labeler XPUB to subscribe to (repeatable; default " DS_EMBED_INPUT_DEFAULT ")" },
        { "endpoint", DS_OPT_STRING, &config->endpoint, "ENDPOINT",
          "REP for queries (default " DS_EMBED_ENDPOINT_DEFAULT ")" },
        { "shards", DS_OPT_INT, &s_shards, "N", "shards of the labelled stream, 1.." DS_SHARDS_MAX_TEXT " (default 1)" },
        { "sensors", DS_OPT_INT, &s_sensors, "S", "sensors whose end of stream to expect (default 1)" },
        { "tz", DS_OPT_STRING, &s_tz, "TZ", "time zone of the hours, a TZ database name (default UTC)" },
        { "vector-size", DS_OPT_INT, &s_dim, "V", "vector size (default 50)" },
        { "window", DS_OPT_INT, &s_window, "C", "context window (default 25)" },
        { "epochs", DS_OPT_INT, &s_epochs, "E", "training epochs (default 20)" },
        { "min-count", DS_OPT_INT, &s_min_count, "M", "embed senders with >= M packets (default 10)" },
        { "negative", DS_OPT_INT, &s_negative, "N", "negative samples (default 5)" },
        { "sample", DS_OPT_STRING, &s_sample, "S", "downsampling threshold (default 0: off, as DarkVec)" },
        { "threads", DS_OPT_INT, &s_threads, "T", "training and classification threads (default 2)" },
        { "seed", DS_OPT_INT, &s_seed, "S", "random seed (default 1)" },
        { "k", DS_OPT_INT, &s_k, "K", "neighbours that vote in classify and the evaluation (default 7)" },
        { "corpus-out", DS_OPT_STRING, &config->corpus_out, "FILE", "write the corpus (gensim LineSentence)" },
        { "model-out", DS_OPT_STRING, &config->model_out, "FILE", "write the vectors (word2vec text format)" },
        { "classes-out", DS_OPT_STRING, &config->classes_out, "FILE",
          "write every sender's class and k-NN class (CSV ip,class,packets,predicted,confidence)" },
        { "quiet", DS_OPT_BOOL, &s_quiet, NULL, "only warnings and errors on stderr" },
        { NULL, DS_OPT_STRING, NULL, NULL, NULL }
    };
    ds_service_t service = {
        .name = "embed", .usage = s_usage, .opts = opts, .quiet = &s_quiet,
        .configure = s_configure, .actor = ds_embed_actor, .config = &s_config,
        .started = s_started
    };
    int rc = ds_service_main (argc, argv, &service);
    ds_tz_destroy (&s_zone);
    return rc;
}
