/*  libs: ds_darkscope ds_ingest ds_common */
/*  test_gen.c - the synthetic darknet month (services/darkscope/gen.c).

    Generates small months and reads them back with libpcap: the same seed
    gives the same bytes, another seed other bytes; the pcap is valid,
    Ethernet, time-ordered, inside the configured days and telescope; and
    the distributions are what the summary claims, measured from the
    packets (fingerprinted sources, sources under 10 packets, IPv6, the GT
    CSV's scanners and engin-umich's 53/UDP schedule).
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <cmocka.h>
#include "scratch_fixture.h"
#include <pcap/pcap.h>
#include "gen.h"

#define T_PACKETS   300000
#define T_DAYS      30
#define T_MAP       (1 << 18)

typedef struct {
    uint8_t addr [16];
    int used;
    uint64_t packets;
    int mirai, zmap, masscan;       //  any SYN with that fingerprint
    int other_than_dns;             //  any packet that is not 53/UDP
    int off_schedule;               //  any packet outside 01/09/17h + 35 min
    int first_day, last_day;
    uint32_t day_mask;              //  bit d: active on day d
} t_src_t;

typedef struct {
    t_src_t *map;
    uint64_t packets, sources, v6, mirai, zmap, masscan, small;
    uint64_t per_day [T_DAYS];
    int ordered, in_days, in_telescope, ethernet;
} t_stats_t;

static char s_dir [256];

static void
s_path (char *buf, size_t size, const char *name)
{
    snprintf (buf, size, "%s/%s", s_dir, name);
}

static t_src_t *
s_find (t_stats_t *st, const uint8_t addr [16])
{
    uint64_t h = 1469598103934665603ULL;
    for (int i = 0; i < 16; i++)
        h = (h ^ addr [i]) * 1099511628211ULL;
    size_t i = (size_t) (h & (T_MAP - 1));
    while (st->map [i].used && memcmp (st->map [i].addr, addr, 16))
        i = (i + 1) & (T_MAP - 1);
    if (!st->map [i].used) {
        st->map [i].used = 1;
        memcpy (st->map [i].addr, addr, 16);
        st->map [i].first_day = T_DAYS;
        st->map [i].last_day = -1;
        st->sources++;
    }
    return &st->map [i];
}

static uint16_t
s_get16 (const uint8_t *p)
{
    return (uint16_t) (p [0] << 8 | p [1]);
}

static uint32_t
s_get32 (const uint8_t *p)
{
    return (uint32_t) p [0] << 24 | (uint32_t) p [1] << 16 | (uint32_t) p [2] << 8 | p [3];
}

//  Reads the pcap back; tele/len: the IPv4 telescope.
static void
s_read (const char *path, int64_t day0, uint32_t tele, int len, t_stats_t *st)
{
    memset (st, 0, sizeof (*st));
    st->map = calloc (T_MAP, sizeof (t_src_t));
    assert_non_null (st->map);
    char err [PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline (path, err);
    assert_non_null (p);
    st->ethernet = pcap_datalink (p) == DLT_EN10MB;
    st->ordered = st->in_days = st->in_telescope = 1;
    uint32_t mask = len == 32 ? 0xffffffffu : ~(0xffffffffu >> len);
    struct pcap_pkthdr *h;
    const u_char *d;
    int64_t last = INT64_MIN;
    while (pcap_next_ex (p, &h, &d) == 1) {
        int64_t ts = (int64_t) h->ts.tv_sec * 1000000 + h->ts.tv_usec;
        if (ts < last)
            st->ordered = 0;
        last = ts;
        int64_t day = (h->ts.tv_sec - day0) / 86400;
        if (h->ts.tv_sec < day0 || day >= T_DAYS) {
            st->in_days = 0;
            continue;
        }
        st->per_day [day]++;
        st->packets++;
        assert_true (h->caplen >= 14 + 20 + 8);
        uint16_t et = s_get16 (d + 12);
        const uint8_t *ip = d + 14, *l4;
        uint8_t addr [16] = { 0 }, proto;
        uint32_t dst = 0;
        uint16_t ipid = 0;
        if (et == 0x0800) {
            assert_int_equal (ip [0], 0x45);
            addr [10] = addr [11] = 0xff;
            memcpy (addr + 12, ip + 12, 4);
            dst = s_get32 (ip + 16);
            if ((dst & mask) != tele)
                st->in_telescope = 0;
            ipid = s_get16 (ip + 4);
            proto = ip [9];
            l4 = ip + 20;
        }
        else {
            assert_int_equal (et, 0x86dd);
            assert_true (h->caplen >= 14 + 40 + 8);
            memcpy (addr, ip + 8, 16);
            proto = ip [6];
            l4 = ip + 40;
        }
        t_src_t *s = s_find (st, addr);
        s->packets++;
        if (day < s->first_day)
            s->first_day = (int) day;
        if (day > s->last_day)
            s->last_day = (int) day;
        s->day_mask |= 1u << day;
        uint16_t dport = proto == 6 || proto == 17 ? s_get16 (l4 + 2) : 0;
        if (!(proto == 17 && dport == 53))
            s->other_than_dns = 1;
        int64_t sod = (h->ts.tv_sec - day0) % 86400;
        if (!((sod >= 3600 && sod < 3600 + 2100) || (sod >= 9 * 3600 && sod < 9 * 3600 + 2100)
           || (sod >= 17 * 3600 && sod < 17 * 3600 + 2100)))
            s->off_schedule = 1;
        if (proto == 6 && et == 0x0800 && (l4 [13] & 0x12) == 0x02) {
            uint32_t seq = s_get32 (l4 + 4);
            if (seq == dst)
                s->mirai = 1;
            if (ipid == 54321)
                s->zmap = 1;
            if (ipid == (uint16_t) ((dst ^ dport ^ seq) & 0xffff))
                s->masscan = 1;
        }
    }
    pcap_close (p);
    for (size_t i = 0; i < T_MAP; i++) {
        const t_src_t *s = &st->map [i];
        if (!s->used)
            continue;
        st->v6 += memcmp (s->addr, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) != 0;
        st->mirai += s->mirai;
        st->zmap += s->zmap;
        st->masscan += s->masscan;
        st->small += s->packets < 10;
    }
}

static int64_t
s_epoch_day (int y, int m, int d)
{
    struct tm tm = { .tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d };
    return (int64_t) timegm (&tm);
}

static void
s_generate (uint64_t seed, const char *telescope, const char *pcap, const char *gt,
            ds_gen_summary_t *sum)
{
    ds_gen_config_t cfg;
    ds_gen_config_defaults (&cfg);
    cfg.out_path = pcap;
    cfg.gt_path = gt;
    cfg.packets = T_PACKETS;
    cfg.days = T_DAYS;
    cfg.seed = seed;
    cfg.quiet = 1;
    if (telescope)
        cfg.telescope = telescope;
    assert_int_equal (ds_gen_run (&cfg, sum), 0);
}

static char *
s_slurp (const char *path, size_t *size)
{
    FILE *f = fopen (path, "rb");
    assert_non_null (f);
    fseek (f, 0, SEEK_END);
    long n = ftell (f);
    fseek (f, 0, SEEK_SET);
    char *buf = malloc ((size_t) n + 1);
    assert_non_null (buf);
    assert_int_equal (fread (buf, 1, (size_t) n, f), (size_t) n);
    buf [n] = 0;
    fclose (f);
    *size = (size_t) n;
    return buf;
}

static void
test_deterministic (void **state)
{
    (void) state;
    char a [300], b [300], c [300], ga [300], gb [300];
    s_path (a, sizeof a, "a.pcap");
    s_path (b, sizeof b, "b.pcap");
    s_path (c, sizeof c, "c.pcap");
    s_path (ga, sizeof ga, "a.csv");
    s_path (gb, sizeof gb, "b.csv");
    ds_gen_summary_t sa, sb, sc;
    s_generate (42, NULL, a, ga, &sa);
    s_generate (42, NULL, b, gb, &sb);
    s_generate (43, NULL, c, NULL, &sc);
    size_t na, nb, nc, nga, ngb;
    char *xa = s_slurp (a, &na), *xb = s_slurp (b, &nb), *xc = s_slurp (c, &nc);
    char *xga = s_slurp (ga, &nga), *xgb = s_slurp (gb, &ngb);
    assert_int_equal (na, (size_t) sa.bytes);
    assert_int_equal (na, nb);
    assert_memory_equal (xa, xb, na);
    assert_int_equal (nga, ngb);
    assert_memory_equal (xga, xgb, nga);
    assert_true (na != nc || memcmp (xa, xc, na) != 0);
    assert_int_equal (sa.packets, T_PACKETS);
    assert_int_equal (sc.packets, T_PACKETS);
    free (xa); free (xb); free (xc); free (xga); free (xgb);
    unlink (a); unlink (b); unlink (c); unlink (ga); unlink (gb);
}

static void
test_distributions (void **state)
{
    (void) state;
    char pcap [300], gt [300];
    s_path (pcap, sizeof pcap, "d.pcap");
    s_path (gt, sizeof gt, "d.csv");
    ds_gen_summary_t sum;
    s_generate (7, "100.70.5.0/24", pcap, gt, &sum);
    t_stats_t st;
    s_read (pcap, s_epoch_day (2021, 3, 2), 0x64460500, 24, &st);

    //  valid, ordered, where and when it should be
    assert_true (st.ethernet);
    assert_true (st.ordered);
    assert_true (st.in_days);
    assert_true (st.in_telescope);
    assert_int_equal (st.packets, T_PACKETS);
    assert_int_equal (st.packets, sum.packets);
    for (int d = 0; d < T_DAYS; d++)
        assert_true (st.per_day [d] > 0);

    //  the summary's claims, measured
    assert_int_equal (st.sources, sum.sources);
    assert_int_equal (st.small, sum.sources_small);
    assert_int_equal (st.v6, sum.sources_v6);
    assert_int_equal (st.mirai, sum.kind_sources [DS_GEN_MIRAI]);
    assert_int_equal (st.zmap, sum.kind_sources [DS_GEN_ZMAP]);
    assert_int_equal (st.masscan, sum.kind_sources [DS_GEN_MASSCAN]);
    uint64_t total = 0;
    for (int k = 0; k < DS_GEN_KIND_COUNT; k++)
        total += sum.kind_packets [k];
    assert_int_equal (total, T_PACKETS);

    //  the shapes it promises: DarkVec-like shares
    double small = (double) st.small / (double) st.sources;
    double mirai = (double) st.mirai / (double) st.sources;
    printf ("# %llu sources, %.3f under 10 packets, %.3f mirai, %llu v6, %llu zmap, %llu masscan\n",
            (unsigned long long) st.sources, small, mirai, (unsigned long long) st.v6,
            (unsigned long long) st.zmap, (unsigned long long) st.masscan);
    assert_true (small >= 0.75 && small <= 0.90);
    assert_true (mirai >= 0.25 && mirai <= 0.45);
    assert_true (st.v6 > 0);
    assert_true (st.zmap > 0 && st.masscan > 0);

    //  GT CSV: research scanners that are in the pcap, all month long, none
    //  of them Mirai; engin-umich only 53/UDP, on its schedule
    size_t n;
    char *text = s_slurp (gt, &n);
    assert_true (strncmp (text, "ip,class\n", 9) == 0);
    uint64_t lines = 0, engin = 0, aliased = 0;
    char *save = NULL;
    for (char *line = strtok_r (text + 9, "\n", &save); line; line = strtok_r (NULL, "\n", &save)) {
        char *comma = strchr (line, ',');
        assert_non_null (comma);
        *comma = 0;
        uint8_t addr [16] = { 0 };
        if (strchr (line, ':'))
            assert_int_equal (inet_pton (AF_INET6, line, addr), 1);
        else {
            addr [10] = addr [11] = 0xff;
            assert_int_equal (inet_pton (AF_INET, line, addr + 12), 1);
        }
        t_src_t *s = s_find (&st, addr);
        assert_true (s->packets >= T_DAYS);
        assert_int_equal (s->first_day, 0);
        assert_int_equal (s->last_day, T_DAYS - 1);
        assert_false (s->mirai);
        if (strcmp (comma + 1, "engin-umich") == 0) {
            engin++;
            assert_false (s->other_than_dns);
            assert_false (s->off_schedule);
        }
        aliased += strcmp (comma + 1, "netscout") == 0 || strcmp (comma + 1, "quadmetrics") == 0;
        lines++;
    }
    assert_int_equal (st.sources, sum.sources);     //  no GT line named a stranger
    assert_int_equal (lines, sum.gt_entries);
    assert_true (lines >= 30);
    assert_int_equal (engin, 4);
    assert_true (aliased >= 2);
    free (text);
    free (st.map);
    unlink (pcap);
    unlink (gt);
}

//  --max-active-days: activity wraps around the end, so the first and last
//  days hold as many sources as the middle ones (by default they hold far
//  fewer: a source active for days lies inside the period); every packet
//  is still written.
static void
test_steady (void **state)
{
    (void) state;
    char pcap [300];
    s_path (pcap, sizeof pcap, "steady.pcap");
    int64_t day0 = s_epoch_day (2021, 3, 2);
    double edge [2], middle [2];
    for (int steady = 0; steady < 2; steady++) {
        ds_gen_config_t cfg;
        ds_gen_summary_t sum;
        ds_gen_config_defaults (&cfg);
        cfg.out_path = pcap;
        cfg.packets = T_PACKETS;
        cfg.days = T_DAYS;
        cfg.max_active_days = steady ? 5 : 0;
        cfg.quiet = 1;
        assert_int_equal (ds_gen_run (&cfg, &sum), 0);
        assert_int_equal (sum.packets, T_PACKETS);
        t_stats_t st;
        s_read (pcap, day0, 0xcb007100, 24, &st);
        assert_int_equal (st.packets, T_PACKETS);
        assert_true (st.in_days && st.ordered);
        //  distinct sources per day, from each source's days
        uint64_t active [T_DAYS] = { 0 };
        for (size_t i = 0; i < T_MAP; i++) {
            const t_src_t *s = &st.map [i];
            for (int d = 0; d < T_DAYS; d++)
                active [d] += (s->day_mask >> d) & 1;
        }
        edge [steady] = (double) (active [0] + active [T_DAYS - 1]) / 2;
        middle [steady] = (double) (active [T_DAYS / 2 - 1] + active [T_DAYS / 2]) / 2;
        free (st.map);
        printf ("# steady %d: edge %.0f middle %.0f sources/day\n", steady, edge [steady], middle [steady]);
    }
    //  By default the edges hold about half the middle's sources; steady, about as many.
    assert_true (edge [0] < 0.7 * middle [0]);
    assert_true (edge [1] > 0.9 * middle [1] && edge [1] < 1.1 * middle [1]);
    unlink (pcap);
}

static void
test_bad_config (void **state)
{
    (void) state;
    char pcap [300];
    s_path (pcap, sizeof pcap, "bad.pcap");
    ds_gen_config_t cfg;
    ds_gen_summary_t sum;
    ds_gen_config_defaults (&cfg);
    cfg.quiet = 1;
    assert_int_equal (ds_gen_run (&cfg, &sum), -1);             //  no output path
    cfg.out_path = pcap;
    cfg.packets = 10;
    assert_int_equal (ds_gen_run (&cfg, &sum), -1);
    cfg.packets = 100000;
    cfg.telescope = "203.0.113.0/33";
    assert_int_equal (ds_gen_run (&cfg, &sum), -1);
    cfg.telescope = "2001:db8::/64";
    assert_int_equal (ds_gen_run (&cfg, &sum), -1);
    cfg.telescope = NULL;
    cfg.start_day = "2021-13-01";
    assert_int_equal (ds_gen_run (&cfg, &sum), -1);
    cfg.start_day = "2021-03-02";
    cfg.days = 0;
    assert_int_equal (ds_gen_run (&cfg, &sum), -1);
    cfg.days = 3;
    cfg.max_active_days = 4;                                    //  more than the days
    assert_int_equal (ds_gen_run (&cfg, &sum), -1);
    cfg.max_active_days = 0;
    cfg.out_path = "/nonexistent-dir/x.pcap";
    assert_int_equal (ds_gen_run (&cfg, &sum), -1);
    unlink (pcap);
}

int
main (void)
{
    if (fx_scratch_make (s_dir, sizeof s_dir, "test_gen") != 0) {
        perror ("mkdtemp");
        return 1;
    }
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_deterministic),
        cmocka_unit_test (test_distributions),
        cmocka_unit_test (test_steady),
        cmocka_unit_test (test_bad_config),
    };
    int rc = cmocka_run_group_tests (tests, NULL, NULL);
    fx_scratch_remove (s_dir);
    return rc;
}
