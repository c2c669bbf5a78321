/*  darkvec.c - DarkVec text log reader; see darkvec.h.

    Lines are split in a 1 MiB buffer filled by gzread (zlib reads plain
    files transparently); no allocation per line.  Field rules (stricter
    reading where DESIGN.md is silent, each tested in test_ingest.c):
    - a data line must have exactly as many fields as the header;
    - ts: digits[.digits], truncated to microseconds;
    - proto: decimal 0..255; dst_port: decimal 0..65535 or "-", kept only
      for protocols that carry a port (TCP, UDP, SCTP, DCCP, UDP-Lite),
      otherwise the record's port is "-";
    - src_ip: an IPv4/IPv6 address, else a token mapped by ds_addr_from_token;
    - mirai: "1"/"1.0" sets DS_FLAG_MIRAI; "0", "0.0", "-" or empty do not;
      anything else is a bad line;
    - a blank line, or one longer than the 1 MiB buffer, is a bad line; a
      "\r" before the newline is accepted (CRLF files).
*/
#include "darkvec.h"
#include "log.h"
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define S_BUF_SIZE     (1 << 20)
#define S_MAX_FIELDS   64
#define S_SHOW_BAD     10           //  bad lines shown in full per file

typedef struct {
    const char *p;
    size_t len;
} s_field_t;

struct ds_darkvec_t {
    char *path;
    gzFile gz;
    char *buf;                      //  S_BUF_SIZE bytes
    size_t start, end;              //  unread bytes are buf[start..end)
    bool eof;
    uint64_t line;                  //  number of the last line returned
    uint64_t bad;                   //  bad lines in this file
    char sep;                       //  ',' or ' ' (runs of blanks)
    int n_fields;                   //  fields in the header
    int col_ts, col_src, col_port, col_proto, col_mirai;
};

//  Returns the next line (without its newline) or NULL at end of file.
//  A line that does not fit in the buffer is returned truncated with
//  *too_long set; the rest of it is skipped.
static char *
s_next_line (ds_darkvec_t *self, size_t *len, bool *too_long, int *error)
{
    *too_long = false;
    while (true) {
        char *nl = memchr (self->buf + self->start, '\n', self->end - self->start);
        if (nl) {
            char *line = self->buf + self->start;
            *len = (size_t) (nl - line);
            self->start += *len + 1;
            self->line++;
            return line;
        }
        if (self->eof) {
            if (self->start == self->end)
                return NULL;
            char *line = self->buf + self->start;
            *len = self->end - self->start;
            self->start = self->end;
            self->line++;
            return line;
        }
        if (self->start == 0 && self->end == S_BUF_SIZE) {
            //  Overlong line: drop bytes up to its newline.
            *too_long = true;
            while (true) {
                int n = gzread (self->gz, self->buf, S_BUF_SIZE);
                if (n <= 0) {
                    self->eof = true;
                    self->start = self->end = 0;
                    break;
                }
                char *end = memchr (self->buf, '\n', (size_t) n);
                if (end) {
                    self->start = (size_t) (end - self->buf) + 1;
                    self->end = (size_t) n;
                    break;
                }
            }
            self->line++;
            *len = 0;
            return self->buf;
        }
        memmove (self->buf, self->buf + self->start, self->end - self->start);
        self->end -= self->start;
        self->start = 0;
        int n = gzread (self->gz, self->buf + self->end, (unsigned) (S_BUF_SIZE - self->end));
        if (n < 0) {
            int zerr;
            const char *msg = gzerror (self->gz, &zerr);
            ds_log_error ("%s: read error: %s", self->path,
                          zerr == Z_ERRNO ? strerror (errno) : msg);
            *error = 1;
            return NULL;
        }
        if (n == 0)
            self->eof = true;
        self->end += (size_t) n;
    }
}

static int
s_split (ds_darkvec_t *self, char *line, size_t len, s_field_t *fields)
{
    if (len && line [len - 1] == '\r')
        len--;
    int n = 0;
    size_t i = 0;
    if (self->sep == ',') {
        size_t from = 0;
        for (i = 0; i <= len; i++)
            if (i == len || line [i] == ',') {
                if (n == S_MAX_FIELDS)
                    return -1;
                fields [n++] = (s_field_t) { line + from, i - from };
                from = i + 1;
            }
        return n;
    }
    while (i < len) {
        while (i < len && (line [i] == ' ' || line [i] == '\t'))
            i++;
        if (i == len)
            break;
        size_t from = i;
        while (i < len && line [i] != ' ' && line [i] != '\t')
            i++;
        if (n == S_MAX_FIELDS)
            return -1;
        fields [n++] = (s_field_t) { line + from, i - from };
    }
    return n;
}

static bool
s_field_is (const s_field_t *f, const char *text)
{
    return f->len == strlen (text) && memcmp (f->p, text, f->len) == 0;
}

//  Parses an unsigned decimal of at most max; -1 if not one.
static int64_t
s_uint (const s_field_t *f, int64_t max)
{
    if (f->len == 0 || f->len > 10)
        return -1;
    int64_t v = 0;
    for (size_t i = 0; i < f->len; i++) {
        if (f->p [i] < '0' || f->p [i] > '9')
            return -1;
        v = v * 10 + (f->p [i] - '0');
    }
    return v <= max ? v : -1;
}

int
ds_darkvec_parse_ts (const char *text, size_t len, int64_t *ts_us)
{
    size_t i = 0;
    int64_t secs = 0;
    int digits = 0;
    while (i < len && text [i] >= '0' && text [i] <= '9') {
        if (++digits > 12)
            return -1;
        secs = secs * 10 + (text [i++] - '0');
    }
    if (digits == 0)
        return -1;
    int64_t frac = 0;
    int frac_digits = 0;
    if (i < len && text [i] == '.') {
        i++;
        while (i < len && text [i] >= '0' && text [i] <= '9') {
            if (frac_digits < 6) {
                frac = frac * 10 + (text [i] - '0');
                frac_digits++;
            }
            i++;
        }
    }
    if (i != len)
        return -1;
    for (; frac_digits < 6; frac_digits++)
        frac *= 10;
    *ts_us = secs * 1000000 + frac;
    return 0;
}

ds_darkvec_t *
ds_darkvec_open (const char *path, char *err, size_t err_size)
{
    ds_darkvec_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (err, err_size, "%s: out of memory", path);
        return NULL;
    }
    self->path = strdup (path);
    self->buf = malloc (S_BUF_SIZE);
    self->col_ts = self->col_src = self->col_port = self->col_proto = self->col_mirai = -1;
    if (!self->path || !self->buf) {
        snprintf (err, err_size, "%s: out of memory", path);
        ds_darkvec_destroy (&self);
        return NULL;
    }
    self->gz = gzopen (path, "rb");
    if (!self->gz) {
        snprintf (err, err_size, "%s: cannot open: %s", path, strerror (errno));
        ds_darkvec_destroy (&self);
        return NULL;
    }
    gzbuffer (self->gz, 256 * 1024);
    size_t len;
    bool too_long;
    int error = 0;
    char *line = s_next_line (self, &len, &too_long, &error);
    if (!line || too_long) {
        snprintf (err, err_size, "%s: %s", path,
                  error ? "read error" : too_long ? "header line too long" : "empty file, no header line");
        ds_darkvec_destroy (&self);
        return NULL;
    }
    self->sep = memchr (line, ',', len) ? ',' : ' ';
    s_field_t fields [S_MAX_FIELDS];
    int n = s_split (self, line, len, fields);
    if (n < 0) {
        snprintf (err, err_size, "%s:1: more than %d header columns", path, S_MAX_FIELDS);
        ds_darkvec_destroy (&self);
        return NULL;
    }
    self->n_fields = n;
    static const struct { const char *name; size_t offset; } columns [] = {
        { "ts",       offsetof (ds_darkvec_t, col_ts) },
        { "src_ip",   offsetof (ds_darkvec_t, col_src) },
        { "dst_port", offsetof (ds_darkvec_t, col_port) },
        { "proto",    offsetof (ds_darkvec_t, col_proto) },
        { "mirai",    offsetof (ds_darkvec_t, col_mirai) },
    };
    for (int i = 0; i < n; i++)
        for (size_t c = 0; c < sizeof columns / sizeof columns [0]; c++) {
            int *col = (int *) ((char *) self + columns [c].offset);
            if (*col < 0 && s_field_is (&fields [i], columns [c].name))
                *col = i;
        }
    for (size_t c = 0; c < 4; c++)
        if (*(int *) ((char *) self + columns [c].offset) < 0) {
            snprintf (err, err_size, "%s:1: header has no '%s' column "
                      "(need ts, src_ip, dst_port, proto)", path, columns [c].name);
            ds_darkvec_destroy (&self);
            return NULL;
        }
    return self;
}

void
ds_darkvec_destroy (ds_darkvec_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ds_darkvec_t *self = *self_p;
    if (self->bad > S_SHOW_BAD)
        ds_log_warn ("%s: %llu bad lines in all (%llu not shown)", self->path,
                     (unsigned long long) self->bad,
                     (unsigned long long) (self->bad - S_SHOW_BAD));
    if (self->gz)
        gzclose (self->gz);
    free (self->buf);
    free (self->path);
    free (self);
    *self_p = NULL;
}

static int
s_bad (ds_darkvec_t *self, const char *line, size_t len, const char *why)
{
    self->bad++;
    if (self->bad <= S_SHOW_BAD)
        ds_log_warn ("%s:%llu: bad line (%s): %.*s", self->path,
                     (unsigned long long) self->line, why,
                     (int) (len > 200 ? 200 : len), line);
    return DS_DARKVEC_BAD;
}

//  Protocols whose transport header has a destination port (DESIGN §2).
static bool
s_has_port (int64_t ipproto)
{
    return ipproto == 6 || ipproto == 17 || ipproto == 132 || ipproto == 33
        || ipproto == 136;
}

int
ds_darkvec_next (ds_darkvec_t *self, ds_record_t *rec)
{
    size_t len;
    bool too_long;
    int error = 0;
    char *line = s_next_line (self, &len, &too_long, &error);
    if (!line)
        return error ? DS_DARKVEC_ERROR : DS_DARKVEC_END;
    if (too_long)
        return s_bad (self, "", 0, "line too long");
    s_field_t fields [S_MAX_FIELDS];
    int n = s_split (self, line, len, fields);
    if (n != self->n_fields) {
        char why [64];
        snprintf (why, sizeof why, "%d fields, header has %d", n, self->n_fields);
        return s_bad (self, line, len, why);
    }
    if (ds_darkvec_parse_ts (fields [self->col_ts].p, fields [self->col_ts].len, &rec->ts))
        return s_bad (self, line, len, "ts is not a decimal number");
    int64_t ipproto = s_uint (&fields [self->col_proto], 255);
    if (ipproto < 0)
        return s_bad (self, line, len, "proto is not a number 0-255");
    rec->proto = (uint8_t) ds_proto_from_ipproto ((int) ipproto);
    const s_field_t *port = &fields [self->col_port];
    rec->port = DS_PORT_NONE;
    if (!s_field_is (port, "-")) {
        int64_t v = s_uint (port, 65535);
        if (v < 0)
            return s_bad (self, line, len, "dst_port is neither a port nor '-'");
        if (s_has_port (ipproto))
            rec->port = (int32_t) v;
    }
    const s_field_t *src = &fields [self->col_src];
    if (src->len == 0)
        return s_bad (self, line, len, "empty src_ip");
    char text [64];
    if (src->len < sizeof text) {
        memcpy (text, src->p, src->len);
        text [src->len] = 0;
    }
    if (src->len >= sizeof text || ds_addr_parse (&rec->src, text) != 0)
        ds_addr_from_token (&rec->src, src->p, src->len);
    rec->flags = 0;
    if (self->col_mirai >= 0) {
        const s_field_t *m = &fields [self->col_mirai];
        if (s_field_is (m, "1") || s_field_is (m, "1.0"))
            rec->flags = DS_FLAG_MIRAI;
        else
        if (!(m->len == 0 || s_field_is (m, "0") || s_field_is (m, "0.0") || s_field_is (m, "-")))
            return s_bad (self, line, len, "mirai is not 0/1");
    }
    return DS_DARKVEC_RECORD;
}

uint64_t
ds_darkvec_offset (ds_darkvec_t *self)
{
    z_off_t off = gzoffset (self->gz);
    return off > 0 ? (uint64_t) off : 0;
}
