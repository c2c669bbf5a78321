/*  text.c - UTF-8 validity, CSV fields, grouped and rounded numbers; see text.h. */
#include "text.h"
#include <inttypes.h>
#include <stdbool.h>
#include <string.h>

size_t
ds_text_utf8_len (const unsigned char *s, size_t n)
{
    static const struct { unsigned char mask, lead; size_t len; uint32_t min; } forms [] = {
        { 0xe0, 0xc0, 2, 0x80 }, { 0xf0, 0xe0, 3, 0x800 }, { 0xf8, 0xf0, 4, 0x10000 } };
    if (s [0] < 0x80)
        return 1;
    for (size_t f = 0; f < sizeof forms / sizeof *forms; f++) {
        if ((s [0] & forms [f].mask) != forms [f].lead)
            continue;
        size_t len = forms [f].len;
        if (len > n)
            return 0;
        uint32_t cp = s [0] & (unsigned char) ~forms [f].mask;
        for (size_t i = 1; i < len; i++) {
            if ((s [i] & 0xc0) != 0x80)
                return 0;
            cp = (cp << 6) | (s [i] & 0x3f);
        }
        return cp < forms [f].min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ? 0 : len;
    }
    return 0;
}

void
ds_text_write (FILE *out, const char *ptr, size_t len, void (*ascii) (FILE *out, unsigned char c))
{
    const unsigned char *s = (const unsigned char *) ptr;
    for (size_t i = 0; i < len; ) {
        size_t n = ds_text_utf8_len (s + i, len - i);
        if (n == 1)
            ascii (out, s [i] < 0x20 || s [i] == 0x7f ? '?' : s [i]);
        else
        if (n > 1)
            fwrite (s + i, 1, n, out);
        else
            fputc ('?', out);
        i += n ? n : 1;
    }
}

void
ds_text_csv (FILE *out, const char *ptr, size_t len)
{
    bool quote = false;
    for (size_t i = 0; i < len; i++)
        if (ptr [i] && strchr (",\"\r\n", ptr [i]))
            quote = true;
    if (quote)
        fputc ('"', out);
    for (size_t i = 0; i < len; i++) {
        if (ptr [i] == '"')
            fputc ('"', out);
        fputc (ptr [i] ? ptr [i] : '?', out);
    }
    if (quote)
        fputc ('"', out);
}

const char *
ds_text_group (int64_t v, char *buf, size_t size)
{
    char digits [32];
    snprintf (digits, sizeof digits, "%" PRId64, v);
    const char *d = digits [0] == '-' ? digits + 1 : digits;
    size_t n = strlen (d), o = 0;
    if (d != digits && o < size - 1)
        buf [o++] = '-';
    for (size_t i = 0; i < n && o < size - 1; i++) {
        if (i > 0 && (n - i) % 3 == 0 && o < size - 1)
            buf [o++] = ',';
        if (o < size - 1)
            buf [o++] = d [i];
    }
    buf [o] = 0;
    return buf;
}

const char *
ds_text_round (double v, int decimals, char *buf, size_t size)
{
    snprintf (buf, size, "%.*f", decimals, v);
    size_t n = strlen (buf);
    while (n > 2 && buf [n - 1] == '0' && buf [n - 2] != '.')
        buf [--n] = 0;
    return buf;
}
