/*  libs: ds_embed ds_proto ds_common */
/*  test_corpus.c - DarkVec's hourly per-service sentences (services/embed/corpus.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "corpus.h"
#include "tz.h"

#define H 3600000000LL
#define T0 1614643200000000LL       //  2021-03-02 00:00:00 UTC

static void
s_add (ds_corpus_t *c, int64_t ts, const char *ip, const char *service, const char *klass, uint8_t flags)
{
    ds_addr_t a;
    assert_int_equal (ds_addr_parse (&a, ip), 0);
    assert_int_equal (ds_corpus_add (c, ts, &a, service, klass, flags), 0);
}

//  Finishes with min_count and returns the LineSentence text (caller frees).
static char *
s_finish (ds_corpus_t *c, uint32_t min_count)
{
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream (&text, &size);
    assert_non_null (f);
    assert_int_equal (ds_corpus_finish (c, min_count, f), 0);
    fclose (f);
    return text;
}

static void
test_sentences (void **state)
{
    (void) state;
    ds_corpus_t *c = ds_corpus_new (NULL);
    //  Out of order, two services, two hours, ties in time broken by address.
    s_add (c, T0 + 10, "10.0.0.2", "telnet", "unknown", 0);
    s_add (c, T0 + H + 5, "10.0.0.1", "telnet", "unknown", 0);
    s_add (c, T0 + 5, "10.0.0.3", "telnet", "unknown", 0);
    s_add (c, T0 + 10, "10.0.0.1", "telnet", "unknown", 0);
    s_add (c, T0 + H - 1, "2001:db8::1", "http", "censys", DS_FLAG_GT);
    s_add (c, T0 + 7, "10.0.0.3", "http", "unknown", DS_FLAG_MIRAI);
    s_add (c, T0 + H, "10.0.0.2", "telnet", "unknown", 0);
    assert_int_equal (ds_corpus_packets (c), 7);
    assert_int_equal (ds_corpus_sources (c), 4);
    char *text = s_finish (c, 2);
    assert_string_equal (text,
        "10.0.0.3 2001:db8::1\n"                //  http, hour 0
        "10.0.0.3 10.0.0.1 10.0.0.2\n"          //  telnet, hour 0
        "10.0.0.2 10.0.0.1\n");                 //  telnet, hour 1
    free (text);
    assert_int_equal (ds_corpus_hours (c), 3);
    //  Vocabulary: >= 2 packets, most first, then by address.
    assert_int_equal (ds_corpus_words (c), 3);
    char buf [64];
    assert_string_equal (ds_addr_format (ds_corpus_word_addr (c, 0), buf, sizeof buf), "10.0.0.1");
    assert_string_equal (ds_addr_format (ds_corpus_word_addr (c, 1), buf, sizeof buf), "10.0.0.2");
    assert_string_equal (ds_addr_format (ds_corpus_word_addr (c, 2), buf, sizeof buf), "10.0.0.3");
    assert_string_equal (ds_corpus_word_class (c, 2), "mirai");
    assert_string_equal (ds_corpus_word_class (c, 0), "unknown");
    ds_addr_t a;
    ds_addr_parse (&a, "2001:db8::1");
    assert_int_equal (ds_corpus_find (c, &a), -1);          //  below min_count
    ds_addr_parse (&a, "10.0.0.3");
    assert_int_equal (ds_corpus_find (c, &a), 2);
    //  Training view: rare words dropped, one sentence per non-empty chunk.
    ds_w2v_corpus_t v;
    ds_corpus_view (c, &v);
    assert_int_equal (v.n_sentences, 3);
    uint32_t want [] = { 2, 2, 0, 1, 1, 0 };
    assert_int_equal (v.starts [3], 6);
    assert_memory_equal (v.tokens, want, sizeof want);
    //  Added after finish: refused.
    assert_int_equal (ds_corpus_add (c, T0, &a, "telnet", "unknown", 0), -1);
    ds_corpus_destroy (&c);
    assert_null (c);
}

static void
test_local_hours (void **state)
{
    (void) state;
    //  +05:30: local hours start at hh:30 UTC.
    ds_tz_t *kolkata = ds_tz_load ("Asia/Kolkata", NULL, 0);
    ds_tz_t *rome = ds_tz_load ("Europe/Rome", NULL, 0);
    ds_tz_t *lord_howe = ds_tz_load ("Australia/Lord_Howe", NULL, 0);
    assert_non_null (kolkata);
    assert_non_null (rome);
    assert_non_null (lord_howe);
    ds_corpus_t *c = ds_corpus_new (kolkata);
    s_add (c, T0 + H / 2 - 1, "10.0.0.1", "ssh", "unknown", 0);
    s_add (c, T0 + H / 2, "10.0.0.2", "ssh", "unknown", 0);
    s_add (c, T0 + H, "10.0.0.3", "ssh", "unknown", 0);
    char *text = s_finish (c, 1);
    assert_string_equal (text, "10.0.0.1\n10.0.0.2 10.0.0.3\n");
    free (text);
    ds_corpus_destroy (&c);
    //  Europe/Rome, 2021-10-31: 02:00-03:00 local happens twice (two sentences).
    c = ds_corpus_new (rome);
    int64_t fall = 1635642000000000LL;      //  2021-10-31 01:00 UTC = 02:00 CET, after the change
    s_add (c, fall - H / 2, "10.0.0.1", "ssh", "unknown", 0);     //  02:30 CEST
    s_add (c, fall + H / 2, "10.0.0.2", "ssh", "unknown", 0);     //  02:30 CET
    text = s_finish (c, 1);
    assert_string_equal (text, "10.0.0.1\n10.0.0.2\n");
    free (text);
    ds_corpus_destroy (&c);
    //  Lord Howe, 2021-04-04: 02:00 +11 becomes 01:30 +10:30 at 15:00 UTC, so
    //  01:40 happens in two local hours (from 14:00 and from 14:30 UTC).  The
    //  later packet comes first: its hour must not claim the earlier one.
    c = ds_corpus_new (lord_howe);
    int64_t change = 1617462000000000LL;
    s_add (c, change + H / 6, "10.0.0.1", "ssh", "unknown", 0);    //  01:40 +10:30
    s_add (c, change - H / 3, "10.0.0.2", "ssh", "unknown", 0);    //  01:40 +11
    text = s_finish (c, 1);
    assert_string_equal (text, "10.0.0.2\n10.0.0.1\n");
    free (text);
    ds_corpus_destroy (&c);
    ds_tz_destroy (&kolkata);
    ds_tz_destroy (&rome);
    ds_tz_destroy (&lord_howe);
}

static void
test_chunks (void **state)
{
    (void) state;
    //  One hour of 10005 packets: gensim's LineSentence reads two
    //  sentences (10000 + 5); a rare word is dropped after the cut.
    ds_corpus_t *c = ds_corpus_new (NULL);
    s_add (c, T0, "192.0.2.9", "dns", "unknown", 0);
    for (int i = 1; i < 10005; i++)
        s_add (c, T0 + i, i % 2 ? "192.0.2.1" : "192.0.2.2", "dns", "unknown", 0);
    assert_int_equal (ds_corpus_finish (c, 2, NULL), 0);
    ds_w2v_corpus_t v;
    ds_corpus_view (c, &v);
    assert_int_equal (v.n_sentences, 2);
    assert_int_equal (v.starts [1], 9999);
    assert_int_equal (v.starts [2], 10004);
    ds_corpus_destroy (&c);
}

static void
test_batches (void **state)
{
    (void) state;
    //  Two batches whose dictionaries number services and classes differently.
    ds_corpus_t *c = ds_corpus_new (NULL);
    ds_batch_t *b = ds_batch_new (4);
    const char *cls1 [] = { "unknown", "censys" }, *svc1 [] = { "telnet", "http" };
    const char *cls2 [] = { "unknown", "shodan", "censys" }, *svc2 [] = { "http", "telnet" };
    for (int round = 0; round < 2; round++) {
        ds_batch_reset (b);
        for (int i = 0; i < 2; i++) {
            ds_record_t r = { .ts = T0 + round * 10 + i, .port = 80, .flags = DS_FLAG_GT };
            ds_addr_parse (&r.src, i ? "198.51.100.2" : "198.51.100.1");
            assert_true (ds_batch_add (b, &r));
        }
        if (round == 0)
            assert_int_equal (ds_batch_set_dicts (b, cls1, 2, svc1, 2), 0);
        else
            assert_int_equal (ds_batch_set_dicts (b, cls2, 3, svc2, 2), 0);
        b->class_id [0] = 1;        //  censys (round 0) / shodan (round 1)
        b->class_id [1] = round ? 2 : 1;
        b->service_id [0] = b->service_id [1] = round ? 0 : 1;   //  http both times
        assert_int_equal (ds_corpus_add_batch (c, b), 0);
    }
    char *text = s_finish (c, 1);
    assert_string_equal (text, "198.51.100.1 198.51.100.2 198.51.100.1 198.51.100.2\n");
    free (text);
    //  The latest GT class wins.
    assert_string_equal (ds_corpus_word_class (c, 0), "shodan");
    assert_string_equal (ds_corpus_word_class (c, 1), "censys");
    //  An unlabelled batch is refused.
    ds_batch_reset (b);
    assert_int_equal (ds_corpus_add_batch (c, b), -1);
    ds_batch_destroy (&b);
    ds_corpus_destroy (&c);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_sentences),
        cmocka_unit_test (test_local_hours),
        cmocka_unit_test (test_chunks),
        cmocka_unit_test (test_batches),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
