/*  darkscope-embed - DarkVec's embeddings of senders (thin main: flags,
    start, wait, stop). */
#include "embed.h"
#include "log.h"
#include "signals.h"
#include "transport.h"
#include "opts.h"
#include "tz.h"
#include <stdio.h>
#include <string.h>

static const char *s_usage =
"NAME\n"
"    darkscope-embed - word2vec embeddings of darknet senders and their 7-NN classes\n"
"\n"
"SYNOPSIS\n"
"    darkscope-embed [--input ENDPOINT]... [--endpoint ENDPOINT] [--shards N] [--sensors S]\n"
"                    [--tz TZ] [--vector-size V] [--window C] [--epochs E] [--min-count M]\n"
"                    [--negative N] [--sample S] [--threads T] [--seed S] [--k K]\n"
"                    [--corpus-out FILE] [--model-out FILE] [--classes-out FILE] [--quiet]\n"
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
"    Every option can be set as DARKSCOPE_<OPTION> (upper case, '-' -> '_'), e.g.\n"
"    DARKSCOPE_SHARDS=4, DARKSCOPE_INPUT=tcp://labeler:5551. A flag wins over the variable.\n"
"\n"
"EXAMPLES\n"
"    darkscope-embed --shards 2 --model-out vectors.txt     # tcp://127.0.0.1:5580\n"
"    darkscope-embed --shards 4 --tz Europe/Rome --threads 8 --corpus-out corpus.txt\n"
"\n"
"EXIT STATUS\n"
"    0 after SIGINT/SIGTERM, 1 if it could not start (busy port, bad parameters), 2 bad usage.\n";

int
main (int argc, char **argv)
{
    ds_embed_config_t config;
    ds_embed_config_init (&config);
    int64_t shards = 1, sensors = 1, dim = config.w2v.dim, window = config.w2v.window,
            epochs = config.w2v.epochs, min_count = config.min_count, negative = config.w2v.negative,
            threads = config.w2v.threads, seed = (int64_t) config.w2v.seed, k = config.k;
    const char *tz = "UTC", *sample = "0";
    bool quiet = false;
    const ds_opt_t opts [] = {
        { "input", DS_OPT_LIST, &config.inputs, "ENDPOINT",
          "labeler XPUB to subscribe to (repeatable; default " DS_EMBED_INPUT_DEFAULT ")" },
        { "endpoint", DS_OPT_STRING, &config.endpoint, "ENDPOINT",
          "REP for queries (default " DS_EMBED_ENDPOINT_DEFAULT ")" },
        { "shards", DS_OPT_INT, &shards, "N", "shards of the labelled stream (default 1)" },
        { "sensors", DS_OPT_INT, &sensors, "S", "sensors whose end of stream to expect (default 1)" },
        { "tz", DS_OPT_STRING, &tz, "TZ", "time zone of the hours, a TZ database name (default UTC)" },
        { "vector-size", DS_OPT_INT, &dim, "V", "vector size (default 50)" },
        { "window", DS_OPT_INT, &window, "C", "context window (default 25)" },
        { "epochs", DS_OPT_INT, &epochs, "E", "training epochs (default 20)" },
        { "min-count", DS_OPT_INT, &min_count, "M", "embed senders with >= M packets (default 10)" },
        { "negative", DS_OPT_INT, &negative, "N", "negative samples (default 5)" },
        { "sample", DS_OPT_STRING, &sample, "S", "downsampling threshold (default 0: off, as DarkVec)" },
        { "threads", DS_OPT_INT, &threads, "T", "training and classification threads (default 2)" },
        { "seed", DS_OPT_INT, &seed, "S", "random seed (default 1)" },
        { "k", DS_OPT_INT, &k, "K", "neighbours that vote in classify and the evaluation (default 7)" },
        { "corpus-out", DS_OPT_STRING, &config.corpus_out, "FILE", "write the corpus (gensim LineSentence)" },
        { "model-out", DS_OPT_STRING, &config.model_out, "FILE", "write the vectors (word2vec text format)" },
        { "classes-out", DS_OPT_STRING, &config.classes_out, "FILE",
          "write every sender's class and k-NN class (CSV ip,class,packets,predicted,confidence)" },
        { "quiet", DS_OPT_BOOL, &quiet, NULL, "only warnings and errors on stderr" },
        { NULL, DS_OPT_STRING, NULL, NULL, NULL }
    };
    int rc = ds_opts_parse (argc, argv, 1, opts, s_usage, NULL);
    if (rc)
        return rc > 0 ? 0 : 2;
    char *end;
    config.w2v.sample = strtod (sample, &end);
    if (shards < 1 || shards > 9999 || sensors < 1 || sensors > 65535 || *end
    ||  min_count < 1 || min_count > UINT32_MAX || k < 1 || k > 1000 || dim < 1 || dim > 1024
    ||  window < 1 || window > 1000 || epochs < 1 || epochs > 10000 || negative < 1 || negative > 100
    ||  threads < 1 || threads > 64 || seed < 0) {
        fprintf (stderr, "error: a parameter is out of range (see --help)\n");
        return 2;
    }
    config.shards = (uint32_t) shards;
    config.sensors = (uint32_t) sensors;
    config.w2v.dim = (int) dim;
    config.w2v.window = (int) window;
    config.w2v.epochs = (int) epochs;
    config.w2v.negative = (int) negative;
    config.w2v.threads = (int) threads;
    config.w2v.seed = (uint64_t) seed;
    config.min_count = (uint32_t) min_count;
    config.k = (uint32_t) k;
    const char *why = ds_w2v_params_check (&config.w2v);
    if (why) {
        fprintf (stderr, "error: %s\n", why);
        return 2;
    }
    char err [512];
    ds_tz_t *zone = ds_tz_load (tz, err, sizeof err);
    if (!zone) {
        fprintf (stderr, "error: %s\n", err);
        return 2;
    }
    config.tz = zone;
    ds_log_init ("embed");
    ds_log_set_quiet (quiet);
    ds_signals_install ();
    ds_malloc_tune ();

    zactor_t *actor = zactor_new (ds_embed_actor, &config);
    char endpoint [256];
    if (!actor || ds_embed_endpoint (actor, endpoint, sizeof endpoint)) {
        ds_log_error ("could not start (see above)");
        zactor_destroy (&actor);
        ds_tz_destroy (&zone);
        return 1;
    }
    ds_signals_wait (actor, false);
    zactor_destroy (&actor);
    ds_tz_destroy (&zone);
    return 0;
}
