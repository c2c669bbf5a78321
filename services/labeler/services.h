/*  services.h - the service table: pp ("23/TCP") -> service class (DESIGN §4).

    The table is a flat JSON object keyed by lower-case "port/proto"
    ({"23/tcp": "telnet", ...}): DarkVec's services.json format, read as is.
    The default (services/labeler/services.json, compiled into the binary)
    covers DarkVec's twelve classes.  A pp not in the table falls back to:
    port "-" -> icmp; 0-1023 -> unk_sys; 1024-49151 -> unk_usr;
    49152-65535 -> unk_eph.  Lookups index a flat array of 65537 x 5 ids
    (the extra row is port "-"), so they cost one load.
*/
#ifndef DS_SERVICES_H
#define DS_SERVICES_H

#include <stddef.h>
#include <stdint.h>

typedef struct _ds_services_t ds_services_t;

//  Parses a services table from JSON text; origin names it in errors
//  ("file:line: ...").  Returns NULL with the reason in err.  Caller destroys.
ds_services_t *ds_services_parse (const char *text, size_t size, const char *origin,
                                  char *err, size_t err_size);

//  Reads a services table from a file (NULL: the built-in default).
ds_services_t *ds_services_load (const char *path, char *err, size_t err_size);

//  Destroys a table; NULL-safe; nulls the caller's pointer.
void ds_services_destroy (ds_services_t **self_p);

//  Service id of (port, proto): port 0..65535 or DS_PORT_NONE; proto a
//  ds_proto_t.  Out-of-range input gets the fallback of its port.
uint16_t ds_services_lookup (const ds_services_t *self, int32_t port, int proto);

//  Service ids of n records at once.
void ds_services_lookup_many (const ds_services_t *self, const int32_t *port,
                              const uint8_t *proto, uint32_t n, uint16_t *service_id);

//  The service dictionary and its size.
const char *const *ds_services_names (const ds_services_t *self);
uint32_t ds_services_count (const ds_services_t *self);

//  Number of "port/proto" keys the table was loaded with.
size_t ds_services_entries (const ds_services_t *self);

//  The built-in default table (services.json as shipped), NUL-terminated.
extern const char ds_services_default_json [];

#endif
