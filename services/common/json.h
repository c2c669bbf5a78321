/*  json.h - msgpack objects as compact JSON (the `--json` output).

    Query results travel as msgpack; clients print them as JSON that
    Python's json module reads back to the same values: integers stay
    integers, floats are the shortest text that round-trips (like Python's
    repr, always with '.' or 'e'), NaN and infinities become null, strings
    are escaped (control characters as \u00XX, invalid UTF-8 as \ufffd).
    Map keys must be strings; bin and ext objects have no JSON form.
*/
#ifndef DS_JSON_H
#define DS_JSON_H

#include <msgpack.h>
#include <stdio.h>

//  Writes obj as compact JSON to out.  Returns 0, or -1 if obj holds a
//  non-string map key, a bin or an ext (out then holds a partial text), or
//  when out of memory (errno ENOMEM).
int ds_json_write (FILE *out, const msgpack_object *obj);

//  Writes the one msgpack object that fills data [0, size) as compact JSON
//  to out: the same text ds_json_write gives for it unpacked, without
//  unpacking it.  Every read is bounded by size.  Returns 0, or -1 if the
//  bytes are not exactly one object, nest deeper than 64 or hold what
//  ds_json_write refuses (out then holds a partial text: a caller that must
//  write nothing on bad bytes validates them first, ds_mp_validate), or
//  when out of memory (errno ENOMEM).
int ds_json_write_mp (FILE *out, const void *data, size_t size);

//  Returns obj as a NUL-terminated JSON string, or NULL (see
//  ds_json_write).  Caller frees.
char *ds_json_string (const msgpack_object *obj);

//  Writes the shortest text of value that strtod reads back exactly
//  ("0.5", "1.0", "1e-05"; "null" for NaN/Inf) into buf (>= 32 bytes).
void ds_json_double (char *buf, size_t size, double value);

#endif
