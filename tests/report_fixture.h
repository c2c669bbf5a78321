/*  report_fixture.h - what the unit tests of the report's figure modules
    share (test_report_fig.c, test_report_curves.c, test_report_heatmap.c,
    test_report_pattern.c): a scratch directory, a msgpack packer whose
    result is unpacked as a query reply is, and one figure drawn from a
    row into that directory with its gnuplot block kept in memory.

    Include after <cmocka.h>; the functions are static inline, so a test
    that does not use one is not warned about it.
*/
#ifndef REPORT_FIXTURE_H
#define REPORT_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "report_fig.h"
#include "scratch_fixture.h"

static char s_tmp [64];                 //  the scratch directory (mkdtemp)

static inline int
fx_setup (void **state)
{
    (void) state;
    return fx_scratch_make (s_tmp, sizeof s_tmp, "test_report_fx");
}

static inline int
fx_teardown (void **state)
{
    (void) state;
    return fx_scratch_remove (s_tmp);
}

//  A file of the scratch directory, NUL-terminated (caller frees); NULL if missing.
static inline char *
fx_slurp (const char *name)
{
    char path [128];
    snprintf (path, sizeof path, "%s/%s", s_tmp, name);
    FILE *f = fopen (path, "rb");
    if (!f)
        return NULL;
    fseek (f, 0, SEEK_END);
    long size = ftell (f);
    fseek (f, 0, SEEK_SET);
    char *text = malloc ((size_t) size + 1);
    assert_non_null (text);
    assert_int_equal (fread (text, 1, (size_t) size, f), (size_t) size);
    text [size] = 0;
    fclose (f);
    return text;
}

//  Bytes of a file of the scratch directory, -1 if missing.
static inline long
fx_size (const char *name)
{
    char path [128];
    struct stat st;
    snprintf (path, sizeof path, "%s/%s", s_tmp, name);
    return stat (path, &st) == 0 ? (long) st.st_size : -1;
}

//  Packs a result; fx_object() unpacks it into a zone.
typedef struct {
    msgpack_sbuffer buf;
    msgpack_packer pk;
    msgpack_zone *zone;
} fx_packer_t;

static inline msgpack_packer *
fx_pack (fx_packer_t *p)
{
    msgpack_sbuffer_init (&p->buf);
    msgpack_packer_init (&p->pk, &p->buf, msgpack_sbuffer_write);
    p->zone = msgpack_zone_new (4096);
    return &p->pk;
}

static inline void
fx_str (msgpack_packer *pk, const char *s)
{
    msgpack_pack_str (pk, strlen (s));
    msgpack_pack_str_body (pk, s, strlen (s));
}

static inline msgpack_object
fx_object (fx_packer_t *p)
{
    msgpack_object obj;
    assert_int_equal (ds_mp_unpack ((const uint8_t *) p->buf.data, p->buf.size, p->zone, &obj), 0);
    return obj;
}

static inline void
fx_pack_free (fx_packer_t *p)
{
    msgpack_sbuffer_destroy (&p->buf);
    msgpack_zone_free (p->zone);
}

//  One figure drawn into the scratch directory.
typedef struct {
    char err [256];
    ds_rdata_t *data;
    ds_rdir_t *dir;
    ds_rwindow_t win;               //  2021-03-02 .. 2021-03-08 UTC, min_packets 10
    char *gp;                       //  its gnuplot block(s)
    size_t gp_size;
    FILE *gp_out;
    ds_rfig_t *fig;
} fx_t;

//  Starts a figure of row over the default window (change c->win before fx_draw).
static inline void
fx_open (fx_t *c, const ds_rfig_row_t *row)
{
    c->data = ds_rdata_new (c->err, sizeof c->err);
    c->dir = ds_rdir_new (s_tmp, c->data);
    memset (&c->win, 0, sizeof c->win);
    snprintf (c->win.first_day, sizeof c->win.first_day, "2021-03-02");
    snprintf (c->win.last_day, sizeof c->win.last_day, "2021-03-08");
    snprintf (c->win.tz, sizeof c->win.tz, "UTC");
    c->win.first_dn = 18688;
    c->win.last_dn = 18694;
    c->win.days = 7;
    c->win.min_packets = 10;
    c->win.tz_matches = true;
    c->gp = NULL;
    c->gp_out = open_memstream (&c->gp, &c->gp_size);
    c->fig = ds_rfig_new (row, c->dir, c->data, &c->win);
}

static inline int
fx_draw (fx_t *c, const msgpack_object *result)
{
    int rc = ds_rfig_draw (c->fig, result, c->gp_out);
    fflush (c->gp_out);
    return rc;
}

static inline void
fx_close (fx_t *c)
{
    fclose (c->gp_out);
    free (c->gp);
    ds_rfig_destroy (&c->fig);
    ds_rdir_destroy (&c->dir);
    ds_rdata_destroy (&c->data);
}

//  Draws figure row from result and expects it refused with err, no block
//  written; frees the packer of the result.
static inline void
fx_refused (const ds_rfig_row_t *row, const msgpack_object *result, fx_packer_t *p, const char *err)
{
    fx_t c;
    fx_open (&c, row);
    assert_int_equal (fx_draw (&c, result), -1);
    assert_string_equal (c.err, err);
    assert_int_equal (c.gp_size, 0);
    fx_close (&c);
    fx_pack_free (p);
}

#endif
