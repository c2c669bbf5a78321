/*  labeler_fixture.h - what the labeler's tests share (test_labeler.c,
    test_reload.c): the stand-in ingest publisher, a labeler actor on free
    endpoints, and requests over its control socket (their scratch
    directory: scratch_fixture.h; fx_query and fx_str_is:
    query_fixture.h).  Every helper asserts (cmocka) what it needs, so a
    test reads as its steps.  Linked as ds_labeler_fixture (the test's
    first line names it among its libs).
*/
#ifndef LABELER_FIXTURE_H
#define LABELER_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <czmq.h>
#include <msgpack.h>
#include "query_fixture.h"
#include "labeler.h"

#define FX_TIMEOUT_MS   20000       //  any wait for the labeler

//  Writes text to path (replacing it).
void fx_write (const char *path, const char *text);

//  The stand-in for ingest: an XPUB bound on a free tcp port of 127.0.0.1
//  that never drops (a slow labeler holds it back, as a file ingest does).
//  Caller destroys.
zsock_t *fx_ingest_pub (void);

//  Waits for the labeler's subscription to pub ("pkt.") and takes it.
void fx_wait_subscribed (zsock_t *pub);

//  Sets config to defaults, reading gt (a GT CSV) and input, its data and
//  control sockets on free tcp ports of 127.0.0.1.
void fx_labeler_config (ds_labeler_config_t *config, const char *gt, const char *input);

//  Starts a labeler actor on config and returns it with its data and
//  control endpoints.  Caller destroys.
zactor_t *fx_labeler_start (ds_labeler_config_t *config, char *data, size_t data_size,
                            char *control, size_t control_size);

//  True if sock has a message within timeout_ms.
bool fx_wait_readable (zsock_t *sock, int timeout_ms);

//  Sends the request (name, ip or NULL, force) without waiting for the reply.
void fx_send (zsock_t *req, const char *name, const char *ip, bool force);

//  Receives a reply (zone-backed): DS_OK with *result, or not with the
//  error in err.
int fx_recv (zsock_t *req, msgpack_zone *zone, const msgpack_object **result, char *err, size_t size);

//  fx_send, then fx_recv.
int fx_ask (zsock_t *req, msgpack_zone *zone, const char *name, const char *ip, bool force,
            const msgpack_object **result, char *err, size_t size);


//  obj as an unsigned integer (asserts it is one).
uint64_t fx_uint (const msgpack_object *obj);

#endif
