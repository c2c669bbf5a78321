/*  client.h - the query client of `darkscope query` and `darkscope report`.

    Speaks the §6 request/reply maps to a darkscope-query front door (or to
    an embedded one over inproc://) and prints results as aligned tables
    (rounded as DarkVec printed them), JSON or CSV.
*/
#ifndef DS_CLIENT_H
#define DS_CLIENT_H

#include <stdio.h>
#include "ds_proto.h"
#include <czmq.h>

typedef enum { DS_FORMAT_TABLE, DS_FORMAT_JSON, DS_FORMAT_CSV } ds_format_t;

typedef struct _ds_client_t ds_client_t;

//  Connects a REQ socket to endpoint.  A request waits timeout_ms (<= 0:
//  10 s) for its reply, but at most 2 s (or timeout_ms if shorter) for a
//  connection: nothing listening at endpoint fails fast.  Caller destroys.
ds_client_t *ds_client_new (const char *endpoint, int timeout_ms);

//  Destroys a client; NULL-safe; nulls the caller's pointer.
void ds_client_destroy (ds_client_t **self_p);

//  Sends query and waits for the reply.  On success *result is the reply's
//  "result" object, allocated in zone; returns 0.  On failure (no
//  connection, timeout, bad reply, ok:false) writes the reason into err and returns -1.  After a
//  timeout the socket is recreated so the client stays usable.
int ds_client_request (ds_client_t *self, const ds_query_t *query, msgpack_zone *zone,
                       msgpack_object *result, char *err, size_t err_size);

//  ds_client_request without unpacking: on success *result points at the
//  msgpack bytes of the reply's "result" (*result_size of them), inside
//  *reply, which the caller destroys (zmsg_destroy); the whole reply was
//  validated (ds_mp_validate).  Failures as ds_client_request (*reply NULL).
int ds_client_request_raw (ds_client_t *self, const ds_query_t *query, zmsg_t **reply,
                           const uint8_t **result, size_t *result_size, char *err, size_t err_size);

//  The byte range (*value, *value_size) of the value under key in the
//  msgpack map that fills data [0, size), validated bytes such as a raw
//  result; false if it is not a map or has no such key.
bool ds_client_mp_get (const uint8_t *data, size_t size, const char *key,
                       const uint8_t **value, size_t *value_size);

//  ds_client_request with the client as an opaque context: the signature of
//  ds_report_fetch_fn, so a report can be fed by any client.
int ds_client_fetch (void *client, const ds_query_t *query, msgpack_zone *zone,
                     msgpack_object *result, char *err, size_t err_size);

//  Prints the result of query `name` in the given format.  Returns 0, -1 if
//  the result does not have the expected shape (then it prints JSON).
int ds_client_print (FILE *out, const char *name, const msgpack_object *result,
                     ds_format_t format);

#endif
