/*  dashboard.c - see dashboard.h.  Each /api request is one REQ round trip
    to the query service's front door on the connection's own socket (the
    HTTP server runs a thread per connection), so the dashboard never
    touches the service's sockets and a slow query blocks only its page. */
#include "dashboard.h"
#include "ds_proto.h"
#include "pattern_codec.h"
#include "json.h"
#include "log.h"
#include "transport.h"
#include "curve.h"
#include <czmq.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define S_TIMEOUT_MS   30000        //  per API request
#define S_REPLY_MAX    (64 << 20)   //  largest reply taken from the service
#define S_CELLS_MAX    (4096 * 4096)

struct _ds_dashboard_t {
    pthread_mutex_t lock;
    char endpoint [256];            //  "" until set
};

//  URL parameters -> query fields: a table the request builder walks.
typedef enum { S_STR, S_INT } s_kind_t;
static const struct {
    const char *name;
    s_kind_t kind;
    size_t offset, size;
} s_args [] = {
    { "first_day",   S_STR, offsetof (ds_query_t, first_day),   sizeof ((ds_query_t *) 0)->first_day },
    { "last_day",    S_STR, offsetof (ds_query_t, last_day),    sizeof ((ds_query_t *) 0)->last_day },
    { "min_packets", S_INT, offsetof (ds_query_t, min_packets), 0 },
    { "class",       S_STR, offsetof (ds_query_t, class_name),  sizeof ((ds_query_t *) 0)->class_name },
    { "from_us",     S_INT, offsetof (ds_query_t, from_us),     0 },
    { "to_us",       S_INT, offsetof (ds_query_t, to_us),       0 },
    { "bin_s",       S_INT, offsetof (ds_query_t, bin_s),       0 },
    { "width",       S_INT, offsetof (ds_query_t, width),       0 },
    { "height",      S_INT, offsetof (ds_query_t, height),      0 },
    { "limit",       S_INT, offsetof (ds_query_t, limit),       0 },
    { "offset",      S_INT, offsetof (ds_query_t, offset),      0 },
    { "ip",          S_STR, offsetof (ds_query_t, ip),          sizeof ((ds_query_t *) 0)->ip },
    { "k",           S_INT, offsetof (ds_query_t, k),           0 },
};

//  Builds the query from the path's name and the URL parameters.  Returns
//  0, or -1 with a reason in err.
static int
s_build (ds_http_req_t *req, const char *path, ds_query_t *q, char *err, size_t err_size)
{
    ds_query_init (q);
    const char *name = path + strlen ("/api/");
    size_t len = strlen (name);
    if (len == 0 || len >= sizeof q->name || strspn (name, "abcdefghijklmnopqrstuvwxyz_") != len) {
        snprintf (err, err_size, "want /api/QUERY (overview, ports, ecdf, daily, classes, heatmap, "
                                 "pattern, lookup, status)");
        return -1;
    }
    snprintf (q->name, sizeof q->name, "%s", name);
    for (size_t i = 0; i < sizeof s_args / sizeof *s_args; i++) {
        const char *value = ds_http_arg (req, s_args [i].name);
        if (!value || !*value)
            continue;
        char *field = (char *) q + s_args [i].offset;
        if (s_args [i].kind == S_STR) {
            if (strlen (value) >= s_args [i].size) {
                snprintf (err, err_size, "%s: longer than %zu bytes", s_args [i].name, s_args [i].size - 1);
                return -1;
            }
            memcpy (field, value, strlen (value) + 1);
        }
        else {
            char *end;
            errno = 0;
            long long v = strtoll (value, &end, 10);
            if (errno || *end) {
                snprintf (err, err_size, "%s: not an integer", s_args [i].name);
                return -1;
            }
            int64_t v64 = v;
            memcpy (field, &v64, sizeof v64);
        }
    }
    return 0;
}

//  One round trip to the front door: the reply frame, or NULL with err.
static zframe_t *
s_ask (ds_dashboard_t *self, const ds_query_t *q, char *err, size_t err_size)
{
    char endpoint [256];
    pthread_mutex_lock (&self->lock);
    snprintf (endpoint, sizeof endpoint, "%s", self->endpoint);
    pthread_mutex_unlock (&self->lock);
    if (!endpoint [0]) {
        snprintf (err, err_size, "the query service is not started yet");
        return NULL;
    }
    msgpack_sbuffer body;
    msgpack_sbuffer_init (&body);
    zframe_t *reply = NULL;
    zsock_t *sock = NULL;
    if (ds_query_encode (q, &body) != DS_OK)
        snprintf (err, err_size, "cannot encode the request (bad arguments?)");
    else
    if (!(sock = zsock_new (ZMQ_REQ)))
        snprintf (err, err_size, "cannot create a socket");
    else {
        ds_sock_defaults (sock);
        zsock_set_maxmsgsize (sock, S_REPLY_MAX);
        zpoller_t *poller = NULL;
        char spec [320];            //  with CURVE on: the own key as the server's
        if (ds_curve_connect (sock, ds_curve_self (endpoint, spec, sizeof spec)) == -1
        ||  zmq_send (zsock_resolve (sock), body.data, body.size, 0) == -1)
            snprintf (err, err_size, "cannot ask %s: %s", endpoint, zmq_strerror (zmq_errno ()));
        else
        if (!(poller = zpoller_new (sock, NULL)) || !zpoller_wait (poller, S_TIMEOUT_MS))
            snprintf (err, err_size, "the query service (%s) did not answer within %d ms",
                      endpoint, S_TIMEOUT_MS);
        else
            reply = zframe_recv (sock);
        zpoller_destroy (&poller);
    }
    zsock_destroy (&sock);
    msgpack_sbuffer_destroy (&body);
    return reply;
}

//  The result as JSON into out; a pattern's raster becomes raster_cells.
static int
s_result_json (FILE *out, const msgpack_object *result, bool pattern, char *err, size_t err_size)
{
    const msgpack_object *raster = pattern ? ds_mp_get (result, "raster") : NULL;
    if (!raster || raster->type != MSGPACK_OBJECT_BIN)
        return ds_json_write (out, result);
    const msgpack_object *w = ds_mp_get (result, "width"), *h = ds_mp_get (result, "height");
    const msgpack_object *cb = ds_mp_get (result, "cell_bytes");
    if (!w || !h || !cb || w->type != MSGPACK_OBJECT_POSITIVE_INTEGER
    ||  h->type != MSGPACK_OBJECT_POSITIVE_INTEGER || cb->type != MSGPACK_OBJECT_POSITIVE_INTEGER
    ||  (cb->via.u64 != 4 && cb->via.u64 != 8) || w->via.u64 * h->via.u64 > S_CELLS_MAX) {
        snprintf (err, err_size, "pattern reply without a usable raster size");
        return -1;
    }
    size_t width = (size_t) w->via.u64, height = (size_t) h->via.u64;
    size_t n_cells = width * height;
    uint64_t *cells = calloc (n_cells > 0 ? n_cells : 1, sizeof *cells);
    if (!cells || ds_pattern_cells_add ((const uint8_t *) raster->via.bin.ptr, raster->via.bin.size,
                                        width * height, (uint32_t) cb->via.u64, cells, 8) != DS_OK) {
        snprintf (err, err_size, "pattern raster does not inflate to %zu x %zu cells", width, height);
        free (cells);
        return -1;
    }
    fputc ('{', out);
    bool first = true;
    for (uint32_t i = 0; i < result->via.map.size; i++) {
        const msgpack_object_kv *kv = &result->via.map.ptr [i];
        if (kv->key.type != MSGPACK_OBJECT_STR)
            continue;
        bool is_raster = kv->key.via.str.size == 6 && memcmp (kv->key.via.str.ptr, "raster", 6) == 0;
        fprintf (out, "%s", first ? "" : ",");
        first = false;
        if (is_raster) {
            fputs ("\"raster_cells\":[", out);
            for (size_t r = 0; r < height; r++) {
                fputs (r ? ",[" : "[", out);
                for (size_t c = 0; c < width; c++)
                    fprintf (out, c ? ",%llu" : "%llu", (unsigned long long) cells [r * width + c]);
                fputc (']', out);
            }
            fputc (']', out);
            continue;
        }
        ds_json_write (out, &kv->key);
        fputc (':', out);
        if (ds_json_write (out, &kv->val)) {
            free (cells);
            snprintf (err, err_size, "pattern reply field without a JSON form");
            return -1;
        }
    }
    fputc ('}', out);
    free (cells);
    return 0;
}

//  A JSON {"ok":false,"error":...} body.
static char *
s_error_body (const char *why)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    ds_reply_error (&sb, why);
    msgpack_zone zone;
    msgpack_zone_init (&zone, 1024);
    msgpack_object obj;
    char *text = NULL;
    if (ds_mp_unpack ((const uint8_t *) sb.data, sb.size, &zone, &obj) == DS_OK)
        text = ds_json_string (&obj);
    msgpack_zone_destroy (&zone);
    msgpack_sbuffer_destroy (&sb);
    return text ? text : strdup ("{\"ok\":false,\"error\":\"out of memory\"}");
}

static int
s_api (void *arg, ds_http_req_t *req, const char *path, char **body, size_t *size, const char **type)
{
    ds_dashboard_t *self = arg;
    *type = "application/json";
    char err [512] = "";
    ds_query_t q;
    if (s_build (req, path, &q, err, sizeof err)) {
        *body = s_error_body (err);
        return 400;
    }
    zframe_t *reply = s_ask (self, &q, err, sizeof err);
    if (!reply) {
        *body = s_error_body (err);
        return 503;
    }
    msgpack_zone zone;
    msgpack_zone_init (&zone, 65536);
    msgpack_object obj;
    const msgpack_object *result = NULL;
    int status = 200;
    char *text = NULL;
    size_t text_size = 0;
    if (ds_mp_unpack (zframe_data (reply), zframe_size (reply), &zone, &obj) != DS_OK) {
        snprintf (err, sizeof err, "the query service sent a malformed reply");
        status = 502;
    }
    else
    if (ds_reply_parse (&obj, &result, err, sizeof err) != DS_OK)
        status = 400;               //  the service's own error, e.g. a bad day
    else {
        FILE *out = open_memstream (&text, &text_size);
        fputs ("{\"ok\":true,\"result\":", out);
        int rc = s_result_json (out, result, strcmp (q.name, "pattern") == 0, err, sizeof err);
        fputs ("}", out);
        fclose (out);
        if (rc) {
            free (text);
            text = NULL;
            status = 502;
        }
    }
    msgpack_zone_destroy (&zone);
    zframe_destroy (&reply);
    if (status != 200) {
        *body = s_error_body (err [0] ? err : "error");
        return status;
    }
    *body = text;
    *size = text_size;
    return 200;
}

int
ds_dashboard_default_dir (char *buf, size_t size)
{
    char exe [PATH_MAX - 64];       //  room for the suffix in a PATH_MAX buf
    ssize_t n = readlink ("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return -1;
    exe [n] = 0;
    char *slash = strrchr (exe, '/');
    if (!slash)
        return -1;
    *slash = 0;                     //  BIN
    if ((size_t) snprintf (buf, size, "%.*s/../share/darkscope/web", (int) (sizeof exe - 1), exe) >= size)
        return -1;
    struct stat st;
    return stat (buf, &st) == 0 && S_ISDIR (st.st_mode) ? 0 : -1;
}

ds_dashboard_t *
ds_dashboard_new (ds_http_t *http, const char *web_dir)
{
    char dir [PATH_MAX];
    if (web_dir)
        snprintf (dir, sizeof dir, "%s", web_dir);
    else
    if (ds_dashboard_default_dir (dir, sizeof dir)) {
        ds_log_error ("no dashboard files: %s does not exist (install darkscope, or give --web-dir)", dir);
        return NULL;
    }
    char index [PATH_MAX + 16];
    snprintf (index, sizeof index, "%s/index.html", dir);
    if (access (index, R_OK) != 0) {
        ds_log_error ("no dashboard files: cannot read %s: %s", index, strerror (errno));
        return NULL;
    }
    ds_dashboard_t *self = calloc (1, sizeof *self);
    if (!self || ds_http_route (http, "/api/", s_api, self)) {
        ds_log_error ("cannot add the dashboard to the http server");
        free (self);
        return NULL;
    }
    pthread_mutex_init (&self->lock, NULL);
    ds_http_static (http, dir);
    return self;
}

void
ds_dashboard_destroy (ds_dashboard_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    pthread_mutex_destroy (&(*self_p)->lock);
    free (*self_p);
    *self_p = NULL;
}

void
ds_dashboard_set_endpoint (ds_dashboard_t *self, const char *endpoint)
{
    if (!self || !endpoint)
        return;
    char local [256];
    if (strncmp (endpoint, "tcp://0.0.0.0:", 14) == 0)
        snprintf (local, sizeof local, "tcp://127.0.0.1:%s", endpoint + 14);
    else
    if (strncmp (endpoint, "tcp://*:", 8) == 0)
        snprintf (local, sizeof local, "tcp://127.0.0.1:%s", endpoint + 8);
    else
        snprintf (local, sizeof local, "%s", endpoint);
    pthread_mutex_lock (&self->lock);
    snprintf (self->endpoint, sizeof self->endpoint, "%s", local);
    pthread_mutex_unlock (&self->lock);
}
