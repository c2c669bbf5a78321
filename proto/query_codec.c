/*  query_codec.c - client queries and replies (DESIGN.md §6); see ds_proto.h.

    Requests are msgpack maps a stock Python or Go binding can write:
    {"v":1, "q":NAME, "args":{...}}.  The arguments a query may carry are a
    table (s_args) that both the encoder and the decoder walk; the decoder
    reads with the bounded cursor and answers every mistake (unknown key,
    wrong type, string too long, duplicate key) with a message naming it.
*/
#include "message.h"
#include "pattern_codec.h"
#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

typedef enum { S_DAY, S_STR, S_INT, S_BOOL } s_arg_type_t;

typedef struct {
    const char *key;                //  key in "args"
    s_arg_type_t type;
    size_t offset;                  //  of the field in ds_query_t
    size_t size;                    //  strings: field size incl. NUL
    int64_t min;                    //  integers: smallest accepted value
    int64_t max;                    //  integers: largest (0: INT64_MAX)
} s_arg_t;

#define S_FIELD(f) offsetof (ds_query_t, f), sizeof ((ds_query_t *) 0)->f
static const s_arg_t s_args [] = {
    { "first_day",   S_DAY, S_FIELD (first_day),   0, 0 },
    { "last_day",    S_DAY, S_FIELD (last_day),    0, 0 },
    { "min_packets", S_INT, S_FIELD (min_packets), 0, 0 },
    { "class",       S_STR, S_FIELD (class_name),  0, 0 },
    { "from_us",     S_INT, S_FIELD (from_us),     INT64_MIN, 0 },
    { "to_us",       S_INT, S_FIELD (to_us),       INT64_MIN, 0 },
    { "bin_s",       S_INT, S_FIELD (bin_s),       1, 0 },
    { "width",       S_INT, S_FIELD (width),       1, DS_PATTERN_SIDE_MAX },
    { "height",      S_INT, S_FIELD (height),      1, DS_PATTERN_SIDE_MAX },
    { "limit",       S_INT, S_FIELD (limit),       0, DS_PATTERN_LIMIT_MAX },
    { "offset",      S_INT, S_FIELD (offset),      0, 0 },
    { "ip",          S_STR, S_FIELD (ip),          0, 0 },
    { "k",           S_INT, S_FIELD (k),           1, 0 },
    { "force",       S_BOOL, S_FIELD (force),      0, 0 },
};
#define S_NARGS (sizeof s_args / sizeof *s_args)

void
ds_query_init (ds_query_t *query)
{
    memset (query, 0, sizeof *query);
    query->min_packets = 10;
    query->from_us = INT64_MIN;
    query->to_us = INT64_MAX;
    query->bin_s = 60;
    query->width = DS_PATTERN_WIDTH_DEFAULT;
    query->height = DS_PATTERN_HEIGHT_DEFAULT;
    query->limit = DS_PATTERN_LIMIT_DEFAULT;
}

static bool
s_is_default (const ds_query_t *query, const ds_query_t *defaults, const s_arg_t *arg)
{
    const char *field = (const char *) query + arg->offset;
    if (arg->type == S_INT)
        return memcmp (field, (const char *) defaults + arg->offset, sizeof (int64_t)) == 0;
    if (arg->type == S_BOOL)
        return !*(const bool *) field;
    return field [0] == 0;
}

//  Byte layout of a request: a msgpack map (a Python dict)
//
//    { "v": 1, "q": NAME, "args": { KEY: VALUE, ... } }
//
//  with only the arguments that differ from their defaults (see PROTOCOL.md
//  for the table): strings for first_day/last_day ("YYYY-MM-DD"), class,
//  ip and part; integers for min_packets, from_us, to_us, bin_s, width,
//  height, limit, offset, k; the boolean force (true only: false is the
//  default).  `out` is emptied first.
int
ds_query_encode (const ds_query_t *query, msgpack_sbuffer *out)
{
    ds_query_t defaults;
    ds_query_init (&defaults);
    uint32_t n_args = 0;
    for (size_t i = 0; i < S_NARGS; i++)
        n_args += !s_is_default (query, &defaults, &s_args [i]);

    msgpack_packer pk;
    ds_msg_writer_t writer;
    ds_msg_packer_init (&pk, &writer, out, 256);
    msgpack_pack_map (&pk, 3);
    msgpack_pack_str_with_body (&pk, "v", 1);
    msgpack_pack_uint8 (&pk, DS_PROTO_VERSION);
    msgpack_pack_str_with_body (&pk, "q", 1);
    msgpack_pack_str_with_body (&pk, query->name, strnlen (query->name, sizeof query->name));
    msgpack_pack_str_with_body (&pk, "args", 4);
    msgpack_pack_map (&pk, n_args);
    for (size_t i = 0; i < S_NARGS; i++) {
        const s_arg_t *arg = &s_args [i];
        if (s_is_default (query, &defaults, arg))
            continue;
        msgpack_pack_str_with_body (&pk, arg->key, strlen (arg->key));
        const char *field = (const char *) query + arg->offset;
        if (arg->type == S_INT) {
            int64_t value;
            memcpy (&value, field, sizeof value);
            msgpack_pack_int64 (&pk, value);
        }
        else
        if (arg->type == S_BOOL)
            msgpack_pack_true (&pk);
        else
            msgpack_pack_str_with_body (&pk, field, strnlen (field, arg->size));
    }
    return writer.failed ? DS_ERR_NOMEM : DS_OK;
}

//  Copies a key for an error message: printable ASCII only, bounded.
static const char *
s_printable (char *buf, size_t size, const char *str, uint32_t len)
{
    size_t n = 0;
    for (uint32_t i = 0; i < len && n + 4 < size; i++)
        buf [n++] = isprint ((unsigned char) str [i]) ? str [i] : '?';
    if (len > 0 && n < len && n + 4 >= size) {
        memcpy (buf + n, "...", 3);
        n += 3;
    }
    buf [n] = 0;
    return buf;
}

//  Reads a string into a char field of field_size bytes.
static int
s_read_string (ds_mpread_t *reader, const char *key, char *field, size_t field_size,
               char *err, size_t err_size)
{
    const char *str;
    uint32_t len;
    if (ds_mpread_str (reader, &str, &len)) {
        snprintf (err, err_size, "\"%s\" must be a string", key);
        return DS_ERR_MALFORMED;
    }
    if (len > field_size - 1) {
        snprintf (err, err_size, "\"%s\" is too long (%u bytes, at most %zu)",
                  key, len, field_size - 1);
        return DS_ERR_MALFORMED;
    }
    if (memchr (str, 0, len)) {
        snprintf (err, err_size, "\"%s\" contains a NUL byte", key);
        return DS_ERR_MALFORMED;
    }
    memcpy (field, str, len);
    field [len] = 0;
    return DS_OK;
}

//  True for "" or text shaped "YYYY-MM-DD".
static bool
s_day_shape (const char *text)
{
    if (!*text)
        return true;
    if (strlen (text) != 10)
        return false;
    for (int i = 0; i < 10; i++)
        if (i == 4 || i == 7 ? text [i] != '-' : !isdigit ((unsigned char) text [i]))
            return false;
    return true;
}

static int
s_read_arg (ds_mpread_t *reader, const s_arg_t *arg, ds_query_t *query,
            char *err, size_t err_size)
{
    char *field = (char *) query + arg->offset;
    if (arg->type == S_INT) {
        int64_t value;
        if (ds_mpread_int (reader, &value)) {
            snprintf (err, err_size, "arg \"%s\" must be an integer", arg->key);
            return DS_ERR_MALFORMED;
        }
        if (value < arg->min) {
            snprintf (err, err_size, "arg \"%s\" must be >= %lld", arg->key, (long long) arg->min);
            return DS_ERR_MALFORMED;
        }
        if (arg->max && value > arg->max) {
            snprintf (err, err_size, "arg \"%s\" must be <= %lld", arg->key, (long long) arg->max);
            return DS_ERR_TOO_BIG;
        }
        memcpy (field, &value, sizeof value);
        return DS_OK;
    }
    if (arg->type == S_BOOL) {
        if (ds_mpread_bool (reader, (bool *) field)) {
            snprintf (err, err_size, "arg \"%s\" must be true or false", arg->key);
            return DS_ERR_MALFORMED;
        }
        return DS_OK;
    }
    int rc = s_read_string (reader, arg->key, field, arg->size, err, err_size);
    if (rc == DS_OK && arg->type == S_DAY && !s_day_shape (field)) {
        snprintf (err, err_size, "arg \"%s\" must be a day YYYY-MM-DD", arg->key);
        return DS_ERR_MALFORMED;
    }
    return rc;
}

static int
s_read_args (ds_mpread_t *reader, ds_query_t *query, char *err, size_t err_size)
{
    uint32_t n;
    if (ds_mpread_peek (reader) != DS_MP_MAP || ds_mpread_map (reader, &n)) {
        snprintf (err, err_size, "\"args\" must be a map");
        return DS_ERR_MALFORMED;
    }
    uint32_t seen = 0;
    for (uint32_t i = 0; i < n; i++) {
        const char *key;
        uint32_t len;
        if (ds_mpread_str (reader, &key, &len)) {
            snprintf (err, err_size, "\"args\" keys must be strings");
            return DS_ERR_MALFORMED;
        }
        size_t a = 0;
        while (a < S_NARGS && !ds_mpread_str_eq (key, len, s_args [a].key))
            a++;
        char text [40];
        if (a == S_NARGS) {
            snprintf (err, err_size, "unknown arg \"%s\"", s_printable (text, sizeof text, key, len));
            return DS_ERR_MALFORMED;
        }
        if (seen & (1u << a)) {
            snprintf (err, err_size, "duplicate arg \"%s\"", s_args [a].key);
            return DS_ERR_MALFORMED;
        }
        seen |= 1u << a;
        int rc = s_read_arg (reader, &s_args [a], query, err, err_size);
        if (rc)
            return rc;
    }
    return DS_OK;
}

//  Decodes a request into query (defaults for absent args).
int
ds_query_decode (const uint8_t *data, size_t size, ds_query_t *query,
                 char *err, size_t err_size)
{
    char dummy [8];
    if (!err || err_size == 0) {
        err = dummy;
        err_size = sizeof dummy;
    }
    err [0] = 0;
    ds_query_init (query);
    if (size > DS_FRAME_CONTROL_MAX) {
        snprintf (err, err_size, "request of %zu bytes exceeds the %u MiB limit",
                  size, DS_FRAME_CONTROL_MAX / DS_MIB);
        return DS_ERR_TOO_BIG;
    }
    ds_mpread_t reader;
    ds_mpread_init (&reader, data, size);
    uint32_t n;
    if (ds_mpread_peek (&reader) != DS_MP_MAP || ds_mpread_map (&reader, &n)) {
        snprintf (err, err_size, "request is not a msgpack map {\"v\":1,\"q\":NAME,\"args\":{...}}");
        return DS_ERR_MALFORMED;
    }
    bool have_v = false, have_q = false, have_args = false;
    for (uint32_t i = 0; i < n; i++) {
        const char *key;
        uint32_t len;
        if (ds_mpread_str (&reader, &key, &len)) {
            snprintf (err, err_size, "request keys must be strings");
            return DS_ERR_MALFORMED;
        }
        int rc = DS_OK;
        bool *have;
        if (ds_mpread_str_eq (key, len, "v")) {
            have = &have_v;
            int64_t version;
            if (ds_mpread_int (&reader, &version)) {
                snprintf (err, err_size, "\"v\" must be an integer");
                rc = DS_ERR_MALFORMED;
            }
            else
            if (version != DS_PROTO_VERSION) {
                snprintf (err, err_size, "unsupported protocol version %lld (this is %d)",
                          (long long) version, DS_PROTO_VERSION);
                rc = DS_ERR_VERSION;
            }
        }
        else
        if (ds_mpread_str_eq (key, len, "q")) {
            have = &have_q;
            rc = s_read_string (&reader, "q", query->name, sizeof query->name, err, err_size);
            if (rc == DS_OK && !query->name [0]) {
                snprintf (err, err_size, "\"q\" must not be empty");
                rc = DS_ERR_MALFORMED;
            }
        }
        else
        if (ds_mpread_str_eq (key, len, "args")) {
            have = &have_args;
            rc = s_read_args (&reader, query, err, err_size);
        }
        else {
            char text [40];
            snprintf (err, err_size, "unknown key \"%s\" (expected v, q, args)",
                      s_printable (text, sizeof text, key, len));
            return DS_ERR_MALFORMED;
        }
        if (rc)
            return rc;
        if (*have) {
            snprintf (err, err_size, "duplicate key \"%.*s\"", (int) len, key);
            return DS_ERR_MALFORMED;
        }
        *have = true;
    }
    if (!have_v || !have_q) {
        snprintf (err, err_size, "request lacks \"%s\"", have_v ? "q" : "v");
        return DS_ERR_MALFORMED;
    }
    if (ds_mpread_left (&reader) != 0) {
        snprintf (err, err_size, "trailing bytes after the request");
        return DS_ERR_MALFORMED;
    }
    return DS_OK;
}

//  Byte layout of a reply: {"v":1, "ok":true, "result":OBJECT}; the caller
//  packs OBJECT right after this.
void
ds_reply_ok_begin (msgpack_packer *pk)
{
    msgpack_pack_map (pk, 3);
    msgpack_pack_str_with_body (pk, "v", 1);
    msgpack_pack_uint8 (pk, DS_PROTO_VERSION);
    msgpack_pack_str_with_body (pk, "ok", 2);
    msgpack_pack_true (pk);
    msgpack_pack_str_with_body (pk, "result", 6);
}

//  Byte layout of an error reply: {"v":1, "ok":false, "error":MESSAGE}.
//  `out` is emptied first.
int
ds_reply_error (msgpack_sbuffer *out, const char *message)
{
    msgpack_packer pk;
    ds_msg_writer_t writer;
    ds_msg_packer_init (&pk, &writer, out, 64 + strlen (message));
    msgpack_pack_map (&pk, 3);
    msgpack_pack_str_with_body (&pk, "v", 1);
    msgpack_pack_uint8 (&pk, DS_PROTO_VERSION);
    msgpack_pack_str_with_body (&pk, "ok", 2);
    msgpack_pack_false (&pk);
    msgpack_pack_str_with_body (&pk, "error", 5);
    msgpack_pack_str_with_body (&pk, message, strlen (message));
    return writer.failed ? DS_ERR_NOMEM : DS_OK;
}

int
ds_reply_parse (const msgpack_object *reply, const msgpack_object **result,
                char *err, size_t err_size)
{
    const msgpack_object *v = ds_mp_get (reply, "v");
    const msgpack_object *ok = ds_mp_get (reply, "ok");
    if (!v || v->type != MSGPACK_OBJECT_POSITIVE_INTEGER || v->via.u64 != DS_PROTO_VERSION
    ||  !ok || ok->type != MSGPACK_OBJECT_BOOLEAN) {
        snprintf (err, err_size, "reply is not {\"v\":1,\"ok\":...}");
        return DS_ERR_MALFORMED;
    }
    if (!ok->via.boolean) {
        const msgpack_object *error = ds_mp_get (reply, "error");
        if (error && error->type == MSGPACK_OBJECT_STR)
            snprintf (err, err_size, "%.*s", (int) error->via.str.size, error->via.str.ptr);
        else
            snprintf (err, err_size, "request failed (no error text)");
        return DS_ERR_MALFORMED;
    }
    *result = ds_mp_get (reply, "result");
    if (!*result) {
        snprintf (err, err_size, "reply lacks \"result\"");
        return DS_ERR_MALFORMED;
    }
    return DS_OK;
}
