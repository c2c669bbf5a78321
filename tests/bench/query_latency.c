/*  query_latency.c - p50/p99 latency and reply size of every query, from a
    C client (no interpreter in the measurement).  Not a ctest.

    Usage: query_latency ENDPOINT [N [PID...]]
    For each query it sends N requests.  "fresh" requests change an
    argument every time, so no cached answer is reused anywhere: the
    overview family min_packets (1..N+1, never 10), pattern the raster
    width (641, 642, ...) over all sources or one class, lookup the
    address; "cached" repeats the default request.  Prints a Markdown
    table: p50/p99 ms fresh, p50/p99 ms cached, reply bytes, and with the
    PIDs of the serving processes their CPU milliseconds per fresh request
    (user + system, from /proc: on a shared machine steadier than wall
    time).
*/
#include <czmq.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "ds_proto.h"

//  CPU seconds (user + system) used so far by the processes pids [0..n).
static double
s_cpu_seconds (char **pids, int n)
{
    double ticks = 0;
    for (int i = 0; i < n; i++) {
        char path [64], line [1024];
        snprintf (path, sizeof path, "/proc/%s/stat", pids [i]);
        FILE *f = fopen (path, "r");
        if (!f)
            continue;
        size_t len = fread (line, 1, sizeof line - 1, f);
        fclose (f);
        line [len] = 0;
        const char *p = strrchr (line, ')');        //  fields after the command name
        unsigned long long utime, stime;
        if (p && sscanf (p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
                         &utime, &stime) == 2)
            ticks += (double) (utime + stime);
    }
    return ticks / (double) sysconf (_SC_CLK_TCK);
}

static int
s_cmp_double (const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y;
}

//  One request; returns the reply size, or -1 (printed) on failure.
//  A query of the table: its name, an optional class (pattern), and
//  whether i >= 0 (fresh request number i) changes min_packets, the
//  raster width or the address.
typedef enum { S_VARY_MIN, S_VARY_WIDTH, S_VARY_IP, S_VARY_NONE } s_vary_t;
typedef struct {
    const char *label, *name, *class_name;
    s_vary_t vary;
} s_query_row_t;

static long
s_ask (zsock_t *req, const s_query_row_t *row, int i, double *ms)
{
    ds_query_t q;
    ds_query_init (&q);
    snprintf (q.name, sizeof q.name, "%s", row->name);
    if (row->class_name)
        snprintf (q.class_name, sizeof q.class_name, "%s", row->class_name);
    if (row->vary == S_VARY_IP)         //  cached: always the same address
        snprintf (q.ip, sizeof q.ip, "192.0.2.1");
    if (i >= 0 && row->vary == S_VARY_MIN)
        q.min_packets = i + 1 >= 10 ? i + 2 : i + 1;
    if (i >= 0 && row->vary == S_VARY_WIDTH)
        q.width = 641 + i;
    if (i >= 0 && row->vary == S_VARY_IP)
        snprintf (q.ip, sizeof q.ip, "10.%d.%d.1", i / 256 % 256, i % 256);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    ds_query_encode (&q, &sb);
    int64_t t0 = zclock_usecs ();
    zframe_t *frame = zframe_new (sb.data, sb.size);
    msgpack_sbuffer_destroy (&sb);
    zframe_send (&frame, req, 0);
    zframe_t *reply = zframe_recv (req);
    *ms = (double) (zclock_usecs () - t0) / 1000.0;
    if (!reply) {
        fprintf (stderr, "%s: no reply\n", row->label);
        return -1;
    }
    long size = (long) zframe_size (reply);
    zframe_destroy (&reply);
    return size;
}

int
main (int argc, char **argv)
{
    if (argc < 2) {
        fprintf (stderr, "usage: query_latency ENDPOINT [N]\n");
        return 2;
    }
    int n = argc > 2 ? atoi (argv [2]) : 50;
    zsock_t *req = zsock_new_req (argv [1]);
    if (!req)
        return 1;
    zsock_set_rcvtimeo (req, 120000);
    const s_query_row_t rows [] = {
        { "overview", "overview", NULL, S_VARY_MIN },
        { "ports", "ports", NULL, S_VARY_MIN },
        { "ecdf", "ecdf", NULL, S_VARY_MIN },
        { "daily", "daily", NULL, S_VARY_MIN },
        { "classes", "classes", NULL, S_VARY_MIN },
        { "heatmap", "heatmap", NULL, S_VARY_MIN },
        { "pattern (all sources)", "pattern", NULL, S_VARY_WIDTH },
        { "pattern (class mirai)", "pattern", "mirai", S_VARY_WIDTH },
        { "lookup (labeler)", "lookup", NULL, S_VARY_IP },
        { "status", "status", NULL, S_VARY_NONE },
    };
    double *fresh = calloc ((size_t) n, sizeof *fresh), *cached = calloc ((size_t) n, sizeof *cached);
    char **pids = argv + 3;
    int n_pids = argc > 3 ? argc - 3 : 0;
    printf ("| query | fresh p50 ms | fresh p99 ms | cached p50 ms | cached p99 ms | reply bytes |%s\n",
            n_pids ? " server CPU ms per fresh request |" : "");
    printf ("|---|---:|---:|---:|---:|---:|%s\n", n_pids ? "---:|" : "");
    for (size_t k = 0; k < sizeof rows / sizeof *rows; k++) {
        long size = 0;
        double cpu0 = s_cpu_seconds (pids, n_pids);
        for (int i = 0; i < n; i++)
            if ((size = s_ask (req, &rows [k], i, &fresh [i])) < 0)
                return 1;
        double cpu_ms = (s_cpu_seconds (pids, n_pids) - cpu0) * 1000.0 / n;
        double warm;                //  the first default request fills the caches
        if (s_ask (req, &rows [k], -1, &warm) < 0)
            return 1;
        for (int i = 0; i < n; i++)
            if ((size = s_ask (req, &rows [k], -1, &cached [i])) < 0)
                return 1;
        qsort (fresh, (size_t) n, sizeof *fresh, s_cmp_double);
        qsort (cached, (size_t) n, sizeof *cached, s_cmp_double);
        int p99 = (n * 99 + 99) / 100 - 1;
        printf ("| %s | %.2f | %.2f | %.2f | %.2f | %ld |", rows [k].label, fresh [n / 2], fresh [p99],
                cached [n / 2], cached [p99], size);
        if (n_pids)
            printf (" %.1f |", cpu_ms);
        printf ("\n");
    }
    free (fresh);
    free (cached);
    zsock_destroy (&req);
    return 0;
}
