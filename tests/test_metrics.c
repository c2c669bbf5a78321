/*  libs: ds_common */
/*  test_metrics.c - the metrics registry (services/common/metrics.c) and
    the operations HTTP server (services/common/http.c): the exposition
    text, a consistent snapshot while a writer runs, histograms, readiness
    from conditions, probes and real sockets, and the server over a real
    TCP connection. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>
#include "scratch_fixture.h"
#include "metrics.h"
#include "http.h"

//  The value of the sample line that starts with `prefix` (name{labels}),
//  or -1 if there is none.
static double
s_sample (const char *text, const char *prefix)
{
    size_t n = strlen (prefix);
    for (const char *line = text; line && *line; ) {
        if (strncmp (line, prefix, n) == 0 && line [n] == ' ')
            return strtod (line + n + 1, NULL);
        line = strchr (line, '\n');
        line = line ? line + 1 : NULL;
    }
    return -1;
}

static void
test_render (void **state)
{
    (void) state;
    ds_metrics_t *m = ds_metrics_new ();
    assert_non_null (m);
    ds_mgroup_t *g = ds_metrics_group (m, "aggregator", "shard", "3", NULL);
    assert_non_null (g);
    assert_ptr_equal (ds_metrics_group (m, "aggregator", "shard", "3", NULL), g);
    int records = ds_mgroup_series (g, "darkscope_records_total", "sensor", "7", NULL);
    int weird = ds_mgroup_series (g, "darkscope_rejects_total", "why", "a \"quoted\"\\ line\n", NULL);
    int bytes = ds_mgroup_series (g, "darkscope_store_bytes", NULL);
    assert_true (records >= 0 && weird >= 0 && bytes >= 0);
    assert_int_equal (ds_mgroup_series (g, "darkscope_records_total", "sensor", "7", NULL), records);
    assert_int_equal (ds_mgroup_series (g, "no_such_family", NULL), -1);
    ds_mgroup_begin (g);
    ds_mgroup_set (g, records, 12345678901.0);
    ds_mgroup_add (g, records, 2);
    ds_mgroup_set (g, bytes, 1.5e9);
    ds_mgroup_add (g, weird, 1);
    ds_mgroup_end (g);
    char *text = ds_metrics_render (m);
    assert_non_null (text);
    assert_non_null (strstr (text, "# TYPE darkscope_records_total counter\n"));
    assert_non_null (strstr (text, "# TYPE darkscope_store_bytes gauge\n"));
    assert_non_null (strstr (text,
        "darkscope_records_total{service=\"aggregator\",shard=\"3\",sensor=\"7\"} 12345678903\n"));
    assert_non_null (strstr (text,
        "darkscope_rejects_total{service=\"aggregator\",shard=\"3\",why=\"a \\\"quoted\\\"\\\\ line\\n\"} 1\n"));
    assert_true (s_sample (text, "darkscope_store_bytes{service=\"aggregator\",shard=\"3\"}") == 1.5e9);
    //  Each family's header appears once, before its samples.
    const char *help = strstr (text, "# HELP darkscope_records_total");
    assert_non_null (help);
    assert_null (strstr (help + 1, "# HELP darkscope_records_total"));
    assert_true (help < strstr (text, "darkscope_records_total{"));
    free (text);
    ds_metrics_destroy (&m);
    assert_null (m);
    //  A NULL group is a no-op everywhere.
    assert_null (ds_metrics_group (NULL, "x", NULL));
    ds_mgroup_begin (NULL);
    ds_mgroup_set (NULL, 0, 1);
    ds_mgroup_end (NULL);
    assert_int_equal (ds_mgroup_series (NULL, "darkscope_records_total", NULL), -1);
}

static void
test_histogram (void **state)
{
    (void) state;
    ds_metrics_t *m = ds_metrics_new ();
    ds_mgroup_t *g = ds_metrics_group (m, "query", NULL);
    int h = ds_mgroup_series (g, "darkscope_query_duration_seconds", "q", "overview", NULL);
    const double obs [] = { 0.0005, 0.003, 0.003, 0.2, 30 };
    for (size_t i = 0; i < 5; i++) {
        ds_mgroup_begin (g);
        ds_mgroup_observe (g, h, obs [i]);
        ds_mgroup_end (g);
    }
    char *text = ds_metrics_render (m);
    const char *p = "darkscope_query_duration_seconds_bucket{service=\"query\",q=\"overview\",le=";
    char key [256];
    snprintf (key, sizeof key, "%s\"0.001\"}", p);
    assert_true (s_sample (text, key) == 1);
    snprintf (key, sizeof key, "%s\"0.005\"}", p);
    assert_true (s_sample (text, key) == 3);
    snprintf (key, sizeof key, "%s\"0.25\"}", p);
    assert_true (s_sample (text, key) == 4);
    snprintf (key, sizeof key, "%s\"10\"}", p);
    assert_true (s_sample (text, key) == 4);
    snprintf (key, sizeof key, "%s\"+Inf\"}", p);
    assert_true (s_sample (text, key) == 5);
    assert_true (s_sample (text, "darkscope_query_duration_seconds_count{service=\"query\",q=\"overview\"}") == 5);
    double sum = s_sample (text, "darkscope_query_duration_seconds_sum{service=\"query\",q=\"overview\"}");
    assert_true (sum > 30.2064 && sum < 30.2066);
    free (text);
    ds_metrics_destroy (&m);
}

//  A writer that keeps two counters equal inside each update.
typedef struct {
    ds_mgroup_t *g;
    int a, b;
    volatile int stop;
} s_writer_t;

static void *
s_writer (void *arg)
{
    s_writer_t *w = arg;
    for (double v = 1; !w->stop; v++) {
        ds_mgroup_begin (w->g);
        ds_mgroup_set (w->g, w->a, v);
        ds_mgroup_set (w->g, w->b, v);
        ds_mgroup_end (w->g);
    }
    return NULL;
}

static void
test_snapshot (void **state)
{
    (void) state;
    ds_metrics_t *m = ds_metrics_new ();
    s_writer_t w = { .g = ds_metrics_group (m, "labeler", NULL) };
    w.a = ds_mgroup_series (w.g, "darkscope_batches_total", NULL);
    w.b = ds_mgroup_series (w.g, "darkscope_records_total", NULL);
    pthread_t thread;
    assert_int_equal (pthread_create (&thread, NULL, s_writer, &w), 0);
    double last = 0;
    //  300 renders once the writer has started (at most 10^6 in all).
    for (int i = 0, seen = 0; seen < 300 && i < 1000000; i++) {
        char *text = ds_metrics_render (m);
        double a = s_sample (text, "darkscope_batches_total{service=\"labeler\"}");
        double b = s_sample (text, "darkscope_records_total{service=\"labeler\"}");
        free (text);
        assert_true (a == b);           //  never half an update
        assert_true (a >= last);        //  counters never go back
        last = a;
        seen += last > 0;
    }
    w.stop = 1;
    pthread_join (thread, NULL);
    assert_true (last > 0);
    ds_metrics_destroy (&m);
}

static bool
s_probe (void *arg, char *why, size_t why_size)
{
    snprintf (why, why_size, "probe says %s", *(bool *) arg ? "yes" : "no");
    return *(bool *) arg;
}

//  Polls the registry's readiness for up to 5 s until it equals want.
static bool
s_ready_within (ds_metrics_t *m, bool want)
{
    for (int i = 0; i < 500; i++) {
        if (ds_metrics_ready (m, NULL) == want)
            return true;
        zclock_sleep (10);
    }
    return false;
}

static void
test_ready (void **state)
{
    (void) state;
    ds_metrics_t *m = ds_metrics_new ();
    assert_true (ds_metrics_ready (m, NULL));          //  nothing to wait for
    ds_mgroup_t *g = ds_metrics_group (m, "aggregator", "shard", "0", NULL);
    ds_mgroup_condition (g, "checkpoint restored", false);
    char *text = NULL;
    assert_false (ds_metrics_ready (m, &text));
    assert_non_null (strstr (text, "checkpoint restored: no"));
    free (text);
    ds_mgroup_condition (g, "checkpoint restored", true);
    assert_true (ds_metrics_ready (m, NULL));

    //  A watched SUB: not ready until its publisher is there, and again
    //  not once the publisher is gone.
    //  (ipc, not tcp: the same endpoint again, which no other process takes.)
    char endpoint [64];
    snprintf (endpoint, sizeof endpoint, "ipc:///tmp/ds-test-metrics-%d.ipc", (int) getpid ());
    zsock_t *pub = NULL;
    zsock_t *sub = zsock_new_sub (endpoint, "");
    assert_non_null (sub);
    assert_int_equal (ds_metrics_remote_count ("tcp://a:1,inproc://b,ipc:///c"), 2);
    assert_int_equal (ds_mgroup_watch (g, sub, "input", 1), 0);
    assert_false (ds_metrics_ready (m, NULL));
    pub = zsock_new_pub (endpoint);
    assert_non_null (pub);
    assert_true (s_ready_within (m, true));
    zsock_destroy (&pub);
    assert_true (s_ready_within (m, false));
    ds_metrics_ready (m, &text);
    assert_non_null (strstr (text, "input: 0 of 1 connected"));
    free (text);
    pub = zsock_new_pub (endpoint);
    assert_true (s_ready_within (m, true));

    //  A probe, and health.
    bool answer = false;
    ds_mgroup_t *q = ds_metrics_group (m, "query", NULL);
    ds_mgroup_probe (q, "every shard answers", s_probe, &answer);
    assert_false (ds_metrics_ready (m, &text));
    assert_non_null (strstr (text, "every shard answers: probe says no"));
    free (text);
    answer = true;
    assert_true (ds_metrics_ready (m, NULL));
    assert_true (ds_metrics_healthy (m, NULL));
    ds_mgroup_fail (q, "could not start");
    assert_false (ds_metrics_healthy (m, &text));
    assert_non_null (strstr (text, "could not start"));
    free (text);
    zsock_destroy (&sub);
    zsock_destroy (&pub);
    ds_metrics_destroy (&m);
    unlink (endpoint + 6);
}

//  GET path from 127.0.0.1:port; returns the whole response (caller frees).
static char *
s_get (int port, const char *method, const char *path)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons ((uint16_t) port) };
    addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    if (fd < 0 || connect (fd, (struct sockaddr *) &addr, sizeof addr)) {
        if (fd >= 0)
            close (fd);
        return NULL;
    }
    char req [512];
    int n = snprintf (req, sizeof req, "%s %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", method, path);
    if (write (fd, req, (size_t) n) != n) {
        close (fd);
        return NULL;
    }
    size_t size = 0, cap = 65536;
    char *buf = malloc (cap + 1);
    ssize_t got;
    while (buf && (got = read (fd, buf + size, cap - size)) > 0) {
        size += (size_t) got;
        if (size == cap)
            buf = realloc (buf, (cap *= 2) + 1);
    }
    close (fd);
    if (buf)
        buf [size] = 0;
    return buf;
}

static int
s_echo (void *arg, ds_http_req_t *req, const char *path, char **body, size_t *size,
        const char **type)
{
    (void) arg;
    (void) size;
    const char *x = ds_http_arg (req, "x");
    *body = malloc (256);
    snprintf (*body, 256, "{\"path\":\"%s\",\"x\":\"%s\"}", path, x ? x : "");
    *type = "application/json";
    return 200;
}

static void
test_http (void **state)
{
    (void) state;
    char err [256];
    assert_null (ds_http_new ("127.0.0.1:99999", NULL, err, sizeof err));
    assert_non_null (strstr (err, "port"));
    assert_null (ds_http_new ("nonsense host name.invalid:80", NULL, err, sizeof err));

    ds_metrics_t *m = ds_metrics_new ();
    ds_mgroup_t *g = ds_metrics_group (m, "labeler", NULL);
    int id = ds_mgroup_series (g, "darkscope_batches_total", NULL);
    ds_mgroup_set (g, id, 42);
    ds_http_t *http = ds_http_new ("127.0.0.1:0", m, err, sizeof err);
    assert_non_null (http);
    char dir [64];
    assert_int_equal (fx_scratch_make (dir, sizeof dir, "ds-test-http"), 0);
    char file [128];
    snprintf (file, sizeof file, "%s/index.html", dir);
    FILE *f = fopen (file, "w");
    fputs ("<p>dashboard</p>", f);
    fclose (f);
    assert_int_equal (ds_http_route (http, "/api/", s_echo, NULL), 0);
    ds_http_static (http, dir);
    assert_int_equal (ds_http_start (http, err, sizeof err), 0);
    int port = ds_http_port (http);
    assert_true (port > 0);
    //  A second server on the same port is refused.
    char busy [32];
    snprintf (busy, sizeof busy, "127.0.0.1:%d", port);
    ds_http_t *other = ds_http_new (busy, m, err, sizeof err);
    assert_int_equal (ds_http_start (other, err, sizeof err), -1);
    ds_http_destroy (&other);

    char *r = s_get (port, "GET", "/metrics");
    assert_non_null (r);
    assert_non_null (strstr (r, "HTTP/1.1 200"));
    assert_non_null (strstr (r, "text/plain; version=0.0.4"));
    assert_non_null (strstr (r, "darkscope_batches_total{service=\"labeler\"} 42\n"));
    free (r);
    r = s_get (port, "GET", "/healthz");
    assert_non_null (strstr (r, "HTTP/1.1 200"));
    free (r);
    ds_mgroup_condition (g, "inputs", false);
    r = s_get (port, "GET", "/readyz");
    assert_non_null (strstr (r, "HTTP/1.1 503"));
    assert_non_null (strstr (r, "inputs: no"));
    free (r);
    ds_mgroup_condition (g, "inputs", true);
    r = s_get (port, "GET", "/readyz");
    assert_non_null (strstr (r, "HTTP/1.1 200"));
    free (r);
    r = s_get (port, "GET", "/api/overview?x=a%20b");
    assert_non_null (strstr (r, "{\"path\":\"/api/overview\",\"x\":\"a b\"}"));
    free (r);
    r = s_get (port, "GET", "/");
    assert_non_null (strstr (r, "text/html"));
    assert_non_null (strstr (r, "<p>dashboard</p>"));
    free (r);
    r = s_get (port, "GET", "/../../etc/passwd");
    assert_null (strstr (r, "root:"));
    free (r);
    r = s_get (port, "GET", "/missing.js");
    assert_non_null (strstr (r, "HTTP/1.1 404"));
    free (r);
    r = s_get (port, "POST", "/metrics");
    assert_non_null (strstr (r, "HTTP/1.1 405"));
    free (r);
    ds_http_destroy (&http);
    assert_null (http);
    assert_int_equal (fx_scratch_remove (dir), 0);
    ds_metrics_destroy (&m);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_render),
        cmocka_unit_test (test_histogram),
        cmocka_unit_test (test_snapshot),
        cmocka_unit_test (test_ready),
        cmocka_unit_test (test_http),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
