/*  tz.c - see tz.h.

    The zone is kept as the instants where the UTC offset changes (at, off:
    from at[i] on the offset is off[i]) and, for times from the file's last
    transition on, the POSIX TZ rule of its footer.  Every question reduces
    to s_piece: the offset at a second and the stretch of seconds around it
    that share it.  The footer rule is evaluated the way glibc's localtime
    does (tzset.c compute_change): the changes of the UTC year of the time,
    DST from the start change (standard local time) to the end change (DST
    local time), the other way round when the end comes first (southern
    hemisphere, or Europe/Dublin's negative DST).
*/
#include "tz.h"
#include "civil.h"
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define S_US            DS_US_PER_S
#define S_DAY           86400LL
#define S_FILE_MAX      (1 << 20)   //  no real TZif file comes near
#define S_OFF_MIN       (-89999)    //  RFC 8536 §3.2: -25 h < utoff < 26 h
#define S_OFF_MAX       93599
#define S_FOOTER_MAX    256

typedef enum { S_RULE_J1, S_RULE_J0, S_RULE_M } s_rule_kind_t;

typedef struct {
    s_rule_kind_t kind;
    int day;                        //  J1: 1..365, J0: 0..365, M: weekday 0..6
    int month, week;                //  M only: 1..12, 1..5 (5: last)
    int32_t secs;                   //  local time of day of the change, may be < 0 or > 24 h
} s_rule_t;

struct _ds_tz_t {
    char name [DS_TZ_NAME_MAX + 1];
    uint32_t n;                     //  transitions kept (offset changes only)
    int64_t *at;                    //  [n] seconds, ascending
    int32_t *off;                   //  [n] offset from at[i] on
    int32_t off_before;             //  offset before at[0] (time type 0)
    bool footer;                    //  the TZ rule governs from footer_from on
    int64_t footer_from;            //  the file's last transition (INT64_MIN: none)
    int32_t std_off, dst_off;       //  footer offsets, seconds east
    bool has_dst;                   //  footer has a DST part (and rules)
    s_rule_t start, end;            //  DST starts (std time), ends (DST time)
};

static void
s_err (char *err, size_t err_size, const char *fmt, ...)
{
    if (!err || !err_size)
        return;
    va_list args;
    va_start (args, fmt);
    vsnprintf (err, err_size, fmt, args);
    va_end (args);
}

//  Seconds to microseconds, saturating at the ends of int64.
static int64_t
s_us (int64_t secs)
{
    if (secs > INT64_MAX / S_US)
        return INT64_MAX;
    if (secs < INT64_MIN / S_US)
        return INT64_MIN;
    return secs * S_US;
}

//  ---------------------------------------------------------------------
//  The footer's POSIX TZ rule

static bool
s_leap (int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

//  The instant (UTC seconds) of a rule's change in year y, off being the
//  offset in force just before it.
static int64_t
s_change (const s_rule_t *r, int64_t y, int32_t off)
{
    int64_t day;
    if (r->kind == S_RULE_J1)
        day = ds_civil_to_days (y, 1, 1) + r->day - 1 + (r->day >= 60 && s_leap (y));
    else
    if (r->kind == S_RULE_J0)
        day = ds_civil_to_days (y, 1, 1) + r->day;
    else {
        static const int mdays [12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
        int len = mdays [r->month - 1] + (r->month == 2 && s_leap (y));
        int64_t first = ds_civil_to_days (y, (unsigned) r->month, 1);
        int dow = (int) ((first % 7 + 7 + 4) % 7);      //  1970-01-01 was a Thursday
        int d = (r->day - dow + 7) % 7;
        for (int i = 1; i < r->week && d + 7 < len; i++)
            d += 7;
        day = first + d;
    }
    return day * S_DAY + r->secs - off;
}

//  Offset at second s >= footer_from under the footer rule, and the
//  seconds [*lo, *hi) around s that share it (also cut at UTC new year,
//  where the year whose changes apply moves on).
static int32_t
s_footer_piece (const ds_tz_t *self, int64_t s, int64_t *lo, int64_t *hi)
{
    *lo = self->footer_from;
    *hi = INT64_MAX;
    if (!self->has_dst)
        return self->std_off;
    int y, month, mday;
    ds_civil_from_days (ds_civil_floor_div (s, S_DAY), &y, &month, &mday);
    int64_t y0 = ds_civil_to_days (y, 1, 1) * S_DAY;
    int64_t c0 = s_change (&self->start, y, self->std_off);
    int64_t c1 = s_change (&self->end, y, self->dst_off);
    if (*lo < y0)
        *lo = y0;
    *hi = ds_civil_to_days (y + 1, 1, 1) * S_DAY;
    bool dst;
    int64_t a = c0 <= c1 ? c0 : c1, b = c0 <= c1 ? c1 : c0;
    if (s < a) {
        dst = c0 > c1;
        if (*hi > a) *hi = a;
    }
    else
    if (s < b) {
        dst = c0 < c1;
        if (*lo < a) *lo = a;
        if (*hi > b) *hi = b;
    }
    else {
        dst = c0 > c1;
        if (*lo < b) *lo = b;
    }
    return dst ? self->dst_off : self->std_off;
}

//  Offset at second s and the seconds [*lo, *hi) around s that share it.
static int32_t
s_piece (const ds_tz_t *self, int64_t s, int64_t *lo, int64_t *hi)
{
    if (self->footer && s >= self->footer_from)
        return s_footer_piece (self, s, lo, hi);
    uint32_t a = 0, b = self->n;     //  count of at[] <= s lies in [a, b]
    while (a < b) {
        uint32_t m = a + (b - a) / 2;
        if (self->at [m] <= s)
            a = m + 1;
        else
            b = m;
    }
    *lo = a ? self->at [a - 1] : INT64_MIN;
    *hi = a < self->n ? self->at [a] : INT64_MAX;
    if (self->footer && *hi > self->footer_from)
        *hi = self->footer_from;
    return a ? self->off [a - 1] : self->off_before;
}

//  ---------------------------------------------------------------------
//  Parsing the footer: std offset [dst [offset] [,start[/time],end[/time]]]

static const char *
s_parse_name (const char *p)
{
    const char *q = p;
    if (*p == '<') {
        for (q = ++p; (*q >= 'A' && *q <= 'Z') || (*q >= 'a' && *q <= 'z')
                   || (*q >= '0' && *q <= '9') || *q == '+' || *q == '-'; q++)
            ;
        return (q - p >= 3 && *q == '>') ? q + 1 : NULL;
    }
    while ((*q >= 'A' && *q <= 'Z') || (*q >= 'a' && *q <= 'z'))
        q++;
    return q - p >= 3 ? q : NULL;
}

//  [+-]hh[:mm[:ss]] with hh <= max_h; the value in seconds.
static const char *
s_parse_hms (const char *p, int max_h, int32_t *secs)
{
    int sign = 1;
    if (*p == '+' || *p == '-')
        sign = *p++ == '-' ? -1 : 1;
    int part [3] = { 0, 0, 0 };
    for (int i = 0; i < 3; i++) {
        if (i && *p != ':')
            break;
        if (i)
            p++;
        int digits = 0, v = 0;
        for (; *p >= '0' && *p <= '9' && digits < 3; p++, digits++)
            v = v * 10 + (*p - '0');
        if (!digits || (i && (digits > 2 || v > 59)) || (!i && v > max_h))
            return NULL;
        part [i] = v;
    }
    *secs = sign * (part [0] * 3600 + part [1] * 60 + part [2]);
    return p;
}

static const char *
s_parse_rule (const char *p, s_rule_t *r)
{
    char *end;
    if (*p == 'M') {
        r->kind = S_RULE_M;
        long m = strtol (p + 1, &end, 10);
        if (end == p + 1 || *end != '.' || m < 1 || m > 12)
            return NULL;
        p = end + 1;
        long w = strtol (p, &end, 10);
        if (end == p || *end != '.' || w < 1 || w > 5)
            return NULL;
        p = end + 1;
        long d = strtol (p, &end, 10);
        if (end == p || d < 0 || d > 6)
            return NULL;
        r->month = (int) m, r->week = (int) w, r->day = (int) d;
    }
    else {
        bool julian = *p == 'J';
        p += julian;
        if (*p < '0' || *p > '9')
            return NULL;
        long d = strtol (p, &end, 10);
        if (julian ? (d < 1 || d > 365) : d > 365)
            return NULL;
        r->kind = julian ? S_RULE_J1 : S_RULE_J0;
        r->day = (int) d;
    }
    p = end;
    r->secs = 2 * 3600;
    if (*p == '/')
        p = s_parse_hms (p + 1, 167, &r->secs);
    return p;
}

static int
s_parse_footer (ds_tz_t *self, const char *text)
{
    int32_t west;
    const char *p = s_parse_name (text);
    if (!p || !(p = s_parse_hms (p, 24, &west)))
        return -1;
    self->std_off = -west;
    if (!*p)
        return 0;
    if (!(p = s_parse_name (p)))
        return -1;
    self->has_dst = true;
    self->dst_off = self->std_off + 3600;
    if (*p && *p != ',') {
        if (!(p = s_parse_hms (p, 24, &west)))
            return -1;
        self->dst_off = -west;
    }
    if (*p != ',' || !(p = s_parse_rule (p + 1, &self->start))
    ||  *p != ',' || !(p = s_parse_rule (p + 1, &self->end)) || *p)
        return -1;                  //  DST without rules: zic never writes it
    return 0;
}

//  ---------------------------------------------------------------------
//  Parsing TZif (RFC 8536)

static uint32_t
s_be32 (const uint8_t *p)
{
    return (uint32_t) p [0] << 24 | (uint32_t) p [1] << 16 | (uint32_t) p [2] << 8 | p [3];
}

static int64_t
s_be64 (const uint8_t *p)
{
    return (int64_t) ((uint64_t) s_be32 (p) << 32 | s_be32 (p + 4));
}

typedef struct {
    uint32_t isut, isstd, leap, time, type, chars;
    uint64_t block;                 //  bytes of the data block after the header
} s_header_t;

static int
s_header (const uint8_t *data, size_t size, size_t at, int width, s_header_t *h,
          char *err, size_t err_size)
{
    if (size - at < 44 || memcmp (data + at, "TZif", 4) != 0) {
        s_err (err, err_size, "not a TZif file (no 'TZif' header at byte %zu)", at);
        return -1;
    }
    const uint8_t *c = data + at + 20;
    h->isut = s_be32 (c), h->isstd = s_be32 (c + 4), h->leap = s_be32 (c + 8);
    h->time = s_be32 (c + 12), h->type = s_be32 (c + 16), h->chars = s_be32 (c + 20);
    if (h->type == 0 || h->type > 256 || h->chars == 0
    ||  (h->isut && h->isut != h->type) || (h->isstd && h->isstd != h->type)) {
        s_err (err, err_size, "TZif header at byte %zu: bad counts (types %u, chars %u)",
               at, h->type, h->chars);
        return -1;
    }
    h->block = (uint64_t) h->time * (uint64_t) (width + 1) + (uint64_t) h->type * 6 + h->chars
             + (uint64_t) h->leap * (uint64_t) (width + 4) + h->isstd + h->isut;
    if (h->block > size - at - 44) {
        s_err (err, err_size, "TZif data at byte %zu: %llu bytes declared, %zu present",
               at + 44, (unsigned long long) h->block, size - at - 44);
        return -1;
    }
    return 0;
}

//  Fills self's transitions from the data block at p (width 4 or 8).
static int
s_block (ds_tz_t *self, const uint8_t *p, int width, const s_header_t *h,
         char *err, size_t err_size)
{
    if (h->leap) {
        s_err (err, err_size, "%u leap-second records: leap-second (\"right/\") zones are not supported",
               h->leap);
        return -1;
    }
    const uint8_t *times = p, *idx = p + (size_t) h->time * (size_t) width;
    const uint8_t *types = idx + h->time;
    int32_t offs [256];
    for (uint32_t i = 0; i < h->type; i++) {
        int32_t utoff = (int32_t) s_be32 (types + 6 * i);
        uint8_t isdst = types [6 * i + 4], desig = types [6 * i + 5];
        if (utoff < S_OFF_MIN || utoff > S_OFF_MAX || isdst > 1 || desig >= h->chars) {
            s_err (err, err_size, "local time type %u: bad (utoff %d, isdst %u, designation %u)",
                   i, utoff, isdst, desig);
            return -1;
        }
        offs [i] = utoff;
    }
    self->at = malloc ((h->time ? h->time : 1) * sizeof *self->at);
    self->off = malloc ((h->time ? h->time : 1) * sizeof *self->off);
    if (!self->at || !self->off) {
        s_err (err, err_size, "out of memory for %u transitions", h->time);
        return -1;
    }
    self->off_before = offs [0];
    int32_t prev = offs [0];
    for (uint32_t i = 0; i < h->time; i++) {
        int64_t t = width == 8 ? s_be64 (times + 8 * i) : (int32_t) s_be32 (times + 4 * i);
        if (i && t <= self->footer_from) {
            s_err (err, err_size, "transition %u is not after the one before it", i);
            return -1;
        }
        if (idx [i] >= h->type) {
            s_err (err, err_size, "transition %u: type %u of %u", i, idx [i], h->type);
            return -1;
        }
        if (offs [idx [i]] != prev) {   //  only offset changes matter here
            self->at [self->n] = t;
            self->off [self->n++] = prev = offs [idx [i]];
        }
        self->footer_from = t;
    }
    return 0;
}

ds_tz_t *
ds_tz_parse (const char *name, const uint8_t *data, size_t size, char *err, size_t err_size)
{
    if (!name || strlen (name) > DS_TZ_NAME_MAX) {
        s_err (err, err_size, "time zone name missing or longer than %d bytes", DS_TZ_NAME_MAX);
        return NULL;
    }
    s_header_t h;
    if (s_header (data, size, 0, 4, &h, err, err_size))
        return NULL;
    ds_tz_t *self = calloc (1, sizeof *self);
    if (!self) {
        s_err (err, err_size, "%s", "out of memory");
        return NULL;
    }
    snprintf (self->name, sizeof self->name, "%s", name);
    self->footer_from = INT64_MIN;
    size_t at = 0;
    int width = 4;
    if (data [4] >= '2') {              //  skip the 32-bit data to the 64-bit part
        at = 44 + (size_t) h.block;
        width = 8;
        if (s_header (data, size, at, 8, &h, err, err_size))
            goto fail;
    }
    else
    if (data [4] != 0) {
        s_err (err, err_size, "TZif version byte 0x%02x unknown", data [4]);
        goto fail;
    }
    if (s_block (self, data + at + 44, width, &h, err, err_size))
        goto fail;
    if (width == 8) {
        const char *foot = (const char *) data + at + 44 + h.block;
        size_t left = size - at - 44 - (size_t) h.block;
        const char *nl = left > 1 ? memchr (foot + 1, '\n', left - 1) : NULL;
        if (!left || *foot != '\n' || !nl || nl - foot - 1 >= S_FOOTER_MAX) {
            s_err (err, err_size, "%s", "TZif footer missing or not one line");
            goto fail;
        }
        char text [S_FOOTER_MAX];
        memcpy (text, foot + 1, (size_t) (nl - foot - 1));
        text [nl - foot - 1] = 0;
        if (*text) {
            if (memchr (text, 0, (size_t) (nl - foot - 1)) || s_parse_footer (self, text)) {
                s_err (err, err_size, "TZif footer: cannot read TZ rule '%.64s'", text);
                goto fail;
            }
            self->footer = true;
        }
    }
    return self;
fail:
    ds_tz_destroy (&self);
    return NULL;
}

//  ---------------------------------------------------------------------
//  Loading and destroying

//  The built-in UTC: no transitions, no rule; shared, never freed.
static const ds_tz_t s_utc = { .name = "UTC", .footer_from = INT64_MIN };

const ds_tz_t *
ds_tz_utc (void)
{
    return &s_utc;
}

static bool
s_name_ok (const char *name)
{
    size_t len = strlen (name);
    if (!len || len > DS_TZ_NAME_MAX || name [0] == '/' || strstr (name, ".."))
        return false;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')
           || *p == '/' || *p == '_' || *p == '-' || *p == '+' || *p == '.'))
            return false;
    return true;
}

ds_tz_t *
ds_tz_load (const char *name, char *err, size_t err_size)
{
    if (!name || !s_name_ok (name)) {
        s_err (err, err_size, "time zone '%.*s': not a TZ database name (no absolute path, no '..')",
               DS_TZ_NAME_MAX, name ? name : "");
        return NULL;
    }
    if (strcmp (name, "UTC") == 0)
        return (ds_tz_t *) &s_utc;      //  immutable like any zone; destroy skips it
    const char *dir = getenv ("TZDIR");
    char path [4096];
    snprintf (path, sizeof path, "%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", name);
    int fd = open (path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat (fd, &st) != 0 || !S_ISREG (st.st_mode) || st.st_size > S_FILE_MAX) {
        s_err (err, err_size, "time zone '%s': %s: %s", name, path,
               fd < 0 || errno ? strerror (errno ? errno : ENOENT) : "not a zone file");
        if (fd >= 0)
            close (fd);
        return NULL;
    }
    uint8_t *data = malloc ((size_t) st.st_size + 1);
    size_t got = 0;
    while (data && got < (size_t) st.st_size) {
        ssize_t r = read (fd, data + got, (size_t) st.st_size - got);
        if (r <= 0)
            break;
        got += (size_t) r;
    }
    close (fd);
    ds_tz_t *self = NULL;
    if (!data || got != (size_t) st.st_size)
        s_err (err, err_size, "time zone '%s': %s: %s", name, path,
               data ? "short read" : "out of memory");
    else {
        char why [200];
        self = ds_tz_parse (name, data, got, why, sizeof why);
        if (!self)
            s_err (err, err_size, "time zone '%s': %s: %s", name, path, why);
    }
    free (data);
    return self;
}

void
ds_tz_destroy (ds_tz_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ds_tz_t *self = *self_p;
    *self_p = NULL;
    if (self == &s_utc)
        return;
    free (self->at);
    free (self->off);
    free (self);
}

//  ---------------------------------------------------------------------
//  Questions

const char *
ds_tz_name (const ds_tz_t *self)
{
    return self->name;
}

int32_t
ds_tz_offset (const ds_tz_t *self, int64_t ts_us)
{
    int64_t lo, hi;
    return s_piece (self, ds_civil_floor_div (ts_us, S_US), &lo, &hi);
}

int32_t
ds_tz_offset_span (const ds_tz_t *self, int64_t ts_us, int64_t *lo_us, int64_t *hi_us)
{
    int64_t lo, hi;
    int32_t off = s_piece (self, ds_civil_floor_div (ts_us, S_US), &lo, &hi);
    *lo_us = s_us (lo);
    *hi_us = s_us (hi);
    return off;
}

int64_t
ds_tz_next_change (const ds_tz_t *self, int64_t ts_us)
{
    int64_t lo, hi;
    s_piece (self, ds_civil_floor_div (ts_us, S_US), &lo, &hi);
    return s_us (hi);
}

void
ds_daycache_init (ds_daycache_t *cache)
{
    cache->lo = 1;
    cache->hi = 0;                  //  empty: lo > hi
    cache->day = 0;
}

int32_t
ds_tz_day (const ds_tz_t *self, ds_daycache_t *cache, int64_t ts_us)
{
    if (ts_us >= cache->lo && ts_us < cache->hi)
        return cache->day;
    int64_t lo, hi, s = ds_civil_floor_div (ts_us, S_US);
    int32_t off = s_piece (self, s, &lo, &hi);
    int64_t day = ds_civil_floor_div (s + off, S_DAY);
    int64_t dlo = day * S_DAY - off;         //  the day's bounds under this offset
    if (lo < dlo)
        lo = dlo;
    if (hi > dlo + S_DAY)
        hi = dlo + S_DAY;
    cache->lo = s_us (lo);
    cache->hi = s_us (hi);
    cache->day = (int32_t) day;
    return cache->day;
}

int64_t
ds_tz_day_start (const ds_tz_t *self, int32_t day)
{
    //  The answer lies within a day of UTC midnight (offsets < 26 h): walk
    //  the stretches of constant offset from two days before it and take
    //  the first second whose local time is at or past local midnight.
    int64_t midnight = (int64_t) day * S_DAY;
    int64_t s = midnight - 2 * S_DAY;
    for (;;) {
        int64_t lo, hi;
        int32_t off = s_piece (self, s, &lo, &hi);
        int64_t t = midnight - off > s ? midnight - off : s;
        if (t < hi)
            return s_us (t);
        s = hi;
    }
}

//  Writes v (>= 0) as `width` digits and sep after them; returns the next byte.
static char *
s_put (char *p, int64_t v, int width, char sep)
{
    for (int i = width - 1; i >= 0; i--, v /= 10)
        p [i] = (char) ('0' + v % 10);
    p [width] = sep;
    return p + width + 1;
}

void
ds_tz_format (const ds_tz_t *self, int64_t ts_us, char *buf)
{
    int64_t s = ds_civil_floor_div (ts_us, S_US);
    int64_t frac = ts_us % S_US < 0 ? ts_us % S_US + S_US : ts_us % S_US;
    int64_t lo, hi;
    int64_t local = s + s_piece (self, s, &lo, &hi);
    static const int64_t first = -719528 * S_DAY;              //  0000-01-01 00:00:00
    static const int64_t last = 2932897 * S_DAY - 1;           //  9999-12-31 23:59:59
    if (local < first)
        local = first, frac = 0;
    if (local > last)
        local = last, frac = S_US - 1;
    int64_t days = ds_civil_floor_div (local, S_DAY), sod = local - days * S_DAY;
    int year, month, mday;
    ds_civil_from_days (days, &year, &month, &mday);
    char *p = buf;
    p = s_put (p, year, 4, '-');
    p = s_put (p, month, 2, '-');
    p = s_put (p, mday, 2, ' ');
    p = s_put (p, sod / 3600, 2, ':');
    p = s_put (p, sod / 60 % 60, 2, ':');
    p = s_put (p, sod % 60, 2, '.');
    s_put (p, frac, 6, 0);
}
