/*  pattern.c - the `pattern` query over the shards; see pattern.h.

    Distributed selection (select rounds).  Each target rank R has a key
    bracket [lo, hi) known to hold the key K of rank R.  Targets that share
    a bracket ask it once.  A shard answers, per bracket, how many of its
    keys lie below lo and inside [lo, hi), and `per` of the inside keys at
    evenly spaced known positions (all of them when it has few).  With
    every shard's spaced keys merged in key order, each candidate key c
    gets bounds on how many keys of the bracket lie below it: exact for its
    own shard, between the neighbouring spaced keys' positions for the
    others.  The last candidate whose upper bound is <= R - below becomes
    the new lo, the first whose lower bound is > it the new hi; a candidate
    whose bounds are both equal to it is K.  A bracket shrinks about
    per-fold a round, and once every shard sends all its inside keys the
    answer is exact, so a month's 543 k sources take 2-3 rounds.

    Consistency.  Rounds are separate requests: a shard that consumes a
    live stream may change between them.  Every partial carries its
    store's generation; if one differs from the summary round's, or the
    counts stop fitting together, the answer is still bounded and
    well-formed but marked "exact": false (tokens clamped to the sources
    counted).  On a quiescent store every number is exact.
*/
#include "pattern.h"
#include "pattern_codec.h"
#include "ds_limits.h"
#include "record.h"
#include "tzday.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_REPLY_MAX     DS_REPLY_MAX            //  a reply of the query service
#define S_SELECT_BUDGET 65536                   //  most spaced keys a select round asks, all shards
#define S_ROUNDS_MAX    64                      //  select rounds before giving up on exactness

typedef struct {
    size_t n;                       //  shards
    ds_qpattern_round_fn *round;
    void *ctx;
    ds_pattern_req_t req;           //  the request being built (sel fixed)
    msgpack_sbuffer buf;
    ds_pattern_part_t *parts;       //  the last round's partials, by shard
    uint64_t *gens;                 //  generations of the summary round
    bool have_gens;
    bool exact;                     //  no shard moved, every count fitted
    char *err;
    size_t err_size;
} s_ctx_t;

//  One round: encodes c->req as op, asks every shard, decodes the partials.
static int
s_round (s_ctx_t *c, int op)
{
    c->req.op = op;
    if (ds_pattern_req_encode (&c->req, &c->buf) != DS_OK) {
        snprintf (c->err, c->err_size, "cannot encode a pattern request");
        return -1;
    }
    const msgpack_object *results;
    if (c->round (c->ctx, &c->buf, &results, c->err, c->err_size))
        return -1;
    for (size_t i = 0; i < c->n; i++) {
        const msgpack_object *r = &results [i];
        char why [200] = "not a bin";
        if (r->type != MSGPACK_OBJECT_BIN
        ||  ds_pattern_part_decode ((const uint8_t *) r->via.bin.ptr, r->via.bin.size, &c->parts [i],
                                    why, sizeof why) != DS_OK
        ||  (c->parts [i].op != op && snprintf (why, sizeof why, "answers op %d, not %d", c->parts [i].op, op))) {
            snprintf (c->err, c->err_size, "shard %zu: bad pattern partial (%s)", i, why);
            return -1;
        }
        if (c->have_gens && c->parts [i].generation != c->gens [i])
            c->exact = false;
    }
    return 0;
}

//  ---------------------------------------------------------------------
//  Distributed selection

typedef struct {
    uint64_t rank;                  //  wanted: the key with `rank` keys below it
    ds_pattern_key_t lo, hi;        //  bracket known to hold it
    bool done;
    ds_pattern_key_t key;           //  the answer once done
} s_target_t;

typedef struct {
    ds_pattern_key_t key;
    uint32_t shard;
    uint64_t pos;                   //  position inside the bracket at its shard
} s_cand_t;

static int
s_cmp_cand (const void *x, const void *y)
{
    const s_cand_t *a = x, *b = y;
    return ds_pattern_key_cmp (&a->key, &b->key);
}

static bool
s_same_bracket (const s_target_t *a, const s_target_t *b)
{
    return ds_pattern_key_cmp (&a->lo, &b->lo) == 0 && ds_pattern_key_cmp (&a->hi, &b->hi) == 0;
}

//  Narrows the targets [t0, t1) of one bracket from its candidates; see
//  the top of the file.  lo_b/hi_b are scratch of m entries; state is
//  per shard scratch (3 x n).
static void
s_narrow (s_ctx_t *c, s_target_t *t, uint32_t t0, uint32_t t1, uint64_t below, uint64_t inside,
          const s_cand_t *cand, uint32_t m, const uint64_t *inside_i, uint32_t per,
          uint64_t *lo_b, uint64_t *hi_b, uint64_t *state)
{
    uint64_t *passed = state, *lo_i = state + c->n, *hi_i = state + 2 * c->n;
    uint64_t LO = 0, HI = 0;
    for (size_t i = 0; i < c->n; i++) {
        passed [i] = 0;
        lo_i [i] = 0;
        hi_i [i] = ds_pattern_select_keys (inside_i [i], per)
                 ? ds_pattern_select_pos (inside_i [i], per, 0) : inside_i [i];
        HI += hi_i [i];
    }
    for (uint32_t k = 0; k < m; k++) {
        uint32_t s = cand [k].shard;
        uint64_t pos = cand [k].pos;
        lo_b [k] = LO - lo_i [s] + pos;
        hi_b [k] = HI - hi_i [s] + pos;
        passed [s]++;
        LO += pos + 1 - lo_i [s];
        lo_i [s] = pos + 1;
        uint32_t ms = ds_pattern_select_keys (inside_i [s], per);
        uint64_t next = passed [s] < ms ? ds_pattern_select_pos (inside_i [s], per, (uint32_t) passed [s])
                                        : inside_i [s];
        HI += next - hi_i [s];
        hi_i [s] = next;
    }
    for (uint32_t j = t0; j < t1; j++) {
        if (t [j].done)
            continue;
        if (t [j].rank < below || t [j].rank - below >= inside) {
            //  The shards moved on since the ranks were set: settle for
            //  the bracket's end.
            c->exact = false;
            t [j].done = true;
            t [j].key = t [j].lo;
            continue;
        }
        uint64_t want = t [j].rank - below;
        uint32_t a = 0, b = m;              //  first candidate with hi > want
        while (a < b) {
            uint32_t mid = a + (b - a) / 2;
            if (hi_b [mid] <= want)
                a = mid + 1;
            else
                b = mid;
        }
        if (a > 0 && lo_b [a - 1] == want && hi_b [a - 1] == want) {
            t [j].done = true;
            t [j].key = cand [a - 1].key;
            continue;
        }
        if (a > 0)
            t [j].lo = cand [a - 1].key;
        uint32_t u = 0, v = m;              //  first candidate with lo > want
        while (u < v) {
            uint32_t mid = u + (v - u) / 2;
            if (lo_b [mid] <= want)
                u = mid + 1;
            else
                v = mid;
        }
        if (u < m)
            t [j].hi = cand [u].key;
    }
}

//  Finds the keys of the targets' ranks (ascending) in a key space.
static int
s_select (s_ctx_t *c, uint32_t space, s_target_t *t, uint32_t nt)
{
    for (uint32_t j = 0; j < nt; j++) {
        t [j].lo = ds_pattern_key_min;
        t [j].hi = ds_pattern_key_max;
        t [j].done = false;
    }
    uint8_t *keys = malloc ((size_t) 2 * DS_PATTERN_BRACKETS_MAX * DS_PATTERN_KEY_SIZE);
    uint32_t *first = malloc ((DS_PATTERN_BRACKETS_MAX + 1) * sizeof *first);
    uint64_t *inside_i = malloc (c->n * sizeof *inside_i);
    uint64_t *state = malloc (3 * c->n * sizeof *state);
    size_t *off = malloc (c->n * sizeof *off);
    s_cand_t *cand = NULL;
    uint64_t *lo_b = NULL, *hi_b = NULL;
    size_t cand_cap = 0;
    int rv = -1;
    if (!keys || !first || !inside_i || !state || !off)
        goto nomem;
    for (int round = 0; ; round++) {
        uint32_t nb = 0, last = UINT32_MAX;
        for (uint32_t j = 0; j < nt; j++) {
            if (t [j].done)
                continue;
            if (last == UINT32_MAX || !s_same_bracket (&t [last], &t [j])) {
                if (nb == DS_PATTERN_BRACKETS_MAX)
                    break;                  //  the rest waits for the next round
                first [nb] = j;
                ds_pattern_key_put (keys + (size_t) (2 * nb) * DS_PATTERN_KEY_SIZE, &t [j].lo);
                ds_pattern_key_put (keys + (size_t) (2 * nb + 1) * DS_PATTERN_KEY_SIZE, &t [j].hi);
                nb++;
            }
            last = j;
        }
        if (nb == 0)
            break;
        first [nb] = last + 1;
        if (round == S_ROUNDS_MAX) {
            for (uint32_t j = 0; j < nt; j++)
                if (!t [j].done) {
                    t [j].done = true;
                    t [j].key = t [j].lo;
                }
            c->exact = false;
            break;
        }
        size_t budget = (size_t) 64 * nt;  //  more targets, more keys worth asking
        budget = budget < 4096 ? 4096 : budget > S_SELECT_BUDGET ? S_SELECT_BUDGET : budget;
        uint32_t per = (uint32_t) (budget / ((size_t) nb * c->n));
        if (per < 2)
            per = 2;
        if (per > DS_PATTERN_SELECT_KEYS_MAX / nb)
            per = DS_PATTERN_SELECT_KEYS_MAX / nb;
        c->req.space = space;
        c->req.per = per;
        c->req.n_keys = 2 * nb;
        c->req.keys = keys;
        if (s_round (c, DS_PATTERN_SELECT))
            goto done;
        size_t need = 0;
        for (size_t i = 0; i < c->n; i++) {
            if (c->parts [i].n_counts != 2 * nb) {
                snprintf (c->err, c->err_size, "shard %zu: select answer for %u brackets, not %u",
                          i, c->parts [i].n_counts / 2, nb);
                goto done;
            }
            off [i] = 0;
            need += c->parts [i].n_keys;
        }
        if (need > cand_cap) {
            free (cand); free (lo_b); free (hi_b);
            cand_cap = need;
            cand = malloc (need * sizeof *cand);
            lo_b = malloc (need * sizeof *lo_b);
            hi_b = malloc (need * sizeof *hi_b);
            if (!cand || !lo_b || !hi_b)
                goto nomem;
        }
        for (uint32_t b = 0; b < nb; b++) {
            uint64_t below = 0, inside = 0;
            uint32_t m = 0;
            for (size_t i = 0; i < c->n; i++) {
                const ds_pattern_part_t *p = &c->parts [i];
                below += ds_pattern_count (p, 2 * b);
                inside_i [i] = ds_pattern_count (p, 2 * b + 1);
                inside += inside_i [i];
                uint32_t mi = ds_pattern_select_keys (inside_i [i], per);
                if (mi > p->n_keys - off [i]) {
                    snprintf (c->err, c->err_size, "shard %zu: select answer lacks keys", i);
                    goto done;
                }
                for (uint32_t k = 0; k < mi; k++, m++) {
                    ds_pattern_key_get (p->keys + (off [i] + k) * DS_PATTERN_KEY_SIZE, &cand [m].key);
                    cand [m].shard = (uint32_t) i;
                    cand [m].pos = ds_pattern_select_pos (inside_i [i], per, k);
                }
                off [i] += mi;
            }
            qsort (cand, m, sizeof *cand, s_cmp_cand);
            s_narrow (c, t, first [b], first [b + 1], below, inside, cand, m, inside_i, per,
                      lo_b, hi_b, state);
        }
        for (size_t i = 0; i < c->n; i++)
            if (off [i] != c->parts [i].n_keys) {
                snprintf (c->err, c->err_size, "shard %zu: select answer has extra keys", i);
                goto done;
            }
    }
    rv = 0;
    goto done;
nomem:
    snprintf (c->err, c->err_size, "out of memory selecting pattern keys");
done:
    free (keys); free (first); free (inside_i); free (state); free (off);
    free (cand); free (lo_b); free (hi_b);
    return rv;
}

//  ---------------------------------------------------------------------
//  The answer

typedef struct {
    int64_t lo, hi, x0, bin_us;     //  range [lo, hi); first bin start
    uint64_t bins;                  //  bins on the x axis
    uint64_t sources, points;
    uint32_t width, height;
    uint32_t cell_bytes;
    msgpack_sbuffer raster;         //  deflated cells
    uint64_t offset, next;          //  sample page; next == 0: none after
    bool has_next;
    uint32_t n_sample;
    int64_t *sample_bin;            //  by point, sorted by (token, bin)
    uint64_t *sample_token;
    uint32_t n_ssrc;                //  sampled sources, by token
    uint64_t *ssrc_token;
    ds_addr_t *ssrc_addr;
} s_answer_t;

static void
s_answer_free (s_answer_t *a)
{
    msgpack_sbuffer_destroy (&a->raster);
    free (a->sample_bin);
    free (a->sample_token);
    free (a->ssrc_token);
    free (a->ssrc_addr);
}

static int
s_do_raster (s_ctx_t *c, s_answer_t *a)
{
    uint64_t s = a->sources;
    uint32_t h = a->height;
    s_target_t *t = NULL;
    void *cells = NULL;
    int rv = -1;
    if (h > 1) {
        t = calloc (h - 1, sizeof *t);
        if (!t)
            goto nomem;
        for (uint32_t r = 1; r < h; r++)    //  ceil (r * S / h): first token of row r
            t [r - 1].rank = (uint64_t) (((unsigned __int128) r * s + h - 1) / h);
        if (s_select (c, DS_PATTERN_SPACE_SOURCES, t, h - 1))
            goto done;
    }
    uint8_t *keys = malloc ((size_t) (h ? h : 1) * DS_PATTERN_KEY_SIZE);
    if (!keys)
        goto nomem;
    for (uint32_t r = 0; r + 1 < h; r++)
        ds_pattern_key_put (keys + (size_t) r * DS_PATTERN_KEY_SIZE, &t [r].key);
    size_t n = (size_t) a->width * h;
    uint32_t acc_bytes = a->points > UINT32_MAX ? 8 : 4;
    cells = calloc (n ? n : 1, acc_bytes);
    if (!cells) {
        free (keys);
        goto nomem;
    }
    if (n) {
        c->req.width = a->width;
        c->req.height = h;
        c->req.n_keys = h - 1;
        c->req.keys = keys;
        int rc = s_round (c, DS_PATTERN_RASTER);
        c->req.width = c->req.height = 0;
        for (size_t i = 0; rc == 0 && i < c->n; i++) {
            const ds_pattern_part_t *p = &c->parts [i];
            if (p->width != a->width || p->height != h)
                rc = DS_ERR_MALFORMED;
            else
                rc = ds_pattern_cells_add (p->data, p->data_size, n, p->cell_bytes, cells, acc_bytes);
            if (rc == DS_ERR_TOO_BIG) {             //  more points than the summary counted
                void *wide = calloc (n, 8);
                if (!wide) {
                    free (keys);
                    goto nomem;
                }
                free (cells);
                cells = wide;
                acc_bytes = 8;
                c->exact = false;
                i = (size_t) -1;                    //  add every shard again
                rc = 0;
            }
            else
            if (rc)
                snprintf (c->err, c->err_size, "shard %zu: bad raster (%s)", i, ds_result_str (rc));
        }
        if (rc) {
            free (keys);
            goto done;
        }
    }
    free (keys);
    uint64_t max = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t v = acc_bytes == 4 ? ((uint32_t *) cells) [i] : ((uint64_t *) cells) [i];
        max = v > max ? v : max;
    }
    a->cell_bytes = max > UINT32_MAX ? 8 : 4;
    if (a->cell_bytes != acc_bytes) {               //  only 8 -> 4 can happen
        uint32_t *narrow = (uint32_t *) cells;
        for (size_t i = 0; i < n; i++)
            narrow [i] = (uint32_t) ((uint64_t *) cells) [i];
    }
    if (ds_pattern_cells_deflate (cells, n, a->cell_bytes, 6, &a->raster))
        goto nomem;
    rv = 0;
    goto done;
nomem:
    snprintf (c->err, c->err_size, "out of memory building the raster");
done:
    free (t);
    free (cells);
    return rv;
}

typedef struct {
    int64_t hash;
    uint8_t addr [16];
    int64_t bin;
    uint32_t src;                   //  index into the sampled sources
} s_spoint_t;

static int
s_cmp_spoint (const void *x, const void *y)
{
    const s_spoint_t *a = x, *b = y;
    if (a->hash != b->hash)
        return a->hash < b->hash ? -1 : 1;
    int r = memcmp (a->addr, b->addr, 16);
    if (r)
        return r;
    return a->bin < b->bin ? -1 : a->bin > b->bin;
}

typedef struct {
    uint64_t token;
    int64_t bin;
} s_tpoint_t;

static int
s_cmp_tpoint (const void *x, const void *y)
{
    const s_tpoint_t *a = x, *b = y;
    if (a->token != b->token)
        return a->token < b->token ? -1 : 1;
    return a->bin < b->bin ? -1 : a->bin > b->bin;
}

//  The page [offset, offset + limit) of the points in (hash, address, bin)
//  order, with the tokens of its sources.
static int
s_do_sample (s_ctx_t *c, s_answer_t *a, uint64_t limit)
{
    uint64_t end = a->offset + limit < a->points ? a->offset + limit : a->points;
    s_target_t t [2] = { { .rank = a->offset }, { .rank = end } };
    if (s_select (c, DS_PATTERN_SPACE_POINTS, t, end < a->points ? 2 : 1))
        return -1;
    uint8_t bracket [2 * DS_PATTERN_KEY_SIZE];
    ds_pattern_key_put (bracket, &t [0].key);
    ds_pattern_key_put (bracket + DS_PATTERN_KEY_SIZE, end < a->points ? &t [1].key : &ds_pattern_key_max);
    c->req.space = DS_PATTERN_SPACE_POINTS;
    c->req.limit = (uint32_t) limit;
    c->req.n_keys = 2;
    c->req.keys = bracket;
    if (s_round (c, DS_PATTERN_SAMPLE))
        return -1;
    c->req.limit = 0;
    size_t np = 0, ns = 0;
    for (size_t i = 0; i < c->n; i++) {
        np += c->parts [i].data_size / 8;
        ns += c->parts [i].n_keys;
    }
    s_spoint_t *pts = malloc ((np ? np : 1) * sizeof *pts);
    ds_pattern_key_t *skeys = malloc ((ns ? ns : 1) * sizeof *skeys);
    uint64_t *tokens = calloc (ns ? ns : 1, sizeof *tokens);
    uint8_t *rank_keys = malloc ((size_t) DS_PATTERN_RANK_MAX * DS_PATTERN_KEY_SIZE);
    s_tpoint_t *tp = NULL;
    int rv = -1;
    if (!pts || !skeys || !tokens || !rank_keys)
        goto nomem;
    size_t k = 0, q = 0;
    for (size_t i = 0; i < c->n; i++) {
        const ds_pattern_part_t *p = &c->parts [i];
        size_t d = 0;
        for (uint32_t s = 0; s < p->n_keys; s++, q++) {
            ds_pattern_key_get (p->keys + (size_t) s * DS_PATTERN_KEY_SIZE, &skeys [q]);
            int64_t hash = ds_pattern_addr_hash (skeys [q].addr);
            for (uint64_t j = 0; j < ds_pattern_count (p, s); j++, d++, k++) {
                pts [k].hash = hash;
                memcpy (pts [k].addr, skeys [q].addr, 16);
                pts [k].bin = 0;
                for (int b = 7; b >= 0; b--)
                    pts [k].bin = (int64_t) (((uint64_t) pts [k].bin << 8) | p->data [d * 8 + (size_t) b]);
                pts [k].src = (uint32_t) q;
            }
        }
    }
    //  A page holds exactly end - offset points unless a shard moved on.
    if (np != end - a->offset)
        c->exact = false;
    qsort (pts, np, sizeof *pts, s_cmp_spoint);
    if (np > limit)
        np = (size_t) limit;
    //  Tokens: how many sources of every shard sort below each key.
    for (size_t from = 0; from < ns; from += DS_PATTERN_RANK_MAX) {
        uint32_t chunk = (uint32_t) (ns - from < DS_PATTERN_RANK_MAX ? ns - from : DS_PATTERN_RANK_MAX);
        for (uint32_t s = 0; s < chunk; s++)
            ds_pattern_key_put (rank_keys + (size_t) s * DS_PATTERN_KEY_SIZE, &skeys [from + s]);
        c->req.n_keys = chunk;
        c->req.keys = rank_keys;
        if (s_round (c, DS_PATTERN_RANK))
            goto done;
        for (size_t i = 0; i < c->n; i++) {
            if (c->parts [i].n_counts != chunk) {
                snprintf (c->err, c->err_size, "shard %zu: rank answer for %u keys, not %u",
                          i, c->parts [i].n_counts, chunk);
                goto done;
            }
            for (uint32_t s = 0; s < chunk; s++)
                tokens [from + s] += ds_pattern_count (&c->parts [i], s);
        }
    }
    for (size_t s = 0; s < ns; s++)
        if (tokens [s] >= a->sources) {
            tokens [s] = a->sources ? a->sources - 1 : 0;
            c->exact = false;
        }
    tp = malloc ((np ? np : 1) * sizeof *tp);
    a->sample_bin = malloc ((np ? np : 1) * sizeof *a->sample_bin);
    a->sample_token = malloc ((np ? np : 1) * sizeof *a->sample_token);
    a->ssrc_token = malloc ((ns ? ns : 1) * sizeof *a->ssrc_token);
    a->ssrc_addr = malloc ((ns ? ns : 1) * sizeof *a->ssrc_addr);
    if (!tp || !a->sample_bin || !a->sample_token || !a->ssrc_token || !a->ssrc_addr)
        goto nomem;
    for (size_t i = 0; i < np; i++)
        tp [i] = (s_tpoint_t) { tokens [pts [i].src], pts [i].bin };
    qsort (tp, np, sizeof *tp, s_cmp_tpoint);
    for (size_t i = 0; i < np; i++) {
        a->sample_bin [i] = tp [i].bin;
        a->sample_token [i] = tp [i].token;
    }
    a->n_sample = (uint32_t) np;
    //  The sources of the points kept, by token.
    uint32_t n_ssrc = 0;
    for (size_t i = 0; i < np; i++)
        if (i == 0 || tp [i].token != tp [i - 1].token)
            a->ssrc_token [n_ssrc++] = tp [i].token;
    for (size_t s = 0; s < ns; s++) {
        uint32_t lo = 0, hi = n_ssrc;
        while (lo < hi) {
            uint32_t mid = lo + (hi - lo) / 2;
            if (a->ssrc_token [mid] < tokens [s])
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo < n_ssrc && a->ssrc_token [lo] == tokens [s])
            memcpy (a->ssrc_addr [lo].b, skeys [s].addr, 16);
    }
    a->n_ssrc = n_ssrc;
    a->next = a->offset + np;
    a->has_next = a->next < a->points;
    rv = 0;
    goto done;
nomem:
    snprintf (c->err, c->err_size, "out of memory sampling pattern points");
done:
    free (pts); free (skeys); free (tokens); free (rank_keys); free (tp);
    return rv;
}

static void
s_pack_answer (msgpack_packer *pk, const ds_query_t *q, const s_answer_t *a, bool exact)
{
    msgpack_pack_map (pk, 18);
    ds_pack_str (pk, "bin_s");       msgpack_pack_int64 (pk, q->bin_s);
    ds_pack_str (pk, "class");       ds_pack_str (pk, q->class_name);
    ds_pack_str (pk, "from_us");     msgpack_pack_int64 (pk, a->lo);
    ds_pack_str (pk, "to_us");       msgpack_pack_int64 (pk, a->hi);
    ds_pack_str (pk, "x0_us");       msgpack_pack_int64 (pk, a->x0);
    ds_pack_str (pk, "bins");        msgpack_pack_uint64 (pk, a->bins);
    ds_pack_str (pk, "sources");     msgpack_pack_uint64 (pk, a->sources);
    ds_pack_str (pk, "points");      msgpack_pack_uint64 (pk, a->points);
    ds_pack_str (pk, "width");       msgpack_pack_uint32 (pk, a->width);
    ds_pack_str (pk, "height");      msgpack_pack_uint32 (pk, a->height);
    ds_pack_str (pk, "cell_bytes");  msgpack_pack_uint32 (pk, a->cell_bytes);
    ds_pack_str (pk, "raster");
    msgpack_pack_bin_with_body (pk, a->raster.size ? a->raster.data : "", a->raster.size);
    ds_pack_str (pk, "offset");      msgpack_pack_uint64 (pk, a->offset);
    ds_pack_str (pk, "limit");       msgpack_pack_int64 (pk, q->limit);
    ds_pack_str (pk, "next_offset");
    if (a->has_next)
        msgpack_pack_uint64 (pk, a->next);
    else
        msgpack_pack_nil (pk);
    ds_pack_str (pk, "sample");
    msgpack_pack_array (pk, a->n_sample);
    for (uint32_t i = 0; i < a->n_sample; i++) {
        msgpack_pack_array (pk, 2);
        msgpack_pack_int64 (pk, a->sample_bin [i]);
        msgpack_pack_uint64 (pk, a->sample_token [i]);
    }
    ds_pack_str (pk, "sample_sources");
    msgpack_pack_array (pk, a->n_ssrc);
    for (uint32_t i = 0; i < a->n_ssrc; i++) {
        char text [64];
        msgpack_pack_array (pk, 2);
        msgpack_pack_uint64 (pk, a->ssrc_token [i]);
        ds_pack_str (pk, ds_addr_format (&a->ssrc_addr [i], text, sizeof text));
    }
    ds_pack_str (pk, "exact");
    if (exact)
        msgpack_pack_true (pk);
    else
        msgpack_pack_false (pk);
}

int
ds_qpattern_check (const ds_query_t *q, char *err, size_t err_size)
{
    if (q->bin_s <= 0 || q->bin_s % 60 || q->bin_s > DS_PATTERN_BIN_S_MAX) {
        snprintf (err, err_size, "bin_s must be a positive multiple of 60 (at most 366 days)");
        return -1;
    }
    if ((q->from_us != INT64_MIN && q->from_us % 60000000LL)
    ||  (q->to_us != INT64_MAX && q->to_us % 60000000LL)) {
        snprintf (err, err_size, "from_us and to_us must be multiples of 60 s (60000000 us)");
        return -1;
    }
    return 0;
}

static int64_t
s_floor_div (int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

int
ds_qpattern_answer (const ds_query_t *q, size_t n, ds_qpattern_round_fn *round, void *ctx,
                    msgpack_packer *pk, char *err, size_t err_size)
{
    if (ds_qpattern_check (q, err, err_size))
        return -1;
    s_ctx_t c = { .n = n, .round = round, .ctx = ctx, .exact = true, .err = err, .err_size = err_size };
    s_answer_t a;
    memset (&a, 0, sizeof a);
    msgpack_sbuffer_init (&a.raster);
    msgpack_sbuffer_init (&c.buf);
    msgpack_sbuffer body;
    msgpack_sbuffer_init (&body);
    int rv = -1;
    if (ds_day_parse (q->first_day, &c.req.sel.first_day) || ds_day_parse (q->last_day, &c.req.sel.last_day)) {
        snprintf (err, err_size, "pattern: the window's days are not resolved");
        goto done;
    }
    c.req.sel.from_us = q->from_us;
    c.req.sel.to_us = q->to_us;
    c.req.sel.bin_s = q->bin_s;
    snprintf (c.req.sel.class_name, sizeof c.req.sel.class_name, "%s", q->class_name);
    c.parts = calloc (n ? n : 1, sizeof *c.parts);
    c.gens = calloc (n ? n : 1, sizeof *c.gens);
    if (!c.parts || !c.gens) {
        snprintf (err, err_size, "out of memory");
        goto done;
    }
    if (s_round (&c, DS_PATTERN_SUMMARY))
        goto done;
    for (size_t i = 0; i < n; i++) {
        const ds_pattern_part_t *p = &c.parts [i];
        int64_t lo = (int64_t) ds_pattern_count (p, 0), hi = (int64_t) ds_pattern_count (p, 1);
        if (i > 0 && (lo != a.lo || hi != a.hi)) {
            snprintf (err, err_size, "shards 0 and %zu resolve the pattern's time range differently "
                      "(do their time zones differ?)", i);
            goto done;
        }
        a.lo = lo;
        a.hi = hi;
        a.sources += p->sources;
        a.points += p->points;
        c.gens [i] = p->generation;
    }
    c.have_gens = true;
    a.bin_us = q->bin_s * 1000000;
    a.x0 = s_floor_div (a.lo, a.bin_us) * a.bin_us;
    a.bins = a.lo < a.hi ? (uint64_t) (s_floor_div (a.hi - 1, a.bin_us) - a.x0 / a.bin_us + 1) : 0;
    a.width = (uint32_t) ((uint64_t) q->width < a.bins ? (uint64_t) q->width : a.bins);
    a.height = (uint32_t) ((uint64_t) q->height < a.sources ? (uint64_t) q->height : a.sources);
    a.offset = (uint64_t) q->offset;
    if (s_do_raster (&c, &a))
        goto done;
    if (q->limit > 0 && a.offset < a.points && s_do_sample (&c, &a, (uint64_t) q->limit))
        goto done;
    msgpack_packer bp;
    msgpack_packer_init (&bp, &body, msgpack_sbuffer_write);
    s_pack_answer (&bp, q, &a, c.exact);
    if (body.size + 64 > S_REPLY_MAX) {
        snprintf (err, err_size, "the pattern reply would be %.1f MiB, over the 16 MiB reply limit: "
                  "ask for a smaller width x height or limit", (double) body.size / (1 << 20));
        goto done;
    }
    pk->callback (pk->data, body.data, body.size);
    rv = 0;
done:
    s_answer_free (&a);
    msgpack_sbuffer_destroy (&c.buf);
    msgpack_sbuffer_destroy (&body);
    free (c.parts);
    free (c.gens);
    return rv;
}
