/*  services.c - the service table; see services.h.

    The JSON reader is deliberately small and strict: one object whose keys
    and values are strings, standard escapes, nothing else.  Errors name
    origin:line.  A key must be "<port>/<proto>" with port 0..65535 or "-"
    and proto one of tcp, udp, icmp, gre, oth (any case).  A key that repeats
    with the same value is tolerated; with another value it is an error
    (two readings would give two tables).
*/
#include "services.h"
#include "batch.h"
#include "record.h"
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_ROWS 65537                //  ports 0..65535, then port "-"
#define S_NONE_ROW 65536

struct _ds_services_t {
    uint16_t *ids;                  //  [DS_PROTO_COUNT][S_ROWS]
    uint8_t *set;                   //  same shape: 1 if the file named it
    char **names;
    uint32_t n_names;
    size_t entries;
};

static const char *s_proto_names [DS_PROTO_COUNT] = { "tcp", "udp", "icmp", "gre", "oth" };

//  Fallback classes, in the order they enter the dictionary.
enum { S_ICMP, S_UNK_SYS, S_UNK_USR, S_UNK_EPH, S_FALLBACKS };
static const char *s_fallback_names [S_FALLBACKS] = { "icmp", "unk_sys", "unk_usr", "unk_eph" };

static int
s_intern (ds_services_t *self, const char *name)
{
    for (uint32_t i = 0; i < self->n_names; i++)
        if (strcmp (self->names [i], name) == 0)
            return (int) i;
    if (self->n_names >= DS_DICT_MAX)
        return -1;
    char **bigger = realloc (self->names, (self->n_names + 1) * sizeof *bigger);
    if (!bigger)
        return -1;
    self->names = bigger;
    if (!(bigger [self->n_names] = strdup (name)))
        return -1;
    return (int) self->n_names++;
}

void
ds_services_destroy (ds_services_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ds_services_t *self = *self_p;
    for (uint32_t i = 0; i < self->n_names; i++)
        free (self->names [i]);
    free (self->names);
    free (self->ids);
    free (self->set);
    free (self);
    *self_p = NULL;
}

//  --------------------------------------------------------------------------
//  JSON reading

typedef struct {
    const char *p, *end;
    const char *origin;
    unsigned line;
    char *err;
    size_t err_size;
} s_reader_t;

static int
s_fail (s_reader_t *r, const char *what)
{
    snprintf (r->err, r->err_size, "%s:%u: %s", r->origin, r->line, what);
    return -1;
}

static void
s_skip_ws (s_reader_t *r)
{
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\r' || *r->p == '\n')) {
        if (*r->p == '\n')
            r->line++;
        r->p++;
    }
}

static int
s_hex4 (s_reader_t *r, unsigned *value)
{
    if (r->end - r->p < 4)
        return s_fail (r, "truncated \\u escape");
    *value = 0;
    for (int i = 0; i < 4; i++) {
        int c = (unsigned char) *r->p++;
        if (!isxdigit (c))
            return s_fail (r, "bad \\u escape");
        *value = *value * 16 + (unsigned) (isdigit (c) ? c - '0' : tolower (c) - 'a' + 10);
    }
    return 0;
}

//  Reads a JSON string into buf (at most size-1 bytes, else an error).
static int
s_string (s_reader_t *r, char *buf, size_t size)
{
    if (r->p >= r->end || *r->p != '"')
        return s_fail (r, "expected a string");
    r->p++;
    size_t n = 0;
    while (true) {
        if (r->p >= r->end)
            return s_fail (r, "unterminated string");
        unsigned c = (unsigned char) *r->p++;
        if (c == '"')
            break;
        if (c < 0x20)
            return s_fail (r, "control character in a string");
        char out [4];
        size_t out_n = 1;
        out [0] = (char) c;
        if (c == '\\') {
            if (r->p >= r->end)
                return s_fail (r, "unterminated string");
            c = (unsigned char) *r->p++;
            switch (c) {
                case '"': case '\\': case '/': out [0] = (char) c; break;
                case 'b': out [0] = '\b'; break;
                case 'f': out [0] = '\f'; break;
                case 'n': out [0] = '\n'; break;
                case 'r': out [0] = '\r'; break;
                case 't': out [0] = '\t'; break;
                case 'u': {
                    unsigned u;
                    if (s_hex4 (r, &u))
                        return -1;
                    if (u == 0 || (u >= 0xd800 && u <= 0xdfff))
                        return s_fail (r, "\\u0000 and surrogate escapes are not accepted");
                    if (u < 0x80)
                        out [0] = (char) u;
                    else
                    if (u < 0x800) {
                        out [0] = (char) (0xc0 | (u >> 6));
                        out [1] = (char) (0x80 | (u & 0x3f));
                        out_n = 2;
                    }
                    else {
                        out [0] = (char) (0xe0 | (u >> 12));
                        out [1] = (char) (0x80 | ((u >> 6) & 0x3f));
                        out [2] = (char) (0x80 | (u & 0x3f));
                        out_n = 3;
                    }
                    break;
                }
                default:
                    return s_fail (r, "bad escape in a string");
            }
        }
        if (n + out_n >= size)
            return s_fail (r, "string too long");
        memcpy (buf + n, out, out_n);
        n += out_n;
    }
    buf [n] = 0;
    return 0;
}

//  "port/proto" -> row and proto; -1 if the key is not a pp.
static int
s_parse_key (const char *key, unsigned *row, int *proto)
{
    const char *slash = strchr (key, '/');
    if (!slash || slash == key)
        return -1;
    if (slash - key == 1 && key [0] == '-')
        *row = S_NONE_ROW;
    else {
        unsigned long port = 0;
        for (const char *c = key; c < slash; c++) {
            if (!isdigit ((unsigned char) *c) || slash - key > 5)
                return -1;
            port = port * 10 + (unsigned long) (*c - '0');
        }
        if (port > 65535)
            return -1;
        *row = (unsigned) port;
    }
    for (int p = 0; p < DS_PROTO_COUNT; p++)
        if (strcasecmp (slash + 1, s_proto_names [p]) == 0) {
            *proto = p;
            return 0;
        }
    return -1;
}

static bool
s_valid_name (const char *name)
{
    if (!*name)
        return false;
    for (const char *c = name; *c; c++)
        if ((unsigned char) *c <= ' ' || *c == 0x7f || *c == '"')
            return false;
    return true;
}

static ds_services_t *
s_new (void)
{
    ds_services_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->ids = calloc ((size_t) DS_PROTO_COUNT * S_ROWS, sizeof *self->ids);
    self->set = calloc ((size_t) DS_PROTO_COUNT * S_ROWS, 1);
    if (!self->ids || !self->set)
        ds_services_destroy (&self);
    return self;
}

ds_services_t *
ds_services_parse (const char *text, size_t size, const char *origin,
                   char *err, size_t err_size)
{
    ds_services_t *self = s_new ();
    if (!self) {
        snprintf (err, err_size, "%s: out of memory", origin);
        return NULL;
    }
    s_reader_t r = { text, text + size, origin, 1, err, err_size };
    int rc = 0;
    s_skip_ws (&r);
    if (r.p >= r.end || *r.p != '{')
        rc = s_fail (&r, "expected a JSON object ({\"23/tcp\": \"telnet\", ...})");
    else
        r.p++;
    s_skip_ws (&r);
    bool first = true;
    while (rc == 0) {
        if (r.p < r.end && *r.p == '}' && first) {
            r.p++;
            break;
        }
        char key [32], value [DS_NAME_MAX];
        unsigned key_line = r.line;
        if (s_string (&r, key, sizeof key)) {
            rc = -1;
            break;
        }
        s_skip_ws (&r);
        if (r.p >= r.end || *r.p != ':') {
            rc = s_fail (&r, "expected ':' after a key");
            break;
        }
        r.p++;
        s_skip_ws (&r);
        if (r.p < r.end && *r.p != '"') {
            rc = s_fail (&r, "a value must be a string (the service class)");
            break;
        }
        if (s_string (&r, value, sizeof value)) {
            rc = -1;
            break;
        }
        unsigned row;
        int proto;
        char why [160];
        if (s_parse_key (key, &row, &proto)) {
            snprintf (why, sizeof why, "key '%s' is not \"<port>/<proto>\" (port 0-65535 or -, "
                      "proto tcp/udp/icmp/gre/oth)", key);
            r.line = key_line;
            rc = s_fail (&r, why);
            break;
        }
        if (!s_valid_name (value)) {
            snprintf (why, sizeof why, "bad service name '%s' for '%s'", value, key);
            rc = s_fail (&r, why);
            break;
        }
        int id = s_intern (self, value);
        if (id < 0) {
            rc = s_fail (&r, "too many service names");
            break;
        }
        size_t at = (size_t) proto * S_ROWS + row;
        if (self->set [at] && self->ids [at] != id) {
            snprintf (why, sizeof why, "key '%s' repeats with another service ('%s', was '%s')",
                      key, value, self->names [self->ids [at]]);
            rc = s_fail (&r, why);
            break;
        }
        if (!self->set [at])
            self->entries++;
        self->set [at] = 1;
        self->ids [at] = (uint16_t) id;
        first = false;
        s_skip_ws (&r);
        if (r.p < r.end && *r.p == ',') {
            r.p++;
            s_skip_ws (&r);
            continue;
        }
        if (r.p < r.end && *r.p == '}') {
            r.p++;
            break;
        }
        rc = s_fail (&r, "expected ',' or '}'");
    }
    if (rc == 0) {
        s_skip_ws (&r);
        if (r.p != r.end)
            rc = s_fail (&r, "text after the object");
    }
    //  Fallbacks for every pp the file did not name.
    int fallback [S_FALLBACKS];
    for (int i = 0; i < S_FALLBACKS && rc == 0; i++)
        if ((fallback [i] = s_intern (self, s_fallback_names [i])) < 0)
            rc = s_fail (&r, "too many service names");
    for (int p = 0; p < DS_PROTO_COUNT && rc == 0; p++)
        for (unsigned row = 0; row < S_ROWS; row++) {
            size_t at = (size_t) p * S_ROWS + row;
            if (self->set [at])
                continue;
            int kind = row == S_NONE_ROW ? S_ICMP : row < 1024 ? S_UNK_SYS
                     : row < 49152 ? S_UNK_USR : S_UNK_EPH;
            self->ids [at] = (uint16_t) fallback [kind];
        }
    if (rc)
        ds_services_destroy (&self);
    return self;
}

ds_services_t *
ds_services_load (const char *path, char *err, size_t err_size)
{
    if (!path)
        return ds_services_parse (ds_services_default_json, strlen (ds_services_default_json),
                                  "services.json (built in)", err, err_size);
    FILE *file = fopen (path, "rb");
    if (!file) {
        snprintf (err, err_size, "%s: %s", path, strerror (errno));
        return NULL;
    }
    enum { MAX = 16 * 1024 * 1024 };
    char *text = malloc (MAX);
    size_t size = text ? fread (text, 1, MAX, file) : 0;
    bool too_big = text && size == MAX && fgetc (file) != EOF;
    int read_error = ferror (file);
    fclose (file);
    ds_services_t *self = NULL;
    if (!text)
        snprintf (err, err_size, "%s: out of memory", path);
    else
    if (read_error)
        snprintf (err, err_size, "%s: read error", path);
    else
    if (too_big)
        snprintf (err, err_size, "%s: larger than %d bytes", path, MAX);
    else
        self = ds_services_parse (text, size, path, err, err_size);
    free (text);
    return self;
}

//  --------------------------------------------------------------------------
//  Lookup

uint16_t
ds_services_lookup (const ds_services_t *self, int32_t port, int proto)
{
    unsigned row = port < 0 || port > 65535 ? S_NONE_ROW : (unsigned) port;
    if (proto < 0 || proto >= DS_PROTO_COUNT)
        proto = DS_PROTO_OTH;
    return self->ids [(size_t) proto * S_ROWS + row];
}

void
ds_services_lookup_many (const ds_services_t *self, const int32_t *port,
                         const uint8_t *proto, uint32_t n, uint16_t *service_id)
{
    for (uint32_t i = 0; i < n; i++)
        service_id [i] = ds_services_lookup (self, port [i], proto [i]);
}

const char *const *
ds_services_names (const ds_services_t *self)
{
    return (const char *const *) self->names;
}

uint32_t
ds_services_count (const ds_services_t *self)
{
    return self->n_names;
}

size_t
ds_services_entries (const ds_services_t *self)
{
    return self->entries;
}
