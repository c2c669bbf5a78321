/*  http.c - see http.h.  libmicrohttpd does the protocol; this file maps
    paths to the registry, the routes and the static directory. */
#include "http.h"
#include "log.h"
#include <microhttpd.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define S_ROUTES_MAX 8
#define S_FILE_MAX   (16 << 20)     //  largest static file served

struct _ds_http_t {
    ds_metrics_t *metrics;
    ds_metrics_t *owned;            //  made by ds_http_serve, destroyed with us
    struct sockaddr_storage addr;
    socklen_t addr_len;
    char listen [128];
    struct MHD_Daemon *daemon;
    int port;
    struct {
        char prefix [64];
        ds_http_fn *fn;
        void *arg;
    } routes [S_ROUTES_MAX];
    size_t n_routes;
    char *dir;                      //  static files, or NULL
};

struct _ds_http_req_t {
    struct MHD_Connection *connection;
};

//  Content types by file extension.
static const struct {
    const char *ext, *type;
} s_types [] = {
    { ".html", "text/html; charset=utf-8" },
    { ".js",   "text/javascript; charset=utf-8" },
    { ".css",  "text/css; charset=utf-8" },
    { ".json", "application/json" },
    { ".png",  "image/png" },
    { ".svg",  "image/svg+xml" },
    { ".txt",  "text/plain; charset=utf-8" },
};

static int
s_parse_listen (ds_http_t *self, const char *listen, char *err, size_t err_size)
{
    char host [128] = "127.0.0.1", port [16];
    const char *colon = strrchr (listen, ':');
    if (listen [0] == '[') {
        const char *close = strchr (listen, ']');
        if (!close || close [1] != ':' || (size_t) (close - listen - 1) >= sizeof host) {
            snprintf (err, err_size, "bad --http address '%s' (want [V6]:PORT)", listen);
            return -1;
        }
        snprintf (host, sizeof host, "%.*s", (int) (close - listen - 1), listen + 1);
        colon = close + 1;
    }
    else
    if (colon) {
        if ((size_t) (colon - listen) >= sizeof host || colon == listen) {
            snprintf (err, err_size, "bad --http address '%s' (want ADDR:PORT)", listen);
            return -1;
        }
        snprintf (host, sizeof host, "%.*s", (int) (colon - listen), listen);
    }
    snprintf (port, sizeof port, "%s", colon ? colon + 1 : listen);
    char *end;
    long p = strtol (port, &end, 10);
    if (!port [0] || *end || p < 0 || p > 65535) {
        snprintf (err, err_size, "bad --http port in '%s' (want ADDR:PORT, PORT 0..65535)", listen);
        return -1;
    }
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_NUMERICSERV | AI_PASSIVE }, *res = NULL;
    int rc = getaddrinfo (host, port, &hints, &res);
    if (rc || !res) {
        snprintf (err, err_size, "--http address '%s': %s", listen, gai_strerror (rc));
        return -1;
    }
    memcpy (&self->addr, res->ai_addr, res->ai_addrlen);
    self->addr_len = res->ai_addrlen;
    freeaddrinfo (res);
    snprintf (self->listen, sizeof self->listen, "%s", listen);
    return 0;
}

ds_http_t *
ds_http_new (const char *listen, ds_metrics_t *metrics, char *err, size_t err_size)
{
    ds_http_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (err, err_size, "out of memory");
        return NULL;
    }
    if (!listen || s_parse_listen (self, listen, err, err_size)) {
        if (!listen)
            snprintf (err, err_size, "no --http address");
        free (self);
        return NULL;
    }
    self->metrics = metrics;
    return self;
}

void
ds_http_destroy (ds_http_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ds_http_t *self = *self_p;
    if (self->daemon)
        MHD_stop_daemon (self->daemon);
    ds_metrics_destroy (&self->owned);
    free (self->dir);
    free (self);
    *self_p = NULL;
}

int
ds_http_route (ds_http_t *self, const char *prefix, ds_http_fn *fn, void *arg)
{
    if (!self || self->daemon || self->n_routes == S_ROUTES_MAX || strlen (prefix) >= 64)
        return -1;
    snprintf (self->routes [self->n_routes].prefix, 64, "%s", prefix);
    self->routes [self->n_routes].fn = fn;
    self->routes [self->n_routes].arg = arg;
    self->n_routes++;
    return 0;
}

void
ds_http_static (ds_http_t *self, const char *dir)
{
    if (!self || self->daemon)
        return;
    free (self->dir);
    self->dir = dir ? strdup (dir) : NULL;
}

const char *
ds_http_arg (ds_http_req_t *req, const char *name)
{
    return req ? MHD_lookup_connection_value (req->connection, MHD_GET_ARGUMENT_KIND, name) : NULL;
}

//  Reads a static file for path; 404 for anything outside the directory
//  (only [A-Za-z0-9._-/], no "..", no hidden files).
static int
s_static (ds_http_t *self, const char *path, char **body, size_t *size, const char **type)
{
    if (!self->dir)
        return 404;
    if (strcmp (path, "/") == 0)
        path = "/index.html";
    for (const char *p = path; *p; p++)
        if (!(*p == '/' || *p == '.' || *p == '-' || *p == '_'
           || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')))
            return 404;
    if (strstr (path, "/.") || strlen (path) > 200)
        return 404;
    char file [4096];
    snprintf (file, sizeof file, "%s%s", self->dir, path);
    int fd = open (file, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat (fd, &st) || !S_ISREG (st.st_mode) || st.st_size > S_FILE_MAX) {
        if (fd >= 0)
            close (fd);
        return 404;
    }
    char *data = malloc ((size_t) st.st_size + 1);
    ssize_t got = data ? read (fd, data, (size_t) st.st_size) : -1;
    close (fd);
    if (got != st.st_size) {
        free (data);
        return 500;
    }
    *body = data;
    *size = (size_t) got;
    *type = "application/octet-stream";
    size_t len = strlen (path);
    for (size_t i = 0; i < sizeof s_types / sizeof *s_types; i++) {
        size_t el = strlen (s_types [i].ext);
        if (len >= el && strcmp (path + len - el, s_types [i].ext) == 0)
            *type = s_types [i].type;
    }
    return 200;
}

static char *
s_strdup_or (char *text, const char *fallback)
{
    return text ? text : strdup (fallback);
}

static enum MHD_Result
s_answer (void *cls, struct MHD_Connection *connection, const char *url, const char *method,
          const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
    (void) version;
    (void) upload_data;
    (void) con_cls;
    ds_http_t *self = cls;
    char *body = NULL;
    size_t size = 0;
    const char *type = "text/plain; charset=utf-8";
    int status = 404;
    if (*upload_data_size)
        return MHD_NO;              //  no request bodies here
    if (strcmp (method, "GET") != 0 && strcmp (method, "HEAD") != 0) {
        status = 405;
        body = strdup ("only GET and HEAD\n");
    }
    else
    if (strcmp (url, "/metrics") == 0 && self->metrics) {
        body = ds_metrics_render (self->metrics);
        status = body ? 200 : 500;
        type = "text/plain; version=0.0.4; charset=utf-8";
    }
    else
    if (strcmp (url, "/healthz") == 0 || strcmp (url, "/readyz") == 0) {
        char *text = NULL;
        bool ok = url [1] == 'h' ? ds_metrics_healthy (self->metrics, &text)
                                 : ds_metrics_ready (self->metrics, &text);
        status = ok ? 200 : 503;
        size_t n = text ? strlen (text) : 0;
        body = malloc (n + 16);
        if (body)
            snprintf (body, n + 16, "%s\n%s", ok ? (url [1] == 'h' ? "ok" : "ready") : "not ok",
                      text ? text : "");
        free (text);
    }
    else {
        size_t r = 0;
        while (r < self->n_routes && strncmp (url, self->routes [r].prefix, strlen (self->routes [r].prefix)) != 0)
            r++;
        if (r < self->n_routes) {
            ds_http_req_t req = { connection };
            status = self->routes [r].fn (self->routes [r].arg, &req, url, &body, &size, &type);
        }
        else
            status = s_static (self, url, &body, &size, &type);
        if (status == 404 && !body)
            body = strdup ("not found\n");
    }
    body = s_strdup_or (body, "");
    if (!size)
        size = strlen (body);
    struct MHD_Response *response = MHD_create_response_from_buffer (size, body, MHD_RESPMEM_MUST_FREE);
    if (!response) {
        free (body);
        return MHD_NO;
    }
    MHD_add_response_header (response, "Content-Type", type);
    MHD_add_response_header (response, "Cache-Control", "no-store");
    enum MHD_Result rc = MHD_queue_response (connection, (unsigned) status, response);
    MHD_destroy_response (response);
    return rc;
}

int
ds_http_start (ds_http_t *self, char *err, size_t err_size)
{
    if (!self || self->daemon)
        return -1;
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD;
    if (self->addr.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    //  The server's threads inherit a mask with every signal blocked: the
    //  process's signals stay with its main thread (signals.h).
    sigset_t all, old;
    sigfillset (&all);
    pthread_sigmask (SIG_BLOCK, &all, &old);
    errno = 0;
    self->daemon = MHD_start_daemon (flags, 0, NULL, NULL, s_answer, self,
                                     MHD_OPTION_SOCK_ADDR, (struct sockaddr *) &self->addr,
                                     MHD_OPTION_CONNECTION_LIMIT, (unsigned) 64,
                                     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned) 30,
                                     MHD_OPTION_END);
    int saved = errno;
    pthread_sigmask (SIG_SETMASK, &old, NULL);
    if (!self->daemon) {
        snprintf (err, err_size, "cannot listen on %s: %s", self->listen,
                  saved ? strerror (saved) : "libmicrohttpd refused");
        return -1;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info (self->daemon, MHD_DAEMON_INFO_BIND_PORT);
    self->port = info ? info->port : 0;
    return 0;
}

int
ds_http_port (ds_http_t *self)
{
    return self ? self->port : 0;
}

ds_metrics_t *
ds_http_metrics (ds_http_t *self)
{
    return self ? self->metrics : NULL;
}

ds_http_t *
ds_http_prepare (const char *listen)
{
    char err [256] = "out of memory";
    ds_metrics_t *metrics = ds_metrics_new ();
    ds_http_t *self = metrics ? ds_http_new (listen, metrics, err, sizeof err) : NULL;
    if (self)
        self->owned = metrics;
    else {
        ds_metrics_destroy (&metrics);
        ds_log_error ("%s", err);
    }
    return self;
}

int
ds_http_launch (ds_http_t *self)
{
    char err [256];
    if (!self || ds_http_start (self, err, sizeof err)) {
        ds_log_error ("%s", self ? err : "no http server");
        return -1;
    }
    ds_log_info ("http on %s (port %d): /metrics /healthz /readyz%s", self->listen, self->port,
                 self->n_routes || self->dir ? " and the dashboard" : "");
    return 0;
}

ds_http_t *
ds_http_serve (const char *listen)
{
    ds_http_t *self = ds_http_prepare (listen);
    if (self && ds_http_launch (self))
        ds_http_destroy (&self);
    return self;
}
