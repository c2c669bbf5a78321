/*  query_fixture.h - what the tests that ask a service share (the
    labeler's through labeler_fixture.c, test_embed.c): a §6 query made
    from its name and address, and a string in a reply compared.  Header
    only (static inline).
*/
#ifndef QUERY_FIXTURE_H
#define QUERY_FIXTURE_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <msgpack.h>
#include "ds_proto.h"

//  A query with the defaults, named name, about ip (may be NULL).
static inline void
fx_query (ds_query_t *query, const char *name, const char *ip)
{
    ds_query_init (query);
    snprintf (query->name, sizeof query->name, "%s", name);
    if (ip)
        snprintf (query->ip, sizeof query->ip, "%s", ip);
}

//  True if obj is the string text.
static inline bool
fx_str_is (const msgpack_object *obj, const char *text)
{
    return obj && obj->type == MSGPACK_OBJECT_STR && obj->via.str.size == strlen (text)
        && memcmp (obj->via.str.ptr, text, obj->via.str.size) == 0;
}

#endif
