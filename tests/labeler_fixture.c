/*  labeler_fixture.c - what the labeler's tests share; see labeler_fixture.h. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "labeler_fixture.h"
#include "ds_proto.h"

void
fx_write (const char *path, const char *text)
{
    FILE *file = fopen (path, "w");
    assert_non_null (file);
    fputs (text, file);
    fclose (file);
}

zsock_t *
fx_ingest_pub (void)
{
    zsock_t *pub = zsock_new (ZMQ_XPUB);
    assert_non_null (pub);
    zsock_set_linger (pub, 0);
    zsock_set_xpub_nodrop (pub, 1);
    assert_true (zsock_bind (pub, "tcp://127.0.0.1:*") > 0);
    return pub;
}

void
fx_wait_subscribed (zsock_t *pub)
{
    assert_true (fx_wait_readable (pub, FX_TIMEOUT_MS));
    zframe_t *subscription = zframe_recv (pub);
    assert_non_null (subscription);
    assert_true (zframe_size (subscription) >= 5);
    assert_int_equal (zframe_data (subscription) [0], 1);
    assert_memory_equal (zframe_data (subscription) + 1, "pkt.", 4);
    zframe_destroy (&subscription);
}

void
fx_labeler_config (ds_labeler_config_t *config, const char *gt, const char *input)
{
    ds_labeler_config_init (config);
    config->gt.items [config->gt.count++] = gt;
    config->inputs.items [config->inputs.count++] = input;
    config->endpoint = "tcp://127.0.0.1:*";
    config->control = "tcp://127.0.0.1:*";
}

zactor_t *
fx_labeler_start (ds_labeler_config_t *config, char *data, size_t data_size,
                  char *control, size_t control_size)
{
    zactor_t *labeler = zactor_new (ds_labeler_actor, config);
    assert_non_null (labeler);
    assert_int_equal (ds_labeler_endpoints (labeler, data, data_size, control, control_size), 0);
    return labeler;
}

bool
fx_wait_readable (zsock_t *sock, int timeout_ms)
{
    zmq_pollitem_t item = { zsock_resolve (sock), 0, ZMQ_POLLIN, 0 };
    return zmq_poll (&item, 1, timeout_ms) == 1;
}

void
fx_send (zsock_t *req, const char *name, const char *ip, bool force)
{
    ds_query_t query;
    fx_query (&query, name, ip);
    query.force = force;
    msgpack_sbuffer buf;
    msgpack_sbuffer_init (&buf);
    assert_int_equal (ds_query_encode (&query, &buf), DS_OK);
    assert_true (zmq_send (zsock_resolve (req), buf.data, buf.size, 0) >= 0);
    msgpack_sbuffer_destroy (&buf);
}

int
fx_recv (zsock_t *req, msgpack_zone *zone, const msgpack_object **result, char *err, size_t size)
{
    assert_true (fx_wait_readable (req, FX_TIMEOUT_MS));
    zframe_t *frame = zframe_recv (req);
    assert_non_null (frame);
    //  Unpacked strings point into the data: keep a copy in the zone.
    void *copy = msgpack_zone_malloc (zone, zframe_size (frame));
    memcpy (copy, zframe_data (frame), zframe_size (frame));
    msgpack_object *reply = msgpack_zone_malloc (zone, sizeof *reply);
    assert_int_equal (ds_mp_unpack (copy, zframe_size (frame), zone, reply), DS_OK);
    zframe_destroy (&frame);
    return ds_reply_parse (reply, result, err, size);
}

int
fx_ask (zsock_t *req, msgpack_zone *zone, const char *name, const char *ip, bool force,
        const msgpack_object **result, char *err, size_t size)
{
    fx_send (req, name, ip, force);
    return fx_recv (req, zone, result, err, size);
}

uint64_t
fx_uint (const msgpack_object *obj)
{
    assert_non_null (obj);
    assert_int_equal (obj->type, MSGPACK_OBJECT_POSITIVE_INTEGER);
    return obj->via.u64;
}
