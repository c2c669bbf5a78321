/*  bench_checkpoint.c - how long a checkpoint stops the data path (not a
    ctest; see bench_checkpoint.sh).

    Loads a checkpoint (a shard of the DarkVec-size month), then writes it
    ROUNDS times each way:
      before  ds_store_save on the calling thread: the data path stops for
              the whole write (what the aggregator did until issue 13);
      after   ds_snapshot_start: the data path stops for the fork only (and
              for sorting pattern bins that are not in order, none here);
              the child writes meanwhile.
    Prints the pauses (min / median / max, ms), the child's write time and
    the file's size.
    Usage: bench_checkpoint CHECKPOINT SHARD SHARDS TZ OUT_PATH [ROUNDS]
*/
#include "store.h"
#include "snapshot.h"
#include "tzday.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>

static double
s_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec * 1e3 + (double) ts.tv_nsec / 1e6;
}

static int
s_cmp (const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y;
}

static void
s_print (const char *what, double *v, int n)
{
    qsort (v, (size_t) n, sizeof *v, s_cmp);
    printf ("%-34s min %9.2f  median %9.2f  max %9.2f ms\n", what, v [0], v [n / 2], v [n - 1]);
}

int
main (int argc, char **argv)
{
    if (argc < 6) {
        fprintf (stderr, "usage: bench_checkpoint CHECKPOINT SHARD SHARDS TZ OUT_PATH [ROUNDS]\n");
        return 2;
    }
    int rounds = argc > 6 ? atoi (argv [6]) : 5;
    if (rounds < 1 || rounds > 100 || ds_tz_set (argv [4]) != 0)
        return 2;
    char err [512];
    double t0 = s_ms ();
    ds_store_t *store = ds_store_load (argv [1], (uint32_t) atoi (argv [2]), (uint32_t) atoi (argv [3]),
                                       err, sizeof err);
    if (!store) {
        fprintf (stderr, "%s\n", err);
        return 1;
    }
    printf ("loaded %s in %.0f ms: %llu records, %llu sources, %.0f MB of tables\n", argv [1],
            s_ms () - t0, (unsigned long long) ds_store_records (store),
            (unsigned long long) ds_store_sources (store), (double) ds_store_memory (store) / 1e6);
    double before [100], after [100], child [100];
    for (int i = 0; i < rounds; i++) {
        t0 = s_ms ();
        if (ds_store_save (store, argv [5], err, sizeof err) != 0) {
            fprintf (stderr, "%s\n", err);
            return 1;
        }
        before [i] = s_ms () - t0;
    }
    for (int i = 0; i < rounds; i++) {
        ds_snapshot_t *snap = ds_snapshot_start (store, argv [5], err, sizeof err);
        if (!snap || ds_snapshot_poll (snap, true) != DS_SNAPSHOT_DONE) {
            fprintf (stderr, "%s\n", snap ? ds_snapshot_error (snap) : err);
            return 1;
        }
        after [i] = (double) ds_snapshot_pause_us (snap) / 1e3;
        child [i] = (double) ds_snapshot_duration_us (snap) / 1e3;
        ds_snapshot_destroy (&snap);
    }
    struct stat st;
    stat (argv [5], &st);
    printf ("checkpoint file: %.0f MB; %d rounds each\n", (double) st.st_size / 1e6, rounds);
    s_print ("before: data path stopped (save)", before, rounds);
    s_print ("after:  data path stopped (fork)", after, rounds);
    s_print ("after:  child's write, start to end", child, rounds);
    ds_store_destroy (&store);
    return 0;
}
