/*  libs: ds_labeler ds_proto ds_common */
/*  test_gt.c - the ground-truth table: loaders, lookup rules, real lists.

    The real-data test checks the table against a naive reference written
    here (every entry scanned, longest wins, first loaded among equals),
    with entries and addresses taken by parsing the files in the test.
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <cmocka.h>
#include "scratch_fixture.h"
#include "gt.h"
#include "log.h"

static char s_dir [256];

static void
s_write (const char *name, const char *text)
{
    char path [512];
    snprintf (path, sizeof path, "%s/%s", s_dir, name);
    FILE *file = fopen (path, "w");
    assert_non_null (file);
    fputs (text, file);
    fclose (file);
}

static char *
s_path (const char *name)
{
    static char path [8][512];
    static int next = 0;
    char *p = path [next++ % 8];
    snprintf (p, 512, "%s/%s", s_dir, name);
    return p;
}

static int
s_setup (void **state)
{
    (void) state;
    assert_int_equal (fx_scratch_make (s_dir, sizeof s_dir, "test_gt"), 0);
    s_write ("a.csv",
        "Unnamed: 0,ip,class,extra\n"
        "0,1.2.3.4,alpha,x\n"                   //  line 2
        "1,1.2.3.4,alpha,y\n"                   //  identical duplicate: silent
        "2,1.2.3.5,beta,z\n"                    //  line 4
        "3,1.2.3.5,gamma,z\n"                   //  conflict: beta stays (warning 1)
        "4,2001:db8::1,alpha6,\n"               //  line 6
        "5,not-an-ip,alpha,\n"                  //  bad address (warning 2)
        "6,9.9.9.9,netscout\n"                  //  aliased to unknown by default
        "\n");
    s_write ("censys_v4.txt",
        "# Censys\n"
        "1.2.3.0/24   # trailing comment\n"     //  line 2
        "\n"
        "bad line\n");                          //  warning 3
    s_write ("censys_v6.txt", "2001:db8:ff::/48\n");
    s_write ("wide.txt", "10.0.0.0/8\n2001:db8::/32\n");
    s_write ("narrow.txt", "10.1.0.0/16\n2001:db8:1::/48\n10.0.0.0/8\n");   //  conflict (warning 4)
    s_write ("host.txt", "10.1.2.3\n10.1.2.4/32\n2001:db8::dead/128\n");
    s_write ("pair.txt", "10.1.2.6/31\n");
    s_write ("zero.txt", "0.0.0.0/0\n");
    s_write ("all6.txt", "::/0\n");
    return 0;
}

static int
s_teardown (void **state)
{
    (void) state;
    return fx_scratch_remove (s_dir);
}

static ds_gt_t *
s_table (int which)
{
    ds_gt_t *gt = ds_gt_new ();
    char err [256];
    char spec [600];
    assert_int_equal (ds_gt_load_csv (gt, s_path ("a.csv"), err, sizeof err), 0);
    assert_int_equal (ds_gt_load_spec (gt, s_path ("censys_v4.txt"), err, sizeof err), 0);
    assert_int_equal (ds_gt_load_list (gt, s_path ("censys_v6.txt"), NULL, err, sizeof err), 0);
    const char *named [] = { "wide", "narrow", "host", "pair" };
    for (int i = 0; i < 4; i++) {
        snprintf (spec, sizeof spec, "%s=%s/%s.txt", named [i], s_dir, named [i]);
        assert_int_equal (ds_gt_load_spec (gt, spec, err, sizeof err), 0);
    }
    if (which == 1) {
        snprintf (spec, sizeof spec, "zero=%s", s_path ("zero.txt"));
        assert_int_equal (ds_gt_load_spec (gt, spec, err, sizeof err), 0);
        snprintf (spec, sizeof spec, "all6=%s", s_path ("all6.txt"));
        assert_int_equal (ds_gt_load_spec (gt, spec, err, sizeof err), 0);
        assert_int_equal (ds_gt_alias_spec (gt, "netscout=netscout", err, sizeof err), 0);
        assert_int_equal (ds_gt_alias_spec (gt, "beta=gamma2", err, sizeof err), 0);
    }
    assert_int_equal (ds_gt_build (gt), 0);
    return gt;
}

typedef struct {
    int table;                      //  0: no /0 entries, default aliases; 1: /0s, aliases
    const char *ip;
    const char *class_name;
    bool matched;
    const char *rule;               //  substring of the rule
} s_case_t;

static const s_case_t s_cases [] = {
    //  exact vs prefix
    { 0, "1.2.3.4", "alpha", true, "exact 1.2.3.4 from a.csv:2" },
    { 0, "::ffff:1.2.3.4", "alpha", true, "exact 1.2.3.4 from a.csv:2" },
    { 0, "1.2.3.5", "beta", true, "exact 1.2.3.5 from a.csv:4" },      //  first wins
    { 0, "1.2.3.6", "censys", true, "prefix 1.2.3.0/24 from censys_v4.txt:2" },
    { 0, "1.2.3.255", "censys", true, "prefix 1.2.3.0/24" },
    { 0, "1.2.4.0", "unknown", false, "no match" },
    { 0, "1.2.2.255", "unknown", false, "no match" },
    //  longest prefix wins; /32 and /31 edges
    { 0, "10.1.2.3", "host", true, "exact 10.1.2.3 from host.txt:1" },
    { 0, "10.1.2.4", "host", true, "exact 10.1.2.4 from host.txt:2" },
    { 0, "10.1.2.5", "narrow", true, "prefix 10.1.0.0/16 from narrow.txt:1" },
    { 0, "10.1.2.6", "pair", true, "prefix 10.1.2.6/31 from pair.txt:1" },
    { 0, "10.1.2.7", "pair", true, "prefix 10.1.2.6/31" },
    { 0, "10.1.2.8", "narrow", true, "prefix 10.1.0.0/16" },
    { 0, "10.2.0.1", "wide", true, "prefix 10.0.0.0/8 from wide.txt:1" },   //  first wins
    { 0, "10.255.255.255", "wide", true, "prefix 10.0.0.0/8" },
    { 0, "11.0.0.0", "unknown", false, "no match" },
    { 0, "9.255.255.255", "unknown", false, "no match" },
    //  IPv6, /128 edge
    { 0, "2001:db8::1", "alpha6", true, "exact 2001:db8::1 from a.csv:6" },
    { 0, "2001:db8::dead", "host", true, "exact 2001:db8::dead from host.txt:3" },
    { 0, "2001:db8::deae", "wide", true, "prefix 2001:db8::/32 from wide.txt:2" },
    { 0, "2001:db8:1::5", "narrow", true, "prefix 2001:db8:1::/48 from narrow.txt:2" },
    { 0, "2001:db8:ff:ffff::1", "censys", true, "prefix 2001:db8:ff::/48 from censys_v6.txt:1" },
    { 0, "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", "wide", true, "prefix 2001:db8::/32" },
    { 0, "2001:db9::", "unknown", false, "no match" },
    { 0, "::", "unknown", false, "no match" },
    //  aliases
    { 0, "9.9.9.9", "unknown", true, "exact 9.9.9.9 from a.csv:8; alias netscout->unknown" },
    { 1, "9.9.9.9", "netscout", true, "exact 9.9.9.9 from a.csv:8" },
    { 1, "1.2.3.5", "gamma2", true, "alias beta->gamma2" },
    //  /0 edges: a v4 /0 is ::ffff:0:0/96, longer than ::/0
    { 1, "0.0.0.0", "zero", true, "prefix 0.0.0.0/0 from zero.txt:1" },
    { 1, "255.255.255.255", "zero", true, "prefix 0.0.0.0/0" },
    { 1, "11.0.0.0", "zero", true, "prefix 0.0.0.0/0" },
    { 1, "10.1.2.8", "narrow", true, "prefix 10.1.0.0/16" },
    { 1, "2001:db9::", "all6", true, "prefix ::/0 from all6.txt:1" },
    { 1, "::", "all6", true, "prefix ::/0" },
    { 1, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "all6", true, "prefix ::/0" },
    { 1, "2001:db8::dead", "host", true, "exact" },
};

static void
test_lookup_table (void **state)
{
    (void) state;
    ds_gt_t *tables [2] = { s_table (0), s_table (1) };
    assert_int_equal (ds_gt_warning_count (tables [0]), 4);
    for (int t = 0; t < 2; t++) {
        const char *const *names = ds_gt_class_names (tables [t]);
        assert_string_equal (names [0], "unknown");
        for (uint32_t i = 0; i < ds_gt_class_count (tables [t]); i++)
            for (uint32_t j = i + 1; j < ds_gt_class_count (tables [t]); j++)
                assert_string_not_equal (names [i], names [j]);
    }
    for (size_t i = 0; i < sizeof s_cases / sizeof *s_cases; i++) {
        const s_case_t *c = &s_cases [i];
        const ds_gt_t *gt = tables [c->table];
        ds_addr_t addr;
        assert_int_equal (ds_addr_parse (&addr, c->ip), 0);
        bool matched;
        char rule [256];
        uint16_t id = ds_gt_explain (gt, &addr, &matched, rule, sizeof rule);
        if (strcmp (ds_gt_class_names (gt) [id], c->class_name) != 0 || matched != c->matched
        ||  !strstr (rule, c->rule))
            fail_msg ("case %zu: %s -> %s %d '%s', expected %s %d '%s'", i, c->ip,
                      ds_gt_class_names (gt) [id], matched, rule, c->class_name, c->matched, c->rule);
        bool fast_matched;
        assert_int_equal (ds_gt_lookup (gt, &addr, &fast_matched), id);
        assert_int_equal (fast_matched, matched);
        uint16_t many_id;
        uint8_t many_matched;
        ds_gt_lookup_many (gt, &addr, 1, &many_id, &many_matched);
        assert_int_equal (many_id, id);
        assert_int_equal (many_matched, matched);
    }
    ds_gt_destroy (&tables [0]);
    ds_gt_destroy (&tables [1]);
}

//  Batch lookups against one-by-one ones on tables of exact addresses
//  (the IPv4 space unsplit: ds_gt_lookup_many's short path), with no
//  prefix, with a v6 /0 that covers every IPv4 source, and with too many
//  addresses for the short path; the batch mixes hits, misses (most of
//  them near a hit), IPv6 and its exact entries.
static void
test_lookup_many_exact (void **state)
{
    (void) state;
    const uint32_t sizes [] = { 700, 700, 70000 };
    for (int t = 0; t < 3; t++) {
        ds_gt_t *gt = ds_gt_new ();
        char err [256], text [64], cls [16];
        uint32_t *table = calloc (sizes [t], sizeof *table);
        assert_non_null (table);
        uint32_t seed = 12345u + (uint32_t) t;
        for (uint32_t k = 0; k < sizes [t]; k++) {
            seed = seed * 1103515245u + 12345u;
            uint32_t v4 = table [k] = seed ^ (seed >> 13) * 2654435761u;
            snprintf (text, sizeof text, "%u.%u.%u.%u", v4 >> 24, (v4 >> 16) & 255, (v4 >> 8) & 255, v4 & 255);
            snprintf (cls, sizeof cls, "c%u", k % 7);
            assert_true (ds_gt_add (gt, text, cls, "t", k + 1, err, sizeof err) >= 0);
        }
        assert_true (ds_gt_add (gt, "2001:db8::7", "six", "t", 1, err, sizeof err) >= 0);
        if (t == 1)
            assert_true (ds_gt_add (gt, "::/0", "all6", "t", 2, err, sizeof err) >= 0);
        assert_int_equal (ds_gt_build (gt), 0);
        enum { N = 3000 };
        ds_addr_t *addrs = calloc (N, sizeof *addrs);
        uint16_t *ids = calloc (N, sizeof *ids);
        uint8_t *hits = calloc (N, 1);
        assert_non_null (addrs);
        assert_non_null (ids);
        assert_non_null (hits);
        uint32_t n_hits = 0;
        for (uint32_t i = 0; i < N; i++) {
            uint32_t v4 = table [(i * 7919u) % sizes [t]];
            const char *forms [] = { "%u.%u.%u.%u", "2001:db8::7", "2001:db8::8" };
            int form = i % 11 == 5 ? 1 : i % 11 == 6 ? 2 : 0;
            if (form == 0 && i % 3 == 1)
                v4 ^= 1;                        //  next to an entry: most miss
            snprintf (text, sizeof text, forms [form], v4 >> 24, (v4 >> 16) & 255, (v4 >> 8) & 255, v4 & 255);
            assert_int_equal (ds_addr_parse (&addrs [i], text), 0);
        }
        ds_gt_lookup_many (gt, addrs, N, ids, hits);
        for (uint32_t i = 0; i < N; i++) {
            bool matched;
            char rule [256];
            uint16_t id = ds_gt_explain (gt, &addrs [i], &matched, rule, sizeof rule);
            if (ids [i] != id || hits [i] != matched)
                fail_msg ("table %d, address %u: batch %u/%d, one by one %u/%d (%s)", t, i,
                          ids [i], hits [i], id, matched, rule);
            n_hits += strstr (rule, "exact") != NULL;
        }
        if (n_hits <= N / 4 || n_hits >= N)
            fail_msg ("table %d: %u exact hits of %u", t, n_hits, N);
        free (table);
        free (addrs);
        free (ids);
        free (hits);
        ds_gt_destroy (&gt);
    }
}

static void
test_bad_input (void **state)
{
    (void) state;
    ds_gt_t *gt = ds_gt_new ();
    char err [256];
    //  Rejected entries, each with a reason.
    const char *bad [] = { "1.2.3.4/33", "2001:db8::/129", "1.2.3.4/", "1.2.3.4/-1", "1.2.3.4/8x",
                           "300.1.1.1", "", "1.2.3.4/24/2", "::ffff:1.2.3.4.5" };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        err [0] = 0;
        assert_int_equal (ds_gt_add (gt, bad [i], "x", "t", 1, err, sizeof err), -1);
        assert_true (strlen (err) > 0);
    }
    assert_int_equal (ds_gt_add (gt, "1.2.3.4", "has space", "t", 1, err, sizeof err), -1);
    assert_int_equal (ds_gt_add (gt, "1.2.3.4", "", "t", 1, err, sizeof err), -1);
    //  Host bits set: accepted as the prefix they name, with a warning.
    assert_int_equal (ds_gt_add (gt, "10.9.8.7/8", "x", "t", 1, err, sizeof err), 0);
    assert_int_equal (ds_gt_warning_count (gt), 1);
    assert_int_equal (ds_gt_add (gt, "10.0.0.0/8", "x", "t", 2, err, sizeof err), 1);
    //  Files: missing, no header columns, class not derivable from the name.
    assert_int_equal (ds_gt_load_csv (gt, "/nonexistent/gt.csv", err, sizeof err), -1);
    assert_non_null (strstr (err, "/nonexistent/gt.csv"));
    s_write ("noheader.csv", "addr,kind\n1.2.3.4,x\n");
    assert_int_equal (ds_gt_load_csv (gt, s_path ("noheader.csv"), err, sizeof err), -1);
    assert_non_null (strstr (err, "noheader.csv:1"));
    assert_int_equal (ds_gt_load_list (gt, s_path ("wide.txt"), NULL, err, sizeof err), -1);
    assert_non_null (strstr (err, "wide.txt"));
    assert_int_equal (ds_gt_load_spec (gt, "=x", err, sizeof err), -1);
    assert_int_equal (ds_gt_alias_spec (gt, "nonsense", err, sizeof err), -1);
    //  CSV with quotes, CRLF, other column names, ragged rows.
    s_write ("q.csv", "\"src_ip\",\"label\"\r\n\"1.1.1.1\",\"q\"\r\n2.2.2.2\r\n");
    size_t warnings = ds_gt_warning_count (gt);
    assert_int_equal (ds_gt_load_csv (gt, s_path ("q.csv"), err, sizeof err), 0);
    assert_int_equal (ds_gt_warning_count (gt), warnings + 1);
    assert_int_equal (ds_gt_build (gt), 0);
    ds_addr_t addr;
    bool matched;
    ds_addr_parse (&addr, "1.1.1.1");
    assert_string_equal (ds_gt_class_names (gt) [ds_gt_lookup (gt, &addr, &matched)], "q");
    assert_true (matched);
    //  An empty table answers "unknown".
    ds_gt_t *empty = ds_gt_new ();
    assert_int_equal (ds_gt_build (empty), 0);
    assert_int_equal (ds_gt_lookup (empty, &addr, &matched), 0);
    assert_false (matched);
    ds_gt_destroy (&empty);
    ds_gt_destroy (&gt);
    assert_null (gt);
    ds_gt_destroy (&gt);
}

//  --------------------------------------------------------------------------
//  Real data against a naive reference

typedef struct {
    uint8_t a [16];
    int len;                        //  128-bit terms
    char class_name [64];
    char file [64];
    unsigned line;
} s_ref_t;

static s_ref_t *s_refs;
static size_t s_n_refs, s_max_refs;

static int
s_ref_parse (const char *text, uint8_t a [16], int *len)
{
    char buf [80];
    snprintf (buf, sizeof buf, "%s", text);
    char *slash = strchr (buf, '/');
    int plen = -1;
    if (slash) {
        *slash = 0;
        plen = atoi (slash + 1);
    }
    uint8_t v4 [4];
    if (inet_pton (AF_INET, buf, v4) == 1) {
        memset (a, 0, 10);
        a [10] = a [11] = 0xff;
        memcpy (a + 12, v4, 4);
        *len = 96 + (plen < 0 ? 32 : plen);
    }
    else
    if (inet_pton (AF_INET6, buf, a) == 1)
        *len = plen < 0 ? 128 : plen;
    else
        return -1;
    for (int bit = *len; bit < 128; bit++)
        a [bit / 8] &= (uint8_t) ~(0x80 >> (bit % 8));
    return 0;
}

static void
s_ref_add (const char *text, const char *class_name, const char *file, unsigned line)
{
    if (s_n_refs == s_max_refs) {
        s_max_refs = s_max_refs ? s_max_refs * 2 : 1024;
        s_refs = realloc (s_refs, s_max_refs * sizeof *s_refs);
    }
    s_ref_t *r = &s_refs [s_n_refs];
    if (s_ref_parse (text, r->a, &r->len))
        return;
    snprintf (r->class_name, sizeof r->class_name, "%s", class_name);
    snprintf (r->file, sizeof r->file, "%s", file);
    r->line = line;
    s_n_refs++;
}

static bool
s_ref_covers (const s_ref_t *r, const uint8_t a [16])
{
    int full = r->len / 8;
    if (memcmp (r->a, a, (size_t) full) != 0)
        return false;
    int rest = r->len % 8;
    if (rest == 0)
        return true;
    uint8_t mask = (uint8_t) (0xff << (8 - rest));
    return (a [full] & mask) == r->a [full];
}

static const s_ref_t *
s_ref_lookup (const uint8_t a [16])
{
    const s_ref_t *best = NULL;
    for (size_t i = 0; i < s_n_refs; i++)
        if (s_ref_covers (&s_refs [i], a) && (!best || s_refs [i].len > best->len))
            best = &s_refs [i];
    return best;
}

static const char *
s_ref_alias (const char *name)
{
    const char *to_unknown [] = { "netscout", "esrg_stanford", "quadmetrics", "criminalip", "adscore" };
    for (size_t i = 0; i < 5; i++)
        if (strcmp (name, to_unknown [i]) == 0)
            return "unknown";
    return name;
}

static int
s_cmp_names (const void *a, const void *b)
{
    return strcmp (*(char *const *) a, *(char *const *) b);
}

static void
s_check_addr (const ds_gt_t *gt, const uint8_t a [16], size_t *checked, size_t *hits)
{
    ds_addr_t addr;
    memcpy (addr.b, a, 16);
    const s_ref_t *ref = s_ref_lookup (a);
    bool matched;
    char rule [256], text [64];
    uint16_t id = ds_gt_explain (gt, &addr, &matched, rule, sizeof rule);
    bool fast_matched;                          //  the fast path agrees (own tables)
    assert_int_equal (ds_gt_lookup (gt, &addr, &fast_matched), id);
    assert_int_equal (fast_matched, matched);
    const char *got = ds_gt_class_names (gt) [id];
    const char *want = ref ? s_ref_alias (ref->class_name) : "unknown";
    if (matched != (ref != NULL) || strcmp (got, want) != 0)
        fail_msg ("%s: got %s (%s), reference %s", ds_addr_format (&addr, text, sizeof text),
                  got, rule, want);
    if (ref) {
        char from [128];
        snprintf (from, sizeof from, "from %s:%u", ref->file, ref->line);
        if (!strstr (rule, from))
            fail_msg ("%s: rule '%s' lacks '%s'", ds_addr_format (&addr, text, sizeof text),
                      rule, from);
        (*hits)++;
    }
    (*checked)++;
}

//  a +/- 1 as a 128-bit number.
static void
s_step (uint8_t a [16], int delta)
{
    for (int i = 15; i >= 0; i--) {
        int v = a [i] + delta;
        a [i] = (uint8_t) v;
        if (v >= 0 && v <= 255)
            break;
    }
}

static void
test_real_data (void **state)
{
    (void) state;
    const char *data = getenv ("DS_SHARED_DATA");
    char dir [512], csv [512];
    snprintf (dir, sizeof dir, "%s/scanners", data ? data : "");
    snprintf (csv, sizeof csv, "%s/darkvec/big_gt.csv", data ? data : "");
    if (!data || access (dir, R_OK) || access (csv, R_OK)) {
        printf ("SKIP: $DS_SHARED_DATA/scanners or darkvec/big_gt.csv not found\n");
        skip ();
    }
    ds_log_set_quiet (true);
    ds_gt_t *gt = ds_gt_new ();
    char err [512];
    assert_int_equal (ds_gt_load_csv (gt, csv, err, sizeof err), 0);
    assert_int_equal (ds_gt_load_spec (gt, dir, err, sizeof err), 0);
    assert_int_equal (ds_gt_build (gt), 0);

    //  The reference, from the same files parsed here, in the same order.
    FILE *file = fopen (csv, "r");
    char line [1024];
    unsigned lineno = 0;
    while (fgets (line, sizeof line, file)) {
        if (++lineno == 1)
            continue;
        line [strcspn (line, "\r\n")] = 0;
        char *comma = strchr (line, ',');
        if (!comma)
            continue;
        //  Cells are trimmed: big_gt.csv:1335 reads "192.228.79.250 ,u_isi_ant".
        char *end = comma;
        while (end > line && end [-1] == ' ')
            end--;
        *end = 0;
        s_ref_add (line, comma + 1, "big_gt.csv", lineno);
    }
    fclose (file);
    DIR *handle = opendir (dir);
    struct dirent *ent;
    char *names [512];
    size_t n_names = 0;
    while ((ent = readdir (handle)) && n_names < 512) {
        size_t n = strlen (ent->d_name);
        if (n > 7 && (!strcmp (ent->d_name + n - 7, "_v4.txt") || !strcmp (ent->d_name + n - 7, "_v6.txt")))
            names [n_names++] = strdup (ent->d_name);
    }
    closedir (handle);
    assert_true (n_names > 10);
    qsort (names, n_names, sizeof *names, s_cmp_names);
    for (size_t f = 0; f < n_names; f++) {
        char path [1024], class_name [64];
        snprintf (path, sizeof path, "%s/%s", dir, names [f]);
        snprintf (class_name, sizeof class_name, "%.*s", (int) strlen (names [f]) - 7, names [f]);
        file = fopen (path, "r");
        lineno = 0;
        while (fgets (line, sizeof line, file)) {
            lineno++;
            line [strcspn (line, "#\r\n")] = 0;
            char *text = line;
            while (*text == ' ' || *text == '\t')
                text++;
            size_t n = strlen (text);
            while (n && (text [n - 1] == ' ' || text [n - 1] == '\t'))
                text [--n] = 0;
            if (*text)
                s_ref_add (text, class_name, names [f], lineno);
        }
        fclose (file);
    }
    //  Distinct (address, length) entries: the reference collapses duplicates
    //  by keeping the first (the lookup picks the first among equals).
    size_t distinct = 0;
    for (size_t i = 0; i < s_n_refs; i++) {
        bool dup = false;
        for (size_t j = 0; j < i && !dup; j++)
            dup = s_refs [j].len == s_refs [i].len && memcmp (s_refs [j].a, s_refs [i].a, 16) == 0;
        if (dup) {
            memmove (&s_refs [i], &s_refs [i + 1], (s_n_refs - i - 1) * sizeof *s_refs);
            s_n_refs--;
            i--;
        }
        else
            distinct++;
    }
    assert_int_equal (ds_gt_exact_count (gt) + ds_gt_prefix_count (gt), distinct);
    printf ("loaded %zu exact + %zu prefixes, %u classes, %zu warnings\n",
            ds_gt_exact_count (gt), ds_gt_prefix_count (gt), ds_gt_class_count (gt),
            ds_gt_warning_count (gt));

    //  Addresses: first and last of each sampled entry, and one either side.
    size_t checked = 0, hits = 0, stride = s_n_refs / 1500 + 1;
    for (size_t i = 0; i < s_n_refs; i += stride) {
        uint8_t a [16], last [16];
        memcpy (a, s_refs [i].a, 16);
        memcpy (last, a, 16);
        for (int bit = s_refs [i].len; bit < 128; bit++)
            last [bit / 8] |= (uint8_t) (0x80 >> (bit % 8));
        s_check_addr (gt, a, &checked, &hits);
        s_check_addr (gt, last, &checked, &hits);
        s_step (a, -1);
        s_check_addr (gt, a, &checked, &hits);
        s_step (last, +1);
        s_check_addr (gt, last, &checked, &hits);
    }
    printf ("checked %zu addresses against the reference, %zu matched\n", checked, hits);
    assert_true (hits > checked / 3);
    assert_true (hits < checked);
    for (size_t f = 0; f < n_names; f++)
        free (names [f]);
    free (s_refs);
    ds_gt_destroy (&gt);
    ds_log_set_quiet (false);
}

int
main (void)
{
    ds_log_init ("test_gt");
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_lookup_table),
        cmocka_unit_test (test_lookup_many_exact),
        cmocka_unit_test (test_bad_input),
        cmocka_unit_test (test_real_data),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
