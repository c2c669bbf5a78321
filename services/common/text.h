/*  text.h - text forms shared by the outputs: UTF-8 validity, CSV fields,
    numbers as people read them.

    The JSON writer (json.c), the report (services/darkscope/report*.c)
    and the query client print text that came off the wire: class names
    from users' GT files, service names, addresses.  These functions are
    the one place that decides what valid UTF-8 is, how a CSV field is
    quoted, and how a count or a rounded percentage is spelt.
*/
#ifndef DS_TEXT_H
#define DS_TEXT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

//  Length of the valid UTF-8 sequence at s (at most n >= 1 bytes), 0 if
//  the bytes there are not one (overlong forms, surrogates and code points
//  above U+10FFFF are invalid).
size_t ds_text_utf8_len (const unsigned char *s, size_t n);

//  Writes len bytes at ptr as valid UTF-8 without control bytes: valid
//  multi-byte sequences are copied, invalid bytes become '?', ASCII goes
//  through ascii(out, c) (controls and DEL as '?') so each caller escapes
//  for its language (HTML, gnuplot strings).
void ds_text_write (FILE *out, const char *ptr, size_t len,
                    void (*ascii) (FILE *out, unsigned char c));

//  Writes a CSV field (RFC 4180): quoted when it holds a comma, quote, CR
//  or LF, quotes doubled; a NUL byte is written as '?'.
void ds_text_csv (FILE *out, const char *ptr, size_t len);

//  Writes v with thousands separators ("63,562,427", "-1,000") into buf;
//  returns buf.
const char *ds_text_group (int64_t v, char *buf, size_t size);

//  Writes v rounded to decimals >= 1 places the way Python prints
//  round(v, decimals): trailing zeros dropped but one kept after the point
//  ("12.5", "40.0", "33.33"); returns buf.
const char *ds_text_round (double v, int decimals, char *buf, size_t size);

#endif
