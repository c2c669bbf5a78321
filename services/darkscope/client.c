/*  client.c - see client.h.  Results are msgpack objects; the printers walk
    them generically: a list of maps is a table whose columns are the keys of
    its first row, so every query prints through the same few functions. */
#include "client.h"
#include "pattern_print.h"
#include "json.h"
#include "status_print.h"
#include "text.h"
#include "transport.h"
#include "curve.h"
#include "mpread.h"
#include <czmq.h>
#include <errno.h>
#include <math.h>
#include <string.h>

//  How long a request waits for a connection to the endpoint (at most the
//  timeout): nothing listening there fails after this, not after the whole
//  reply timeout a slow server is given.  Room for a CURVE handshake over
//  a long path (about 4 round trips).
#define S_CONNECT_MS    2000

struct _ds_client_t {
    zsock_t *sock;
    char *endpoint;
    int timeout_ms;
    int connect_ms;
};

static zsock_t *
s_connect (const char *endpoint, int timeout_ms, int connect_ms)
{
    zsock_t *sock = zsock_new (ZMQ_REQ);
    if (!sock)
        return NULL;
    ds_sock_defaults (sock);                    //  linger 0, cap DS_REPLY_WIRE_MAX
    //  A request is queued only to a connection that is up (handshake
    //  done): with none within connect_ms the send fails, so nothing
    //  listening is told apart from a server slow to answer.
    zsock_set_immediate (sock, 1);
    zsock_set_rcvtimeo (sock, timeout_ms);
    zsock_set_sndtimeo (sock, connect_ms);
    if (ds_curve_connect (sock, endpoint) != 0) {
        zsock_destroy (&sock);
        return NULL;
    }
    return sock;
}

ds_client_t *
ds_client_new (const char *endpoint, int timeout_ms)
{
    ds_client_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->endpoint = strdup (endpoint);
    self->timeout_ms = timeout_ms > 0 ? timeout_ms : 10000;
    self->connect_ms = self->timeout_ms < S_CONNECT_MS ? self->timeout_ms : S_CONNECT_MS;
    self->sock = s_connect (endpoint, self->timeout_ms, self->connect_ms);
    if (!self->sock)
        ds_client_destroy (&self);
    return self;
}

void
ds_client_destroy (ds_client_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ds_client_t *self = *self_p;
    zsock_destroy (&self->sock);
    free (self->endpoint);
    free (self);
    *self_p = NULL;
}

//  Sends query and receives its reply (one frame of at most DS_REPLY_MAX
//  bytes).  Returns the reply (caller destroys), or NULL with err set.
static zmsg_t *
s_exchange (ds_client_t *self, const ds_query_t *query, char *err, size_t err_size)
{
    msgpack_sbuffer buf;
    msgpack_sbuffer_init (&buf);
    zmsg_t *reply = NULL;
    if (ds_query_encode (query, &buf) != DS_OK)
        snprintf (err, err_size, "cannot encode query '%s'", query->name);
    else
    if (buf.size > DS_FRAME_CONTROL_MAX)        //  the services' limit, refused here
        snprintf (err, err_size, "request of %zu bytes exceeds the %u MiB limit",
                  buf.size, DS_FRAME_CONTROL_MAX / DS_MIB);
    else
    if (zmq_send (zsock_resolve (self->sock), buf.data, buf.size, 0) < 0) {
        if (errno == EAGAIN)
            snprintf (err, err_size, "nothing answers at %s: no connection within %d ms "
                      "(is darkscope-query running there%s?)", self->endpoint, self->connect_ms,
                      strchr (self->endpoint, '@') ? ", and is the server key right" : "");
        else
            snprintf (err, err_size, "cannot send to %s: %s", self->endpoint, zmq_strerror (errno));
    }
    else
    if (!(reply = zmsg_recv (self->sock)))
        snprintf (err, err_size, "no reply from %s within %d ms (is darkscope-query running?)",
                  self->endpoint, self->timeout_ms);
    else {
        zframe_t *frame = zmsg_first (reply);
        if (!frame)
            snprintf (err, err_size, "malformed reply from %s", self->endpoint);
        else
        if (zframe_size (frame) > DS_REPLY_MAX)
            snprintf (err, err_size, "reply of %zu bytes from %s exceeds the %u MiB limit",
                      zframe_size (frame), self->endpoint, DS_REPLY_MAX / DS_MIB);
        else {
            msgpack_sbuffer_destroy (&buf);
            return reply;
        }
        zmsg_destroy (&reply);
        msgpack_sbuffer_destroy (&buf);
        return NULL;
    }
    //  Not sent or no reply: a REQ socket that missed its reply is stuck,
    //  start a fresh one.
    zsock_destroy (&self->sock);
    self->sock = s_connect (self->endpoint, self->timeout_ms, self->connect_ms);
    msgpack_sbuffer_destroy (&buf);
    return NULL;
}

int
ds_client_request (ds_client_t *self, const ds_query_t *query, msgpack_zone *zone,
                   msgpack_object *result, char *err, size_t err_size)
{
    zmsg_t *reply = s_exchange (self, query, err, err_size);
    if (!reply)
        return -1;
    int rc = -1;
    zframe_t *frame = zmsg_first (reply);
    msgpack_object root;
    //  The result points into the bytes it was unpacked from: keep them in
    //  the caller's zone, which outlives the frame.
    void *bytes = msgpack_zone_malloc (zone, zframe_size (frame) ? zframe_size (frame) : 1);
    if (bytes)
        memcpy (bytes, zframe_data (frame), zframe_size (frame));
    if (!bytes || ds_mp_unpack (bytes, zframe_size (frame), zone, &root) != DS_OK
    ||  root.type != MSGPACK_OBJECT_MAP) {
        snprintf (err, err_size, "malformed reply from %s", self->endpoint);
        goto done;
    }
    const msgpack_object *ok = ds_mp_get (&root, "ok");
    if (!ok || ok->type != MSGPACK_OBJECT_BOOLEAN || !ok->via.boolean) {
        const msgpack_object *e = ds_mp_get (&root, "error");
        if (e && e->type == MSGPACK_OBJECT_STR)
            snprintf (err, err_size, "%.*s", (int) e->via.str.size, e->via.str.ptr);
        else
            snprintf (err, err_size, "query failed (no reason given)");
        goto done;
    }
    const msgpack_object *res = ds_mp_get (&root, "result");
    if (!res) {
        snprintf (err, err_size, "reply from %s has no result", self->endpoint);
        goto done;
    }
    *result = *res;
    rc = 0;
done:
    zmsg_destroy (&reply);
    return rc;
}

bool
ds_client_mp_get (const uint8_t *data, size_t size, const char *key,
                  const uint8_t **value, size_t *value_size)
{
    ds_mpread_t r;
    ds_mpread_init (&r, data, size);
    uint32_t n;
    if (ds_mpread_map (&r, &n))
        return false;
    for (uint32_t i = 0; i < n; i++) {
        const char *k;
        uint32_t len;
        bool match = false;
        if (ds_mpread_str (&r, &k, &len) == 0)
            match = ds_mpread_str_eq (k, len, key);
        else
        if (ds_mpread_skip (&r, DS_MP_DEPTH_DEFAULT))   //  a key of another type
            return false;
        const uint8_t *start = r.pos;
        if (ds_mpread_skip (&r, DS_MP_DEPTH_DEFAULT))
            return false;
        if (match) {
            *value = start;
            *value_size = (size_t) (r.pos - start);
            return true;
        }
    }
    return false;
}

//  A value's bytes within a reply.
typedef struct {
    const uint8_t *at;
    size_t size;
} s_span_t;

//  One pass over a reply: checks it as ds_mp_validate does (exactly one
//  object, every count within the bytes left, nesting within
//  DS_MP_DEPTH_DEFAULT) and that it is a map, and finds the values of
//  "ok", "error" and "result" (the first of each, as ds_mp_get).  0, or -1.
static int
s_reply_scan (const uint8_t *data, size_t size, s_span_t *ok, s_span_t *error, s_span_t *result)
{
    static const char *const keys [] = { "ok", "error", "result" };
    s_span_t *spans [] = { ok, error, result };
    ds_mpread_t r;
    ds_mpread_init (&r, data, size);
    uint32_t n;
    if (ds_mpread_map (&r, &n))
        return -1;
    for (uint32_t i = 0; i < n; i++) {
        const char *k = NULL;
        uint32_t len = 0;
        if (ds_mpread_str (&r, &k, &len) && ds_mpread_skip (&r, DS_MP_DEPTH_DEFAULT - 1))
            return -1;
        const uint8_t *start = r.pos;
        if (ds_mpread_skip (&r, DS_MP_DEPTH_DEFAULT - 1))
            return -1;
        for (size_t j = 0; k && j < sizeof keys / sizeof *keys; j++)
            if (!spans [j]->at && ds_mpread_str_eq (k, len, keys [j]))
                *spans [j] = (s_span_t) { start, (size_t) (r.pos - start) };
    }
    return ds_mpread_left (&r) == 0 ? 0 : -1;
}

int
ds_client_request_raw (ds_client_t *self, const ds_query_t *query, zmsg_t **reply_p,
                       const uint8_t **result, size_t *result_size, char *err, size_t err_size)
{
    zmsg_t *reply = s_exchange (self, query, err, err_size);
    *reply_p = NULL;
    if (!reply)
        return -1;
    zframe_t *frame = zmsg_first (reply);
    s_span_t ok = { NULL, 0 }, error = { NULL, 0 }, res = { NULL, 0 };
    ds_mpread_t r;
    bool is_ok = false;
    const char *e;
    uint32_t len;
    //  Checked whole before any of it is used.
    if (s_reply_scan (zframe_data (frame), zframe_size (frame), &ok, &error, &res))
        snprintf (err, err_size, "malformed reply from %s", self->endpoint);
    else
    if (!ok.at || (ds_mpread_init (&r, ok.at, ok.size), ds_mpread_bool (&r, &is_ok)) || !is_ok) {
        if (error.at && (ds_mpread_init (&r, error.at, error.size), ds_mpread_str (&r, &e, &len) == 0))
            snprintf (err, err_size, "%.*s", (int) len, e);
        else
            snprintf (err, err_size, "query failed (no reason given)");
    }
    else
    if (!res.at)
        snprintf (err, err_size, "reply from %s has no result", self->endpoint);
    else {
        *result = res.at;
        *result_size = res.size;
        *reply_p = reply;
        return 0;
    }
    zmsg_destroy (&reply);
    return -1;
}

int
ds_client_fetch (void *client, const ds_query_t *query, msgpack_zone *zone,
                 msgpack_object *result, char *err, size_t err_size)
{
    return ds_client_request ((ds_client_t *) client, query, zone, result, err, err_size);
}

//  --------------------------------------------------------------------------
//  Printing

typedef struct {
    FILE *out;
    ds_format_t format;
    int decimals;                   //  for floats in tables
} s_printer_t;

static bool
s_is_number (const msgpack_object *o)
{
    return o->type == MSGPACK_OBJECT_POSITIVE_INTEGER || o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER
        || o->type == MSGPACK_OBJECT_FLOAT32 || o->type == MSGPACK_OBJECT_FLOAT64;
}

static double
s_number (const msgpack_object *o)
{
    switch (o->type) {
        case MSGPACK_OBJECT_POSITIVE_INTEGER: return (double) o->via.u64;
        case MSGPACK_OBJECT_NEGATIVE_INTEGER: return (double) o->via.i64;
        case MSGPACK_OBJECT_FLOAT32:
        case MSGPACK_OBJECT_FLOAT64:          return o->via.f64;
        default:                              return NAN;
    }
}

static const char *
s_str (const msgpack_object *o, char *buf, size_t size)
{
    if (o && o->type == MSGPACK_OBJECT_STR)
        snprintf (buf, size, "%.*s", (int) o->via.str.size, o->via.str.ptr);
    else
        snprintf (buf, size, "?");
    return buf;
}

//  One cell as text.  Floats: `decimals` places in tables, full precision in
//  CSV.  A list of {pp, percent} maps (top_pp) becomes "23/TCP (12.3%), ...".
static void
s_cell (const s_printer_t *p, const msgpack_object *o, char *buf, size_t size)
{
    char tmp [256];
    if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
        snprintf (buf, size, "%llu", (unsigned long long) o->via.u64);
    else
    if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
        snprintf (buf, size, "%lld", (long long) o->via.i64);
    else
    if (o->type == MSGPACK_OBJECT_FLOAT32 || o->type == MSGPACK_OBJECT_FLOAT64) {
        if (p->format == DS_FORMAT_CSV)
            snprintf (buf, size, "%.17g", o->via.f64);
        else
            snprintf (buf, size, "%.*f", p->decimals, o->via.f64);
    }
    else
    if (o->type == MSGPACK_OBJECT_STR)
        s_str (o, buf, size);
    else
    if (o->type == MSGPACK_OBJECT_ARRAY) {
        size_t n = 0;
        buf [0] = 0;
        for (uint32_t i = 0; i < o->via.array.size && n < size; i++) {
            const msgpack_object *e = &o->via.array.ptr [i];
            const msgpack_object *pp = ds_mp_get (e, "pp");
            const msgpack_object *pct = ds_mp_get (e, "percent");
            if (pp && pct)
                n += (size_t) snprintf (buf + n, size - n, "%s%s (%.*f%%)", i ? ", " : "",
                                        s_str (pp, tmp, sizeof tmp), p->decimals, s_number (pct));
            else {
                s_cell (p, e, tmp, sizeof tmp);
                n += (size_t) snprintf (buf + n, size - n, "%s%s", i ? " " : "", tmp);
            }
        }
    }
    else
    if (o->type == MSGPACK_OBJECT_BOOLEAN)
        snprintf (buf, size, "%s", o->via.boolean ? "true" : "false");
    else
        snprintf (buf, size, "-");
}

//  A list of maps as a table (columns from the first row's keys).
static int
s_print_rows (const s_printer_t *p, const msgpack_object *rows)
{
    if (!rows || rows->type != MSGPACK_OBJECT_ARRAY)
        return -1;
    if (rows->via.array.size == 0) {
        if (p->format != DS_FORMAT_CSV)
            fprintf (p->out, "(no rows)\n");
        return 0;
    }
    const msgpack_object *first = &rows->via.array.ptr [0];
    if (first->type != MSGPACK_OBJECT_MAP)
        return -1;
    uint32_t ncols = first->via.map.size;
    if (ncols > 16)
        ncols = 16;
    //  Column widths (tables only).
    int width [16];
    char cell [1024];
    for (uint32_t c = 0; c < ncols; c++)
        width [c] = (int) first->via.map.ptr [c].key.via.str.size;
    if (p->format == DS_FORMAT_TABLE)
        for (uint32_t r = 0; r < rows->via.array.size; r++) {
            const msgpack_object *row = &rows->via.array.ptr [r];
            for (uint32_t c = 0; c < ncols && row->type == MSGPACK_OBJECT_MAP && c < row->via.map.size; c++) {
                s_cell (p, &row->via.map.ptr [c].val, cell, sizeof cell);
                int len = (int) strlen (cell);
                if (len > width [c])
                    width [c] = len > 60 && c + 1 < ncols ? 60 : len;
            }
        }
    for (uint32_t c = 0; c < ncols; c++) {
        char key [64];
        s_str (&first->via.map.ptr [c].key, key, sizeof key);
        if (p->format == DS_FORMAT_CSV) {
            fprintf (p->out, "%s", c ? "," : "");
            ds_text_csv (p->out, key, strlen (key));
        }
        else
            fprintf (p->out, "%s%*s", c ? "  " : "", c + 1 < ncols ? -width [c] : 0, key);
    }
    fputc ('\n', p->out);
    for (uint32_t r = 0; r < rows->via.array.size; r++) {
        const msgpack_object *row = &rows->via.array.ptr [r];
        if (row->type != MSGPACK_OBJECT_MAP)
            return -1;
        for (uint32_t c = 0; c < ncols && c < row->via.map.size; c++) {
            s_cell (p, &row->via.map.ptr [c].val, cell, sizeof cell);
            if (p->format == DS_FORMAT_CSV) {
                fprintf (p->out, "%s", c ? "," : "");
                ds_text_csv (p->out, cell, strlen (cell));
            }
            else {
                bool right = s_is_number (&row->via.map.ptr [c].val);
                if (c + 1 == ncols && !right)
                    fprintf (p->out, "%s%s", c ? "  " : "", cell);
                else
                    fprintf (p->out, "%s%*s", c ? "  " : "", right ? width [c] : -width [c], cell);
            }
        }
        fputc ('\n', p->out);
    }
    return 0;
}

//  The heatmap: services as rows, classes as columns.
static int
s_print_heatmap (const s_printer_t *p, const msgpack_object *heat)
{
    const msgpack_object *classes = ds_mp_get (heat, "classes");
    const msgpack_object *services = ds_mp_get (heat, "services");
    const msgpack_object *fraction = ds_mp_get (heat, "fraction");
    if (!classes || !services || !fraction || classes->type != MSGPACK_OBJECT_ARRAY
    ||  services->type != MSGPACK_OBJECT_ARRAY || fraction->type != MSGPACK_OBJECT_ARRAY
    ||  fraction->via.array.size != services->via.array.size)
        return -1;
    char name [128], cell [64];
    bool csv = p->format == DS_FORMAT_CSV;
    //  Table: each column as wide as the longest class name (no name cut).
    int width = 6;
    for (uint32_t j = 0; j < classes->via.array.size; j++)
        if (classes->via.array.ptr [j].type == MSGPACK_OBJECT_STR
        &&  (int) classes->via.array.ptr [j].via.str.size > width)
            width = (int) classes->via.array.ptr [j].via.str.size;
    if (width > 40)
        width = 40;
    fprintf (p->out, csv ? "service" : "%-12s", "service");
    for (uint32_t j = 0; j < classes->via.array.size; j++) {
        s_str (&classes->via.array.ptr [j], name, sizeof name);
        if (csv) {
            fputc (',', p->out);
            ds_text_csv (p->out, name, strlen (name));      //  a class name may hold a comma
        }
        else
            fprintf (p->out, "  %*s", width, name);
    }
    fputc ('\n', p->out);
    for (uint32_t i = 0; i < services->via.array.size; i++) {
        s_str (&services->via.array.ptr [i], name, sizeof name);
        if (csv)
            ds_text_csv (p->out, name, strlen (name));
        else
            fprintf (p->out, "%-12s", name);
        const msgpack_object *row = &fraction->via.array.ptr [i];
        if (row->type != MSGPACK_OBJECT_ARRAY)
            return -1;
        for (uint32_t j = 0; j < row->via.array.size; j++) {
            s_cell (p, &row->via.array.ptr [j], cell, sizeof cell);
            if (csv)
                fprintf (p->out, ",%s", cell);
            else
                fprintf (p->out, "  %*s", width, cell);
        }
        fputc ('\n', p->out);
    }
    return 0;
}

//  The dataset table as the notebook printed it: last day vs full window.
static int
s_print_dataset (const s_printer_t *p, const msgpack_object *overview)
{
    const msgpack_object *dataset = ds_mp_get (overview, "dataset");
    const msgpack_object *window = ds_mp_get (overview, "window");
    if (!dataset || !window)
        return -1;
    const msgpack_object *scope [2] = { ds_mp_get (dataset, "last_day"), ds_mp_get (dataset, "window") };
    if (!scope [0] || !scope [1])
        return -1;
    char first [16], last [16], head [2][64];
    s_str (ds_mp_get (window, "first_day"), first, sizeof first);
    s_str (ds_mp_get (window, "last_day"), last, sizeof last);
    snprintf (head [0], sizeof head [0], "Last day %s", last);
    snprintf (head [1], sizeof head [1], "Window [%s, %s]", first, last);
    const char *rows [][2] = { { "Sources", "sources" }, { "Packets", "packets" },
                               { "Ports", "ports" }, { "Port/proto pairs", "pp" },
                               { "Top-3 pp (% traffic)", "top_pp" } };
    enum { S_ROWS = sizeof rows / sizeof *rows };
    char cell [S_ROWS][2][512];
    s_printer_t two = *p;
    two.decimals = 2;
    //  The last day's column as wide as its widest cell (the top-3 pairs
    //  with their shares are wider than a count).
    int width = (int) strlen (head [0]);
    for (size_t r = 0; r < S_ROWS; r++) {
        for (int s = 0; s < 2; s++) {
            const msgpack_object *v = ds_mp_get (scope [s], rows [r][1]);
            if (v)
                s_cell (&two, v, cell [r][s], sizeof cell [r][s]);
            else
                snprintf (cell [r][s], sizeof cell [r][s], "-");
        }
        if ((int) strlen (cell [r][0]) > width)
            width = (int) strlen (cell [r][0]);
    }
    fprintf (p->out, "Dataset statistics\n%-24s  %-*s  %s\n", "", width, head [0], head [1]);
    for (size_t r = 0; r < S_ROWS; r++)
        fprintf (p->out, "%-24s  %-*s  %s\n", rows [r][0], width, cell [r][0], cell [r][1]);
    return 0;
}

//  The embedding's projection: a point per row, x, y, its ground-truth
//  class and the class its neighbours vote for, by name.
static int
s_print_projection (const s_printer_t *p, const msgpack_object *o)
{
    const msgpack_object *classes = ds_mp_get (o, "classes");
    const msgpack_object *points = ds_mp_get (o, "points");
    if (!classes || !points || classes->type != MSGPACK_OBJECT_ARRAY
    ||  points->type != MSGPACK_OBJECT_ARRAY)
        return -1;
    bool csv = p->format == DS_FORMAT_CSV;
    uint32_t n = classes->via.array.size;
    //  The class column as wide as the longest name (table only).
    int width = (int) strlen ("class");
    for (uint32_t c = 0; c < n; c++) {
        const msgpack_object *name = &classes->via.array.ptr [c];
        if (name->type != MSGPACK_OBJECT_STR)
            return -1;
        if ((int) name->via.str.size > width)
            width = name->via.str.size > 40 ? 40 : (int) name->via.str.size;
    }
    //  Every point checked before the first line: a bad one gives JSON alone.
    for (uint32_t i = 0; i < points->via.array.size; i++) {
        const msgpack_object *pt = &points->via.array.ptr [i];
        if (pt->type != MSGPACK_OBJECT_ARRAY || pt->via.array.size != 4)
            return -1;
        const msgpack_object *v = pt->via.array.ptr;
        if (!s_is_number (&v [0]) || !s_is_number (&v [1])
        ||  v [2].type != MSGPACK_OBJECT_POSITIVE_INTEGER || v [2].via.u64 >= n
        ||  v [3].type != MSGPACK_OBJECT_POSITIVE_INTEGER || v [3].via.u64 >= n)
            return -1;
    }
    if (csv)
        fprintf (p->out, "x,y,class,predicted\n");
    else
        fprintf (p->out, "%12s  %12s  %-*s  %s\n", "x", "y", width, "class", "predicted");
    for (uint32_t i = 0; i < points->via.array.size; i++) {
        const msgpack_object *v = points->via.array.ptr [i].via.array.ptr;
        const msgpack_object *klass = &classes->via.array.ptr [v [2].via.u64];
        const msgpack_object *predicted = &classes->via.array.ptr [v [3].via.u64];
        if (csv) {
            fprintf (p->out, "%.17g,%.17g,", s_number (&v [0]), s_number (&v [1]));
            ds_text_csv (p->out, klass->via.str.ptr, klass->via.str.size);
            fputc (',', p->out);
            ds_text_csv (p->out, predicted->via.str.ptr, predicted->via.str.size);
            fputc ('\n', p->out);
        }
        else
            fprintf (p->out, "%12.6f  %12.6f  %-*.*s  %.*s\n", s_number (&v [0]), s_number (&v [1]),
                     width, (int) klass->via.str.size, klass->via.str.ptr,
                     (int) predicted->via.str.size, predicted->via.str.ptr);
    }
    return 0;
}

static int
s_print_overview (const s_printer_t *p, const msgpack_object *o)
{
    if (s_print_dataset (p, o))
        return -1;
    const msgpack_object *filter = ds_mp_get (o, "filter");
    const msgpack_object *minp = ds_mp_get (o, "min_packets");
    if (filter && minp) {
        const msgpack_object *kept = ds_mp_get (filter, "sources_kept");
        const msgpack_object *pk = ds_mp_get (filter, "packets_kept");
        if (kept && pk)
            fprintf (p->out, "\nFilter (>= %.0f packets over the window): %.0f sources kept, %.0f packets\n",
                     s_number (minp), s_number (kept), s_number (pk));
    }
    s_printer_t one = *p;
    one.decimals = 1;
    fprintf (p->out, "\nLast day, filtered: ground-truth classes\n");
    if (s_print_rows (&one, ds_mp_get (o, "classes")))
        return -1;
    const msgpack_object *ingest = ds_mp_get (o, "ingest");
    if (ingest && ingest->type == MSGPACK_OBJECT_MAP) {
        fprintf (p->out, "\nIngest:");
        for (uint32_t i = 0; i < ingest->via.map.size; i++) {
            char key [64], val [64];
            s_str (&ingest->via.map.ptr [i].key, key, sizeof key);
            s_cell (p, &ingest->via.map.ptr [i].val, val, sizeof val);
            fprintf (p->out, " %s=%s", key, val);
        }
        fputc ('\n', p->out);
    }
    return 0;
}

//  Which member of a result holds its table, per query.
typedef struct {
    const char *query;
    const char *member;             //  key of the list of rows, or NULL
    int decimals;
} s_view_t;

static const s_view_t s_views [] = {
    { "ports",   "port_ranking", 0 },
    { "ecdf",    "sender_ecdf",  6 },
    { "daily",   "daily",        0 },
    { "classes", "classes",      1 },
    { "knn",       "neighbours", 4 },
    { "classify",  "rows",       3 },
    { "embedding", "per_class",  3 },
    { NULL, NULL, 0 }
};

//  The overview's tables, left out of its CSV (key,value rows of the
//  rest): each is a query of its own with a CSV form.
static const char *const s_overview_tables [] = {
    "port_ranking", "sender_ecdf", "daily", "classes", "heatmap", NULL
};

int
ds_client_print (FILE *out, const char *name, const msgpack_object *result, ds_format_t format)
{
    s_printer_t p = { out, format, 2 };
    int rc = 1;                     //  1: no table form for this query
    if (strcmp (name, "pattern") == 0)
        return ds_pattern_print (out, result, format);     //  its raster has no plain JSON form
    if (format != DS_FORMAT_JSON) {
        if (strcmp (name, "overview") == 0 && format == DS_FORMAT_TABLE)
            rc = s_print_overview (&p, result);
        else
        if (strcmp (name, "overview") == 0)
            rc = ds_status_print_members (out, result, true, s_overview_tables);
        else
        if (strcmp (name, "lookup") == 0)
            rc = ds_status_print_members (out, result, format == DS_FORMAT_CSV, NULL);
        else
        if (strcmp (name, "status") == 0)
            rc = format == DS_FORMAT_CSV ? ds_status_print_csv (out, result) : ds_status_print (out, result);
        else
        if (strcmp (name, "projection") == 0)
            rc = s_print_projection (&p, result);
        else
        if (strcmp (name, "heatmap") == 0) {
            const msgpack_object *heat = ds_mp_get (result, "heatmap");
            rc = s_print_heatmap (&p, heat ? heat : result);
        }
        else
            for (const s_view_t *v = s_views; v->query; v++)
                if (strcmp (v->query, name) == 0) {
                    p.decimals = v->decimals;
                    const msgpack_object *rows = ds_mp_get (result, v->member);
                    rc = s_print_rows (&p, rows ? rows : result);
                }
        if (rc == 0)
            return 0;
        if (rc < 0)
            fprintf (stderr, "darkscope: unexpected shape of the '%s' result; printing JSON\n", name);
        else
        if (format == DS_FORMAT_CSV)
            fprintf (stderr, "darkscope: '%s' has no CSV form; printing JSON\n", name);
    }
    if (ds_json_write (out, result) != 0)
        return -1;
    fputc ('\n', out);
    return rc < 0 ? -1 : 0;
}
