/*  libs: ds_aggregator ds_proto ds_common */
/*  test_snapshot.c - checkpoints written by a forked child (snapshot.c)
    and the temporary file they go through (checkpoint.c).

    - a snapshot of a store loads back with the same records, sources and
      streams, and the parent may change the store while the child writes:
      the file holds the state of the fork, not later batches;
    - the checkpoint is mode 0600 whatever the umask; a file or a symbolic
      link planted under PATH.tmp is never written through (O_EXCL |
      O_NOFOLLOW): the link's target is unchanged;
    - a snapshot that cannot be written (no such directory) fails with the
      reason naming the file; nothing is left behind;
    - the streams' epochs and live counters survive a checkpoint.
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>
#include "scratch_fixture.h"
#include "snapshot.h"
#include "store.h"

static char s_dir [64];

//  A batch of n records of sensor 1 from n sources, seq `seq`.
static ds_batch_t *
s_batch (uint32_t n, uint64_t seq, uint32_t first_source)
{
    ds_batch_t *b = ds_batch_new (n);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t id = first_source + i;
        uint8_t v4 [4] = { 10, (uint8_t) (id >> 16), (uint8_t) (id >> 8), (uint8_t) id };
        ds_record_t rec = { 1614556800000000LL + (int64_t) i * 1000000, { { 0 } }, 23, DS_PROTO_TCP, 0 };
        ds_addr_from_v4 (&rec.src, v4);
        assert_true (ds_batch_add (b, &rec));
    }
    const char *classes [] = { "unknown" }, *services [] = { "telnet" };
    assert_int_equal (ds_batch_set_dicts (b, classes, 1, services, 1), 0);
    b->sensor = 1;
    b->seq = seq;
    return b;
}

static void
test_snapshot_roundtrip (void **state)
{
    (void) state;
    ds_store_t *store = ds_store_new (0, 1, NULL);
    ds_batch_t *b = s_batch (1000, 0, 0);
    assert_int_equal (ds_store_apply (store, b), 1);
    ds_batch_destroy (&b);
    ds_stats_t stats = { .sensor = 1, .epoch = 0, .sent_us = 1, .batches = 1, .records = 1000,
                         .packets_read = 1200, .non_ip = 100, .malformed = 50, .bad_time = 50 };
    assert_int_equal (ds_store_stats (store, &stats, 2), 1);
    char path [128], err [512];
    snprintf (path, sizeof path, "%s/shard.ckpt", s_dir);
    mode_t old_umask = umask (0);
    ds_snapshot_t *snap = ds_snapshot_start (store, path, err, sizeof err);
    umask (old_umask);
    assert_non_null (snap);
    //  The parent goes on: this batch is not in the snapshot.
    b = s_batch (500, 1, 5000);
    assert_int_equal (ds_store_apply (store, b), 1);
    ds_batch_destroy (&b);
    assert_int_equal (ds_snapshot_poll (snap, true), DS_SNAPSHOT_DONE);
    assert_string_equal (ds_snapshot_error (snap), "");
    assert_true (ds_snapshot_pause_us (snap) >= 0);
    assert_true (ds_snapshot_duration_us (snap) >= ds_snapshot_pause_us (snap));
    ds_snapshot_destroy (&snap);
    struct stat st;
    assert_int_equal (stat (path, &st), 0);
    assert_int_equal (st.st_mode & 0777, 0600);
    ds_store_t *back = ds_store_load (path, 0, 1, NULL, err, sizeof err);
    assert_non_null (back);
    assert_int_equal (ds_store_records (back), 1000);
    assert_int_equal (ds_store_sources (back), 1000);
    assert_int_equal (ds_store_records (store), 1500);
    //  The stream's live counters came along: a replay of seq 0 is one.
    b = s_batch (1000, 0, 0);
    assert_int_equal (ds_store_apply (back, b), 0);
    ds_batch_destroy (&b);
    ds_store_destroy (&back);
    ds_store_destroy (&store);
    unlink (path);
}

static void
test_tmp_file (void **state)
{
    (void) state;
    ds_store_t *store = ds_store_new (0, 1, NULL);
    ds_batch_t *b = s_batch (10, 0, 0);
    assert_int_equal (ds_store_apply (store, b), 1);
    ds_batch_destroy (&b);
    char path [128], tmp [140], target [128], err [512];
    snprintf (path, sizeof path, "%s/link.ckpt", s_dir);
    snprintf (tmp, sizeof tmp, "%s.tmp", path);
    snprintf (target, sizeof target, "%s/target", s_dir);
    FILE *f = fopen (target, "w");
    fputs ("precious\n", f);
    fclose (f);
    assert_int_equal (symlink (target, tmp), 0);
    assert_int_equal (ds_store_save (store, path, err, sizeof err), 0);
    f = fopen (target, "r");
    char text [32] = "";
    assert_non_null (fgets (text, sizeof text, f));
    fclose (f);
    assert_string_equal (text, "precious\n");           //  not written through
    struct stat st;
    assert_int_equal (lstat (tmp, &st), -1);            //  renamed away
    assert_int_equal (lstat (path, &st), 0);
    assert_true (S_ISREG (st.st_mode));
    //  A stale temporary file (a writer that died) does not stop the next.
    f = fopen (tmp, "w");
    fputs ("stale", f);
    fclose (f);
    assert_int_equal (ds_store_save (store, path, err, sizeof err), 0);
    ds_store_t *back = ds_store_load (path, 0, 1, NULL, err, sizeof err);
    assert_non_null (back);
    ds_store_destroy (&back);
    //  No such directory: the snapshot fails and says which file.
    char bad [160];
    snprintf (bad, sizeof bad, "%s/missing/shard.ckpt", s_dir);
    ds_snapshot_t *snap = ds_snapshot_start (store, bad, err, sizeof err);
    assert_non_null (snap);
    assert_int_equal (ds_snapshot_poll (snap, true), DS_SNAPSHOT_FAILED);
    assert_non_null (strstr (ds_snapshot_error (snap), "missing/shard.ckpt.tmp"));
    assert_non_null (strstr (ds_snapshot_error (snap), "No such file"));
    ds_snapshot_destroy (&snap);
    ds_store_destroy (&store);
    unlink (path);
    unlink (target);
}

static int
s_setup (void **state)
{
    (void) state;
    assert_int_equal (fx_scratch_make (s_dir, sizeof s_dir, "test_snapshot"), 0);
    return 0;
}

static int
s_teardown (void **state)
{
    (void) state;
    return fx_scratch_remove (s_dir);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_snapshot_roundtrip),
        cmocka_unit_test (test_tmp_file),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
