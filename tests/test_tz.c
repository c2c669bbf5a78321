/*  libs: ds_common */
/*  test_tz.c - the time zone value against glibc.

    Differential: for each zone, glibc's localtime_r with TZ set (only this
    test sets TZ; the library never does) is the reference for the offset,
    the local day and the local time text, at every transition either side
    (found both from the zone and by scanning glibc), at random times
    1900..2100, through one running day cache in time order and in random
    order; day starts are checked against the same reference and mktime.
    Then every zone file of the system at its transitions, footer-only
    files against glibc's own TZ-rule parser, malformed files, names, and
    several threads sharing one zone. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <dirent.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include "scratch_fixture.h"
#include "tz.h"

#define US          1000000LL
#define ZONEINFO    "/usr/share/zoneinfo"

static const int64_t s_from = -2208988800LL * US;       //  1900-01-01 UTC
static const int64_t s_to = 4102444800LL * US;          //  2100-01-01 UTC

static uint64_t s_rng = 0x9e3779b97f4a7c15ULL;

static uint64_t
s_rand (void)
{
    s_rng ^= s_rng << 13;
    s_rng ^= s_rng >> 7;
    s_rng ^= s_rng << 17;
    return s_rng;
}

static int64_t
s_floor_div (int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static void
s_use_glibc_zone (const char *tz)
{
    setenv ("TZ", tz, 1);
    tzset ();
}

//  glibc's answer at ts: offset, local day, local time text.
typedef struct {
    int32_t off;
    int32_t day;
    char text [32];
} ref_t;

static void
s_ref (int64_t ts, ref_t *r)
{
    time_t secs = (time_t) s_floor_div (ts, US);
    struct tm tm;
    assert_non_null (localtime_r (&secs, &tm));
    r->off = (int32_t) tm.tm_gmtoff;
    struct tm copy = tm;
    r->day = (int32_t) s_floor_div ((int64_t) timegm (&copy), 86400);
    size_t n = strftime (r->text, 20, "%Y-%m-%d %H:%M:%S", &tm);
    snprintf (r->text + n, sizeof r->text - n, ".%06lld", (long long) (ts - (int64_t) secs * US));
}

static int
s_cmp64 (const void *a, const void *b)
{
    int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;
    return (x > y) - (x < y);
}

typedef struct {
    int64_t *v;
    size_t n, cap;
} list_t;

static void
s_add (list_t *l, int64_t ts)
{
    if (ts < s_from || ts >= s_to)
        return;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 4096;
        l->v = realloc (l->v, l->cap * sizeof *l->v);
        assert_non_null (l->v);
    }
    l->v [l->n++] = ts;
}

static void
s_add_around (list_t *l, int64_t ts)
{
    if (ts <= s_from || ts >= s_to)
        return;
    s_add (l, ts - 1);
    s_add (l, ts);
    s_add (l, ts + 1);
}

//  Compares one timestamp: offset, day with a fresh cache, text.
static void
s_check (const ds_tz_t *tz, int64_t ts)
{
    ref_t r;
    s_ref (ts, &r);
    ds_daycache_t cache;
    ds_daycache_init (&cache);
    char text [32];
    ds_tz_format (tz, ts, text);
    int64_t lo, hi;                     //  the span shares the offset, ends and all
    int32_t off = ds_tz_offset_span (tz, ts, &lo, &hi);
    if (lo > ts || hi <= ts || (lo != INT64_MIN && ds_tz_offset (tz, lo) != off)
    ||  (hi != INT64_MAX && ds_tz_offset (tz, hi - 1) != off))
        fail_msg ("%s at %lld us: span %lld..%lld of offset %d", ds_tz_name (tz), (long long) ts,
                  (long long) lo, (long long) hi, off);
    if (off != r.off || ds_tz_day (tz, &cache, ts) != r.day
    ||  strcmp (text, r.text) != 0)
        fail_msg ("%s at %lld us: offset %d day %d '%s', glibc %d %d '%s'",
                  ds_tz_name (tz), (long long) ts, ds_tz_offset (tz, ts),
                  ds_tz_day (tz, &cache, ts), text, r.off, r.day, r.text);
}

//  The day start of day d: its local day is >= d, the microsecond before
//  it is < d, and it is mktime's local midnight when that midnight exists
//  and is the first one.
static void
s_check_day_start (const ds_tz_t *tz, int32_t d)
{
    int64_t start = ds_tz_day_start (tz, d);
    ref_t at, before;
    s_ref (start, &at);
    s_ref (start - 1, &before);
    if (at.day < d || before.day >= d)
        fail_msg ("%s day %d: start %lld has day %d, the us before day %d",
                  ds_tz_name (tz), d, (long long) start, at.day, before.day);
    time_t t = (time_t) d * 86400;
    struct tm tm;
    gmtime_r (&t, &tm);
    tm.tm_isdst = -1;
    int64_t m = (int64_t) mktime (&tm) * US;
    ref_t mr, mb;
    s_ref (m, &mr);
    s_ref (m - 1, &mb);
    if (mr.day == d && strcmp (mr.text + 11, "00:00:00.000000") == 0 && mb.day < d && m != start)
        fail_msg ("%s day %d: start %lld, mktime %lld", ds_tz_name (tz), d,
                  (long long) start, (long long) m);
}

//  Adds every instant where glibc's offset changes, found by sampling
//  every `step` seconds and bisecting to the second; the zone must name
//  each as a change.
static void
s_glibc_transitions (const ds_tz_t *tz, list_t *l, int64_t step)
{
    int64_t prev = s_from / US;
    ref_t r;
    s_ref (prev * US, &r);
    int32_t prev_off = r.off;
    for (int64_t s = prev + step; s < s_to / US; prev = s, s += step) {
        s_ref (s * US, &r);
        if (r.off == prev_off)
            continue;
        int64_t lo = prev, hi = s;  //  offset(lo) == prev_off != offset(hi)
        while (hi - lo > 1) {
            int64_t mid = lo + (hi - lo) / 2;
            s_ref (mid * US, &r);
            if (r.off == prev_off)
                lo = mid;
            else
                hi = mid;
        }
        s_add_around (l, hi * US);
        if (ds_tz_next_change (tz, hi * US - 1) != hi * US)
            fail_msg ("%s: glibc's offset changes at %lld s, next change after it is %lld us",
                      ds_tz_name (tz), (long long) hi, (long long) ds_tz_next_change (tz, hi * US - 1));
        s_ref (s * US, &r);
        prev_off = r.off;
    }
}

//  Adds every instant where the zone says its offset may change.
static void
s_own_transitions (const ds_tz_t *tz, list_t *l)
{
    for (int64_t t = s_from; t < s_to; ) {
        int64_t next = ds_tz_next_change (tz, t);
        assert_true (next > t);
        s_add_around (l, next);
        t = next;
    }
}

//  The zone against glibc (TZ set to the same name) at both sides of
//  every transition, `randoms` random instants and the local midnights
//  near all of them, one by one and through a running day cache.
static void
s_differential (const ds_tz_t *tz, int randoms)
{
    const char *name = ds_tz_name (tz);
    s_use_glibc_zone (name);
    list_t l = { 0 };
    s_own_transitions (tz, &l);
    size_t own = l.n;
    s_glibc_transitions (tz, &l, 86400);
    for (int i = 0; i < randoms; i++)
        s_add (&l, s_from + (int64_t) (s_rand () % (uint64_t) (s_to - s_from)));
    size_t marks = l.n;
    for (size_t i = 0; i < marks; i++) {        //  local midnights near every mark
        ref_t r;
        s_ref (l.v [i], &r);
        int64_t start = ds_tz_day_start (tz, r.day);
        s_add_around (&l, start);
        if (i < own)
            s_check_day_start (tz, r.day), s_check_day_start (tz, r.day + 1);
    }
    for (size_t i = 0; i < l.n; i++)
        s_check (tz, l.v [i]);

    //  One running cache, in time order and then in random order.
    qsort (l.v, l.n, sizeof *l.v, s_cmp64);
    for (int pass = 0; pass < 2; pass++) {
        ds_daycache_t cache;
        ds_daycache_init (&cache);
        for (size_t i = 0; i < l.n; i++) {
            ref_t r;
            s_ref (l.v [i], &r);
            if (ds_tz_day (tz, &cache, l.v [i]) != r.day)
                fail_msg ("%s: cached day of %lld is %d, glibc %d", name, (long long) l.v [i],
                          ds_tz_day (tz, &cache, l.v [i]), r.day);
        }
        for (size_t i = l.n - 1; i > 0; i--) {
            size_t j = (size_t) (s_rand () % (i + 1));
            int64_t t = l.v [i]; l.v [i] = l.v [j]; l.v [j] = t;
        }
    }
    print_message ("%-20s %6zu transitions (own), %7zu instants compared\n", name, own / 3, l.n);
    free (l.v);
}

static void
test_zones_against_glibc (void **state)
{
    (void) state;
    const char *zones [] = {
        "UTC", "Europe/Rome", "America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu",
        "Pacific/Apia", "America/St_Johns", "Africa/Casablanca",
        "Europe/Dublin",            //  negative DST in the footer (winter is "DST")
        "America/Nuuk",             //  rule times -1:00 and 0:00
        "Antarctica/Troll",         //  two-hour DST
        "America/Sao_Paulo",        //  changes at midnight
        "Asia/Tehran", "Pacific/Kiritimati", "Etc/GMT+12", "Europe/Moscow",
    };
    for (size_t i = 0; i < sizeof zones / sizeof *zones; i++) {
        char err [256];
        ds_tz_t *tz = ds_tz_load (zones [i], err, sizeof err);
        if (!tz)
            fail_msg ("%s", err);
        assert_string_equal (ds_tz_name (tz), zones [i]);
        s_differential (tz, 10000);
        ds_tz_destroy (&tz);
        assert_null (tz);
    }
}

//  Every TZif file under dir (not right/, whose clocks count leap seconds,
//  nor posix/, a copy): offsets, days, texts at each own transition either
//  side and a few hundred instants a zone.
static size_t
s_sweep (const char *dir, const char *rel)
{
    size_t zones = 0;
    char path [1024];
    snprintf (path, sizeof path, "%s/%s", dir, rel);
    DIR *d = opendir (path);
    if (!d)
        return 0;
    struct dirent *e;
    while ((e = readdir (d))) {
        if (e->d_name [0] == '.' || (!*rel && (!strcmp (e->d_name, "right") || !strcmp (e->d_name, "posix"))))
            continue;
        char name [512], file [1536];
        snprintf (name, sizeof name, "%s%s%s", rel, *rel ? "/" : "", e->d_name);
        snprintf (file, sizeof file, "%s/%s", dir, name);
        struct stat st;
        if (stat (file, &st) != 0)
            continue;
        if (S_ISDIR (st.st_mode)) {
            zones += s_sweep (dir, name);
            continue;
        }
        char magic [4] = { 0 };
        FILE *f = fopen (file, "rb");
        if (!f || fread (magic, 1, 4, f) != 4 || memcmp (magic, "TZif", 4) != 0) {
            if (f)
                fclose (f);
            continue;
        }
        fclose (f);
        char err [256];
        ds_tz_t *tz = ds_tz_load (name, err, sizeof err);
        if (!tz)
            fail_msg ("%s", err);
        s_use_glibc_zone (name);
        list_t l = { 0 };
        s_own_transitions (tz, &l);
        for (int i = 0; i < 100; i++)
            s_add (&l, s_from + (int64_t) (s_rand () % (uint64_t) (s_to - s_from)));
        for (size_t i = 0; i < l.n; i++)
            s_check (tz, l.v [i]);
        free (l.v);
        ds_tz_destroy (&tz);
        zones++;
    }
    closedir (d);
    return zones;
}

static void
test_every_system_zone (void **state)
{
    (void) state;
    size_t zones = s_sweep (ZONEINFO, "");
    print_message ("%zu zone files compared\n", zones);
    assert_true (zones > 300);
}

//  A TZif image: version (0 or '2'), n_at transitions to types idx[],
//  n_types types (offset, isdst), footer (v2 only); *n bytes.
typedef struct {
    char version;
    int n_at;
    const int64_t *at;
    const uint8_t *idx;
    int n_types;
    const int32_t *off;
    const uint8_t *isdst;
    const char *footer;
} image_t;

static void
s_put32 (uint8_t *p, uint32_t v)
{
    p [0] = (uint8_t) (v >> 24), p [1] = (uint8_t) (v >> 16), p [2] = (uint8_t) (v >> 8), p [3] = (uint8_t) v;
}

static uint8_t *
s_image (const image_t *im, size_t *n)
{
    static uint8_t buf [4096];
    size_t at = 0;
    for (int width = 4; width <= 8; width += 4) {
        memset (buf + at, 0, 44);
        memcpy (buf + at, "TZif", 4);
        buf [at + 4] = (uint8_t) im->version;
        s_put32 (buf + at + 32, (uint32_t) im->n_at);
        s_put32 (buf + at + 36, (uint32_t) im->n_types);
        s_put32 (buf + at + 40, 4);
        at += 44;
        for (int i = 0; i < im->n_at; i++, at += (size_t) width) {
            if (width == 8)
                s_put32 (buf + at, (uint32_t) ((uint64_t) im->at [i] >> 32));
            s_put32 (buf + at + width - 4, (uint32_t) im->at [i]);
        }
        for (int i = 0; i < im->n_at; i++)
            buf [at++] = im->idx [i];
        for (int i = 0; i < im->n_types; i++, at += 6) {
            s_put32 (buf + at, (uint32_t) im->off [i]);
            buf [at + 4] = im->isdst [i];
            buf [at + 5] = 0;
        }
        memcpy (buf + at, "XXX", 4);
        at += 4;
        if (!im->version)
            break;
    }
    if (im->version)
        at += (size_t) snprintf ((char *) buf + at, sizeof buf - at, "\n%s\n", im->footer);
    *n = at;
    return buf;
}

//  No transitions, one time type of offset off, the given footer.
static uint8_t *
s_tzif (const char *footer, int32_t off, size_t *n)
{
    static const uint8_t isdst [1] = { 0 };
    int32_t offs [1] = { off };
    image_t im = { '2', 0, NULL, NULL, 1, offs, isdst, footer };
    return s_image (&im, n);
}

//  Hand-made files, read by glibc through $TZDIR, where the RFC and glibc
//  agree (they differ before the first transition when type 0 is DST, and
//  for a file with no transitions but a DST footer: see tz.h).
static void
test_made_files_against_glibc (void **state)
{
    (void) state;
    static const int64_t at3 [3] = { -1000000000LL, 1000000000LL, 1510000000LL };
    static const uint8_t idx_same [3] = { 1, 2, 1 }, idx_same_last [3] = { 1, 2, 3 };
    static const int32_t off4 [4] = { 3600, -18000, -14400, -14400 };
    static const uint8_t isdst4 [4] = { 0, 0, 1, 1 };
    static const int64_t at1 [1] = { 0 };
    static const uint8_t idx1 [1] = { 1 };
    static const int32_t off2 [2] = { 1800, 1800 };
    static const uint8_t isdst2 [2] = { 0, 1 };
    const image_t images [] = {
        //  the last transition keeps the offset (a DST flag only): the footer still starts there
        { '2', 3, at3, idx_same_last, 4, off4, isdst4, "EST5EDT,M3.2.0,M11.1.0" },
        { '2', 3, at3, idx_same, 4, off4, isdst4, "EST5EDT,M3.2.0,M11.1.0" },
        { '2', 3, at3, idx_same, 4, off4, isdst4, "" },          //  no rule: the last type stays
        { 0, 3, at3, idx_same, 4, off4, isdst4, NULL },         //  version 1 data only
        { '2', 1, at1, idx1, 2, off2, isdst2, "<+0030>-0:30" },
    };
    char dir [64];
    assert_int_equal (fx_scratch_make (dir, sizeof dir, "ds-tzmade"), 0);
    setenv ("TZDIR", dir, 1);
    for (size_t i = 0; i < sizeof images / sizeof *images; i++) {
        size_t n;
        uint8_t *image = s_image (&images [i], &n);
        char file [96], name [16], err [256];
        snprintf (name, sizeof name, "Made%zu", i);
        snprintf (file, sizeof file, "%s/%s", dir, name);
        FILE *f = fopen (file, "wb");
        assert_non_null (f);
        assert_int_equal (fwrite (image, 1, n, f), n);
        fclose (f);
        ds_tz_t *tz = ds_tz_load (name, err, sizeof err);
        if (!tz)
            fail_msg ("%s: %s", name, err);
        s_differential (tz, 2000);
        ds_tz_destroy (&tz);
    }
    //  Removed only now: glibc knows a zone file by inode and mtime, and a
    //  new file on a freed inode within the same second would look unchanged.
    assert_int_equal (fx_scratch_remove (dir), 0);
}

static void
test_footer_rules_against_glibc (void **state)
{
    (void) state;
    //  glibc reads these as TZ strings (no file has such a name).
    const char *rules [] = {
        "EST5EDT,M3.2.0,M11.1.0", "CET-1CEST,M3.5.0,M10.5.0/3", "IST-1GMT0,M10.5.0,M3.5.0/1",
        "<-02>2<-01>,M3.5.0/-1,M10.5.0/0", "<+1030>-10:30<+11>-11,M10.1.0,M4.1.0",
        "<+0330>-3:30<+0430>,J79/24,J263/24",   //  Tehran until 2022
        "EST5EDT,0/0,J365/25",                  //  DST all year (RFC 8536 §3.3.1)
        "<-03>3<-02>,M3.5.0/-2,M10.5.0/-1", "NZST-12NZDT,M9.5.0,M4.1.0/3",
        "AAA3BBB,59/23:59:59,J60/1:30", "AAA-5:30BBB-6:45:10,M2.5.6/167,M12.1.0/-167",
    };
    for (size_t i = 0; i < sizeof rules / sizeof *rules; i++) {
        size_t n;
        uint8_t *image = s_tzif (rules [i], 0, &n);
        char err [256];
        ds_tz_t *tz = ds_tz_parse ("test", image, n, err, sizeof err);
        if (!tz)
            fail_msg ("%s: %s", rules [i], err);
        s_use_glibc_zone (rules [i]);
        list_t l = { 0 };
        //  From 1971: glibc evaluates rules of years before 1971 as 1970's.
        for (int64_t t = 31536000LL * US; t < s_to; ) {
            int64_t next = ds_tz_next_change (tz, t);
            s_add_around (&l, next);
            t = next;
        }
        for (int k = 0; k < 2000; k++)
            s_add (&l, 31536000LL * US + (int64_t) (s_rand () % (uint64_t) (s_to - 31536000LL * US)));
        for (size_t k = 0; k < l.n; k++)
            s_check (tz, l.v [k]);
        free (l.v);
        ds_tz_destroy (&tz);
    }
}

static void
test_utc_and_rome (void **state)
{
    (void) state;
    char err [256], buf [32];
    ds_tz_t *utc = ds_tz_load ("UTC", err, sizeof err);
    ds_tz_t *rome = ds_tz_load ("Europe/Rome", err, sizeof err);
    assert_non_null (utc);
    assert_non_null (rome);
    //  2021-03-30 23:30:00 UTC is 2021-03-31 01:30 in Rome (CEST).
    int64_t ts = 1617147000LL * US;
    ds_daycache_t cache;
    ds_daycache_init (&cache);
    ds_day_format (ds_tz_day (utc, &cache, ts), buf);
    assert_string_equal (buf, "2021-03-30");
    ds_daycache_init (&cache);
    ds_day_format (ds_tz_day (rome, &cache, ts), buf);
    assert_string_equal (buf, "2021-03-31");
    ds_tz_format (rome, ts + 5, buf);
    assert_string_equal (buf, "2021-03-31 01:30:00.000005");
    ds_tz_format (utc, -1, buf);
    assert_string_equal (buf, "1969-12-31 23:59:59.999999");
    assert_int_equal (ds_tz_offset (rome, ts), 7200);
    //  The DST day (2021-03-28) is 23 hours long in Rome; 2021-10-31 is 25.
    int32_t day;
    assert_int_equal (ds_day_parse ("2021-03-28", &day), 0);
    assert_int_equal (ds_tz_day_start (rome, day + 1) - ds_tz_day_start (rome, day), 23LL * 3600 * US);
    assert_int_equal (ds_tz_day_start (rome, day), (int64_t) (day * 86400LL - 3600) * US);
    assert_int_equal (ds_day_parse ("2021-10-31", &day), 0);
    assert_int_equal (ds_tz_day_start (rome, day + 1) - ds_tz_day_start (rome, day), 25LL * 3600 * US);
    assert_int_equal (ds_tz_day_start (utc, day), day * 86400LL * US);
    //  Apia skipped 2011-12-30: it starts where 2011-12-31 does.
    ds_tz_t *apia = ds_tz_load ("Pacific/Apia", err, sizeof err);
    assert_non_null (apia);
    assert_int_equal (ds_day_parse ("2011-12-30", &day), 0);
    assert_int_equal (ds_tz_day_start (apia, day), ds_tz_day_start (apia, day + 1));
    //  Text stays 26 characters at the ends of the range.
    ds_tz_format (utc, INT64_MIN, buf);
    assert_string_equal (buf, "0000-01-01 00:00:00.000000");
    ds_tz_format (rome, INT64_MAX, buf);
    assert_string_equal (buf, "9999-12-31 23:59:59.999999");
    assert_int_equal (ds_tz_next_change (utc, 0), INT64_MAX);
    ds_tz_destroy (&apia);
    ds_tz_destroy (&rome);
    assert_ptr_equal (utc, ds_tz_utc ());       //  one built-in UTC; destroy leaves it
    ds_tz_destroy (&utc);
    assert_null (utc);
    ds_tz_destroy (&utc);
    assert_string_equal (ds_tz_name (ds_tz_utc ()), "UTC");
    assert_int_equal (ds_tz_offset (ds_tz_utc (), ts), 0);
}

static void
test_names (void **state)
{
    (void) state;
    char err [256];
    const char *bad [] = { "", "/etc/localtime", "../zoneinfo/UTC", "Europe/../Europe/Rome",
                           "Europe/Rome\n", "Europe Rome", "No/Such_Zone", "Europe",
                           "iso3166.tab", NULL };
    for (const char **b = bad; *b; b++) {
        err [0] = 0;
        assert_null (ds_tz_load (*b, err, sizeof err));
        assert_true (strlen (err) > 0);
    }
    assert_null (ds_tz_load (NULL, err, sizeof err));
    ds_tz_load ("No/Such_Zone", err, sizeof err);
    assert_non_null (strstr (err, "No/Such_Zone"));
    char longname [200];
    memset (longname, 'a', sizeof longname - 1);
    longname [sizeof longname - 1] = 0;
    assert_null (ds_tz_load (longname, err, sizeof err));
    if (access (ZONEINFO "/right/UTC", R_OK) == 0) {
        assert_null (ds_tz_load ("right/UTC", err, sizeof err));
        assert_non_null (strstr (err, "leap"));
    }

    //  $TZDIR: a zone under another directory and name; "UTC" needs no file.
    char dir [64];
    assert_int_equal (fx_scratch_make (dir, sizeof dir, "ds-tzdir"), 0);
    char sub [80], file [96];
    snprintf (sub, sizeof sub, "%s/Test", dir);
    assert_int_equal (mkdir (sub, 0700), 0);
    snprintf (file, sizeof file, "%s/Zone", sub);
    FILE *in = fopen (ZONEINFO "/Asia/Kathmandu", "rb"), *out = fopen (file, "wb");
    assert_non_null (in);
    assert_non_null (out);
    char data [4096];
    size_t n = fread (data, 1, sizeof data, in);
    assert_int_equal (fwrite (data, 1, n, out), n);
    fclose (in);
    fclose (out);
    setenv ("TZDIR", dir, 1);
    ds_tz_t *tz = ds_tz_load ("Test/Zone", err, sizeof err);
    ds_tz_t *utc = ds_tz_load ("UTC", err, sizeof err);
    assert_null (ds_tz_load ("Europe/Rome", err, sizeof err));
    unsetenv ("TZDIR");
    assert_non_null (tz);
    assert_non_null (utc);
    assert_int_equal (ds_tz_offset (tz, 1617147000LL * US), 5 * 3600 + 45 * 60);
    assert_string_equal (ds_tz_name (tz), "Test/Zone");
    ds_tz_destroy (&tz);
    ds_tz_destroy (&utc);
    assert_int_equal (fx_scratch_remove (dir), 0);
}

//  Malformed images: every truncation of a real file, bit flips, and
//  hand-made defects are refused or read, never a crash (ASan watches).
static void
test_malformed (void **state)
{
    (void) state;
    FILE *f = fopen (ZONEINFO "/Europe/Rome", "rb");
    assert_non_null (f);
    static uint8_t data [8192];
    size_t n = fread (data, 1, sizeof data, f);
    fclose (f);
    char err [256];
    ds_tz_t *tz = ds_tz_parse ("Europe/Rome", data, n, err, sizeof err);
    assert_non_null (tz);
    ds_tz_destroy (&tz);
    for (size_t len = 0; len < n; len++) {
        uint8_t *copy = malloc (len ? len : 1);     //  exact size: ASan sees overreads
        memcpy (copy, data, len);
        assert_null (ds_tz_parse ("cut", copy, len, err, sizeof err));
        free (copy);
    }
    for (int i = 0; i < 20000; i++) {
        uint8_t *copy = malloc (n);
        memcpy (copy, data, n);
        copy [s_rand () % n] ^= (uint8_t) (1u << (s_rand () % 8));
        tz = ds_tz_parse ("flip", copy, n, err, sizeof err);
        if (tz) {
            ds_daycache_t cache;
            ds_daycache_init (&cache);
            char text [32];
            for (int64_t t = s_from; t < s_to; t += 86400LL * 365 * US) {
                ds_tz_day (tz, &cache, t);
                ds_tz_format (tz, t, text);
                assert_int_equal (strlen (text), 26);
            }
            ds_tz_day_start (tz, 20000);
        }
        ds_tz_destroy (&tz);
        free (copy);
    }
    const char *footers [] = { "EST5EDT", "EST", "EST5EDT,M3.2.0", "EST5EDT,M13.2.0,M11.1.0",
                               "EST5EDT,M3.6.0,M11.1.0", "EST5EDT,M3.2.7,M11.1.0", "EST25",
                               "EST5EDT,J0,J365", "EST5EDT,366,J365", "<AB>5", "<ABC5", "EST5:60",
                               "EST5EDT,M3.2.0/168,M11.1.0", "EST5EDT,M3.2.0,M11.1.0x", NULL };
    for (const char **b = footers; *b; b++) {
        size_t len;
        uint8_t *image = s_tzif (*b, 0, &len);
        tz = ds_tz_parse ("bad", image, len, err, sizeof err);
        if (tz)
            fail_msg ("footer '%s' accepted", *b);
        assert_non_null (strstr (err, "footer"));
    }
    size_t len;
    uint8_t *image = s_tzif ("UTC0", 26 * 3600, &len);
    assert_null (ds_tz_parse ("bad", image, len, err, sizeof err));
    image = s_tzif ("UTC0", 0, &len);
    image [4] = '1';
    assert_null (ds_tz_parse ("bad", image, len, err, sizeof err));
    image [4] = 0;                                  //  version 1: the footer is not read
    tz = ds_tz_parse ("v1", image, len, err, sizeof err);
    assert_non_null (tz);
    ds_tz_destroy (&tz);
}

//  One zone, several threads, no locks: each gets the single-thread answers.
typedef struct {
    const ds_tz_t *tz;
    const int64_t *ts;
    const int32_t *day;
    size_t n;
    int wrong;
} job_t;

static void *
s_worker (void *arg)
{
    job_t *job = arg;
    ds_daycache_t cache;
    ds_daycache_init (&cache);
    for (int round = 0; round < 20; round++)
        for (size_t i = 0; i < job->n; i++)
            job->wrong += ds_tz_day (job->tz, &cache, job->ts [i]) != job->day [i];
    return NULL;
}

static void
test_threads_share_a_zone (void **state)
{
    (void) state;
    char err [256];
    ds_tz_t *tz = ds_tz_load ("America/St_Johns", err, sizeof err);
    assert_non_null (tz);
    enum { N = 20000, THREADS = 4 };
    int64_t *ts = malloc (N * sizeof *ts);
    int32_t *day = malloc (N * sizeof *day);
    for (size_t i = 0; i < N; i++) {
        ts [i] = s_from + (int64_t) (s_rand () % (uint64_t) (s_to - s_from));
        ds_daycache_t fresh;
        ds_daycache_init (&fresh);
        day [i] = ds_tz_day (tz, &fresh, ts [i]);
    }
    pthread_t threads [THREADS];
    job_t jobs [THREADS];
    for (int k = 0; k < THREADS; k++) {
        jobs [k] = (job_t) { tz, ts, day, N, 0 };
        assert_int_equal (pthread_create (&threads [k], NULL, s_worker, &jobs [k]), 0);
    }
    for (int k = 0; k < THREADS; k++) {
        pthread_join (threads [k], NULL);
        assert_int_equal (jobs [k].wrong, 0);
    }
    free (ts);
    free (day);
    ds_tz_destroy (&tz);
}

//  A failed check leaves a test early: the next starts from a clean
//  environment.
static int
s_clean_env (void **state)
{
    (void) state;
    unsetenv ("TZDIR");
    unsetenv ("TZ");
    tzset ();
    return 0;
}

int
main (void)
{
    if (access (ZONEINFO "/Europe/Rome", R_OK) != 0) {
        fprintf (stderr, "test_tz needs the TZ database (Debian package tzdata) in " ZONEINFO "\n");
        return 1;
    }
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_teardown (test_utc_and_rome, s_clean_env),
        cmocka_unit_test_teardown (test_names, s_clean_env),
        cmocka_unit_test_teardown (test_malformed, s_clean_env),
        cmocka_unit_test_teardown (test_footer_rules_against_glibc, s_clean_env),
        cmocka_unit_test_teardown (test_made_files_against_glibc, s_clean_env),
        cmocka_unit_test_teardown (test_zones_against_glibc, s_clean_env),
        cmocka_unit_test_teardown (test_every_system_zone, s_clean_env),
        cmocka_unit_test_teardown (test_threads_share_a_zone, s_clean_env),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
