/*  checkpoint.c - saving a store to a file and loading it back
    (ds_store_save, ds_store_load; the format is described below).
*/
#include "store_internal.h"
#include "tz.h"
#include "log.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <zlib.h>

//  ---------------------------------------------------------------------
//  Checkpoints
//
//  File layout (host byte order: a checkpoint is local state, not a wire
//  format; the magic catches a file from a machine of other endianness):
//    header  s_ckpt_header_t (magic "DSKCKPT", version, shard, shards, tz,
//            body length, CRC32 of the body)
//    body    names: u32 n, then n x (u16 len, bytes); u16 unknown, mirai id
//            sources: u32 n, n x s_src_t;  pps: u32 n, n x s_pp_t
//            days: u32 n, then per day (ascending, sealed form):
//              i32 day, u32 n, n x u32 src, n x u64 packets, n x u8 flags,
//              u32 n_sorted, n_sorted x u32 local, n_sorted x u32 packets
//              (low 32 bits; entries grouped by pp, in the directory's runs),
//              u32 n_dir, n_dir x s_ppdir_t, u64 n_carry, n_carry x s_carry_t
//            bins: per source, u32 n, n x u64
//            streams: u32 n, n x s_stream_t (version 4: n x s_stream_v4_t)
//            holes (missing seq ranges, version 3): u32 n, n x s_hole_t
//            u8 any, i32 min_day, i32 max_day, u64 records
//            newest (version 6): u32 n (= streams), n x i64, each stream's
//              newest record's time (us, 0: none; the data lag of status)

#define S_CKPT_MAGIC    "DSKCKPT"
#define S_CKPT_VERSION  6             //  6: the streams' newest record times
                                      //  (5: streams with epochs and live counters;
                                      //  4: per-day tables; 3: one table of all days)

typedef struct {
    char magic [8];
    uint32_t version;
    uint32_t shard;
    uint32_t shards;
    uint32_t crc;                   //  CRC32 (zlib) of the body
    uint64_t body_len;
    char tz [128];
} s_ckpt_header_t;

typedef struct {
    FILE *file;
    uLong crc;
    uint64_t len;                   //  body bytes written / remaining
    bool failed;
} s_io_t;

static void
s_put (s_io_t *io, const void *data, size_t size)
{
    if (io->failed || size == 0)
        return;
    if (fwrite (data, 1, size, io->file) != size) {
        io->failed = true;
        return;
    }
    //  crc32 takes a uInt length: feed it in slices.
    const uint8_t *p = data;
    for (size_t done = 0; done < size; ) {
        size_t chunk = size - done > (1u << 30) ? (1u << 30) : size - done;
        io->crc = crc32 (io->crc, p + done, (uInt) chunk);
        done += chunk;
    }
    io->len += size;
}

//  Writes a settled day (its log merged: store_days_settle) as it is: its
//  (day, src) columns, its runs and directory, its carries.  An open
//  day's locals are in arrival order, a sealed day's by source; a loaded
//  day is sealed either way (the order is not checked).
static void
s_put_day (s_io_t *io, const s_day_t *d)
{
    s_put (io, &d->day, 4);
    s_put (io, &d->n, 4);
    s_put (io, d->src, (size_t) d->n * sizeof *d->src);
    s_put (io, d->packets, (size_t) d->n * sizeof *d->packets);
    s_put (io, d->flags, d->n);
    s_put (io, &d->n_sorted, 4);
    s_put (io, d->run_local, (size_t) d->n_sorted * 4);
    s_put (io, d->run_packets, (size_t) d->n_sorted * 4);
    s_put (io, &d->n_dir, 4);
    s_put (io, d->dir, (size_t) d->n_dir * sizeof *d->dir);
    uint64_t n_carry = d->carry.count;
    s_put (io, &n_carry, 8);
    S_TAB_EACH (&d->carry, const s_carry_t, c)
        s_put (io, c, sizeof *c);
}

int
ds_store_prepare_save (ds_store_t *self)
{
    return store_bins_normalize_all (self) || store_days_settle (self) ? -1 : 0;
}

//  Creates the temporary file of a checkpoint: O_EXCL and O_NOFOLLOW (a
//  file or link planted under that name is never written through), mode
//  0600.  One left behind by a writer that died is removed first (by name:
//  a link is removed, not followed).
static FILE *
s_create_tmp (const char *tmp, char *err, size_t err_size)
{
    int fd = open (tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0 && errno == EEXIST && unlink (tmp) == 0)
        fd = open (tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    FILE *file = fd >= 0 ? fdopen (fd, "wb") : NULL;
    if (!file) {
        snprintf (err, err_size, "cannot write checkpoint %s: %s", tmp, strerror (errno));
        if (fd >= 0)
            close (fd);
    }
    return file;
}

int
ds_store_save (ds_store_t *self, const char *path, char *err, size_t err_size)
{
    char tmp [4096];
    if (snprintf (tmp, sizeof tmp, "%s.tmp", path) >= (int) sizeof tmp) {
        store_err (err, err_size, "checkpoint path too long: %s", path);
        return -1;
    }
    if (self->no_patterns) {
        store_err (err, err_size, "cannot write checkpoint %s: this store keeps no activity patterns",
                   path);
        return -1;
    }
    if (store_bins_normalize_all (self) || store_days_settle (self)) {
        store_err (err, err_size, "cannot write checkpoint %s: out of memory", path);
        return -1;
    }
    FILE *file = s_create_tmp (tmp, err, err_size);
    if (!file)
        return -1;
    s_ckpt_header_t header;
    memset (&header, 0, sizeof header);
    memcpy (header.magic, S_CKPT_MAGIC, 8);
    header.version = S_CKPT_VERSION;
    header.shard = self->shard;
    header.shards = self->shards;
    snprintf (header.tz, sizeof header.tz, "%s", ds_tz_name (self->tz));
    bool failed = fwrite (&header, sizeof header, 1, file) != 1;

    s_io_t io = { file, crc32 (0, Z_NULL, 0), 0, failed };
    s_put (&io, &self->n_names, 4);
    for (uint32_t i = 0; i < self->n_names; i++) {
        uint16_t len = (uint16_t) strlen (self->names [i]);
        s_put (&io, &len, 2);
        s_put (&io, self->names [i], len);
    }
    s_put (&io, &self->name_unknown, 2);
    s_put (&io, &self->name_mirai, 2);
    s_put (&io, &self->n_srcs, 4);
    s_put (&io, self->srcs, (size_t) self->n_srcs * sizeof (s_src_t));
    s_put (&io, &self->n_pps, 4);
    s_put (&io, self->pps, (size_t) self->n_pps * sizeof (s_pp_t));
    s_put (&io, &self->n_days, 4);
    for (uint32_t i = 0; i < self->n_days; i++)
        s_put_day (&io, self->days [i]);
    for (uint32_t i = 0; i < self->n_srcs; i++) {
        s_put (&io, &self->bins [i].n, 4);
        s_put (&io, self->bins [i].v, (size_t) self->bins [i].n * sizeof (uint64_t));
    }
    s_put (&io, &self->n_streams, 4);
    s_put (&io, self->streams, (size_t) self->n_streams * sizeof (s_stream_t));
    s_put (&io, &self->n_holes, 4);
    s_put (&io, self->holes, (size_t) self->n_holes * sizeof (s_hole_t));
    uint8_t any = self->any;
    s_put (&io, &any, 1);
    s_put (&io, &self->min_day, 4);
    s_put (&io, &self->max_day, 4);
    s_put (&io, &self->records, 8);
    s_put (&io, &self->n_streams, 4);
    for (uint32_t i = 0; i < self->n_streams; i++) {
        int64_t newest = i < self->newest_cap ? self->newest_us [i] : 0;
        s_put (&io, &newest, 8);
    }

    header.crc = (uint32_t) io.crc;
    header.body_len = io.len;
    failed = io.failed
          || fseek (file, 0, SEEK_SET) != 0
          || fwrite (&header, sizeof header, 1, file) != 1
          || fflush (file) != 0
          || fsync (fileno (file)) != 0;
    int saved_errno = errno;
    if (fclose (file) != 0)
        failed = true;
    if (failed || rename (tmp, path) != 0) {
        snprintf (err, err_size, "cannot write checkpoint %s: %s", tmp,
                  strerror (failed ? saved_errno : errno));
        unlink (tmp);
        return -1;
    }
    //  Make the rename durable: fsync the directory.
    char dir [4096];
    snprintf (dir, sizeof dir, "%s", path);
    char *slash = strrchr (dir, '/');
    if (slash)
        *(slash == dir ? slash + 1 : slash) = 0;
    else
        snprintf (dir, sizeof dir, ".");
    int fd = open (dir, O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        fsync (fd);
        close (fd);
    }
    return 0;
}

static bool
s_get (s_io_t *io, void *data, size_t size)
{
    if (io->failed || size > io->len || (size && fread (data, 1, size, io->file) != size)) {
        io->failed = true;
        return false;
    }
    io->len -= size;
    return true;
}

//  Reads a sealed day and checks it: sources known and listed once,
//  entries' local ids and pps in range, grouped by the directory's pps
//  (ascending), no (local, pp) twice, directory sums and per-source
//  packets equal to their entries' (carries included).  stamp is scratch
//  of n_srcs u32.  NULL if malformed or out of memory.
static s_day_t *
s_get_day (ds_store_t *self, s_io_t *io, uint32_t *stamp)
{
    int32_t dayno;
    uint32_t n;
    if (!s_get (io, &dayno, 4) || !s_get (io, &n, 4) || n > io->len / 13 || n > self->n_srcs)
        return NULL;
    s_day_t *d = store_day_new (dayno);
    uint64_t *sums = NULL;
    uint32_t *mark = NULL;          //  by local: dir index + 1 of its last pp
    if (!d)
        return NULL;
    d->sealed = true;
    d->cap = n ? n : 1;
    d->src = store_pages_alloc ((size_t) d->cap * sizeof *d->src);
    d->packets = store_pages_alloc ((size_t) d->cap * sizeof *d->packets);
    d->flags = store_pages_alloc (d->cap);
    if (!d->src || !d->packets || !d->flags
    ||  !s_get (io, d->src, (size_t) n * 4) || !s_get (io, d->packets, (size_t) n * 8)
    ||  !s_get (io, d->flags, n))
        goto bad;
    d->n = n;
    for (uint32_t l = 0; l < n; l++) {
        if (d->src [l] >= self->n_srcs || stamp [d->src [l]] == (uint32_t) dayno + 1u)
            goto bad;
        stamp [d->src [l]] = (uint32_t) dayno + 1u;
    }
    if (!s_get (io, &d->n_sorted, 4) || d->n_sorted > io->len / 8)
        goto bad;
    d->run_local = store_pages_alloc ((size_t) d->n_sorted * sizeof *d->run_local);
    d->run_packets = store_pages_alloc ((size_t) d->n_sorted * sizeof *d->run_packets);
    if (!d->run_local || !d->run_packets
    ||  !s_get (io, d->run_local, (size_t) d->n_sorted * 4)
    ||  !s_get (io, d->run_packets, (size_t) d->n_sorted * 4))
        goto bad;
    if (!s_get (io, &d->n_dir, 4) || d->n_dir > io->len / sizeof (s_ppdir_t) || d->n_dir > d->n_sorted)
        goto bad;
    d->dir = store_pages_alloc ((size_t) d->n_dir * sizeof *d->dir);
    uint64_t n_carry;
    if (!d->dir || !s_get (io, d->dir, (size_t) d->n_dir * sizeof *d->dir)
    ||  !s_get (io, &n_carry, 8) || n_carry > io->len / sizeof (s_carry_t) || n_carry > d->n_sorted)
        goto bad;
    if (n_carry && s_tab_reserve (&d->carry, 1024))
        goto bad;
    for (uint64_t i = 0; i < n_carry; i++) {
        s_carry_t c;
        bool created;
        if (!s_get (io, &c, sizeof c) || c.local >= n || c.pp >= self->n_pps
        ||  c.carry == 0 || (c.carry & 0xffffffffULL))
            goto bad;
        s_carry_t *e = s_tab_upsert (&d->carry, &c, &created);
        if (!e || !created)
            goto bad;
        e->carry = c.carry;
    }
    //  Entries against the directory; per-source sums against the columns.
    sums = calloc (n ? n : 1, sizeof *sums);
    mark = calloc (n ? n : 1, sizeof *mark);
    if (!sums || !mark || (d->n_dir == 0) != (d->n_sorted == 0) || (d->n_dir && d->dir [0].start != 0))
        goto bad;
    for (uint32_t k = 0; k < d->n_dir; k++) {
        uint32_t end = k + 1 < d->n_dir ? d->dir [k + 1].start : d->n_sorted;
        if (d->dir [k].pp >= self->n_pps || end <= d->dir [k].start || end > d->n_sorted
        ||  (k > 0 && d->dir [k].pp <= d->dir [k - 1].pp))
            goto bad;
        uint64_t total = 0;
        for (uint32_t e = d->dir [k].start; e < end; e++) {
            uint32_t local = d->run_local [e];
            if (local >= n || mark [local] == k + 1)
                goto bad;           //  out of range, or (local, pp) twice
            mark [local] = k + 1;
            uint64_t packets = store_day_packets (d, local, d->dir [k].pp, d->run_packets [e]);
            if (packets == 0)
                goto bad;
            total += packets;
            sums [local] += packets;
        }
        if (total != d->dir [k].packets)
            goto bad;
    }
    for (uint32_t l = 0; l < n; l++)
        if (sums [l] != d->packets [l] || sums [l] == 0)
            goto bad;
    //  Earlier versions wrote an open day's runs in its hash's order: the
    //  runs are kept in ascending local id (store_day_settle merges them).
    if (store_day_sort_runs (d))
        goto bad;
    free (sums);
    free (mark);
    return d;
bad:
    free (sums);
    free (mark);
    store_day_destroy (&d);
    return NULL;
}

static int
s_hole_cmp (const void *a, const void *b)
{
    const s_hole_t *x = a, *y = b;
    if (x->sensor != y->sensor)
        return x->sensor < y->sensor ? -1 : 1;
    return x->lo < y->lo ? -1 : x->lo > y->lo;
}

//  A stream as version 4 wrote it (before epochs and live counters).
typedef struct {
    uint32_t sensor, eos;
    uint64_t next_seq, gaps, batches, records, replays;
    uint64_t packets_read, non_ip, malformed, dropped;
} s_stream_v4_t;

//  Reads the streams of a checkpoint; those of version 4 become streams of
//  their first epoch (0, the epoch of file input).
static bool
s_get_streams (ds_store_t *self, s_io_t *io, uint32_t version)
{
    size_t size = version == 4 ? sizeof (s_stream_v4_t) : sizeof (s_stream_t);
    uint32_t n;
    if (!s_get (io, &n, 4) || n > io->len / size)
        return false;
    self->streams_cap = n ? n : 1;
    self->streams = calloc (self->streams_cap, sizeof (s_stream_t));
    if (!self->streams)
        return false;
    self->n_streams = n;
    if (version != 4)
        return s_get (io, self->streams, n * sizeof (s_stream_t));
    for (uint32_t i = 0; i < n; i++) {
        s_stream_v4_t old;
        if (!s_get (io, &old, sizeof old))
            return false;
        self->streams [i] = (s_stream_t) {
            .sensor = old.sensor, .eos = old.eos, .next_seq = old.next_seq, .gaps = old.gaps,
            .batches = old.batches, .records = old.records, .replays = old.replays,
            .packets_read = old.packets_read, .non_ip = old.non_ip, .malformed = old.malformed,
            .dropped = old.dropped, .epochs = 1
        };
    }
    return true;
}

//  Reads the streams' newest record times (version 6; older checkpoints
//  have none: 0, "none", until a batch arrives).  False if malformed.
static bool
s_get_newest (ds_store_t *self, s_io_t *io, uint32_t version)
{
    if (version < 6)
        return true;
    uint32_t n;
    if (!s_get (io, &n, 4) || n != self->n_streams || n > io->len / sizeof (int64_t))
        return false;
    if (n == 0)
        return true;
    self->newest_us = calloc (self->streams_cap, sizeof (int64_t));
    if (!self->newest_us)
        return false;
    self->newest_cap = self->streams_cap;
    return s_get (io, self->newest_us, (size_t) n * sizeof (int64_t));
}

//  Reads and checks the holes of a checkpoint (after its streams): each
//  non-empty, of a known sensor, below its next expected seq, no two of a
//  sensor overlapping (a seq would be applied twice), and no more missing
//  seqs per stream than it counts as gaps.  False if malformed.
static bool
s_get_holes (ds_store_t *self, s_io_t *io)
{
    uint32_t n_holes;
    if (!s_get (io, &n_holes, 4) || n_holes > S_HOLES_MAX || n_holes > io->len / sizeof (s_hole_t))
        return false;
    if (n_holes == 0)
        return true;
    self->holes = malloc ((size_t) n_holes * sizeof (s_hole_t));
    if (!self->holes)
        return false;
    self->holes_cap = n_holes;
    if (!s_get (io, self->holes, (size_t) n_holes * sizeof (s_hole_t)))
        return false;
    self->n_holes = n_holes;
    s_hole_t *sorted = malloc ((size_t) n_holes * sizeof (s_hole_t));
    if (!sorted)
        return false;
    memcpy (sorted, self->holes, (size_t) n_holes * sizeof (s_hole_t));
    qsort (sorted, n_holes, sizeof (s_hole_t), s_hole_cmp);
    bool ok = true;
    uint64_t missing = 0;           //  of the current sensor so far
    s_stream_t *s = NULL;
    for (uint32_t i = 0; i < n_holes && ok; i++) {
        const s_hole_t *h = &sorted [i];
        if (i == 0 || h->sensor != sorted [i - 1].sensor) {
            s = NULL;
            for (uint32_t k = 0; k < self->n_streams && !s; k++)
                if (self->streams [k].sensor == h->sensor)
                    s = &self->streams [k];
            missing = 0;
        }
        else
        if (h->lo < sorted [i - 1].hi)
            ok = false;             //  overlaps the previous one
        ok = ok && s && h->pad == 0 && h->lo < h->hi && h->hi <= s->next_seq
          && h->hi - h->lo <= s->gaps - missing;
        if (ok)
            missing += h->hi - h->lo;
    }
    free (sorted);
    return ok;
}

//  The header of a checkpoint for (shard, shards, tz): NULL if it fits,
//  else the reason (in why, or static).
static const char *
s_check_header (FILE *file, s_ckpt_header_t *header, uint32_t shard, uint32_t shards,
                const ds_tz_t *tz, char *why, size_t why_size)
{
    if (fread (header, sizeof *header, 1, file) != 1)
        return "truncated header";
    if (memcmp (header->magic, S_CKPT_MAGIC, 8) != 0)
        return "not a darkscope checkpoint (bad magic)";
    if (header->version != S_CKPT_VERSION && header->version != 5 && header->version != 4) {
        //  Version 2 lacks the missing seq ranges: its gaps could never be
        //  filled, so it is refused rather than guessed at.
        snprintf (why, why_size, "unsupported version %u (want %u)%s", header->version, S_CKPT_VERSION,
                  header->version < S_CKPT_VERSION
                  ? ": written by an older darkscope; remove it and replay the input" : "");
        return why;
    }
    header->tz [sizeof header->tz - 1] = 0;
    if (header->shard != shard || header->shards != shards) {
        snprintf (why, why_size, "written by shard %u of %u, this is shard %u of %u",
                  header->shard, header->shards, shard, shards);
        return why;
    }
    if (strcmp (header->tz, ds_tz_name (tz)) != 0) {
        snprintf (why, why_size, "written with time zone %.64s, this run uses %.64s",
                  header->tz, ds_tz_name (tz));
        return why;
    }
    return NULL;
}

//  Pass 1: the body's length and CRC, before anything is allocated; NULL
//  if they match the header, else the reason.  Leaves the file at the body.
static const char *
s_check_body (FILE *file, const s_ckpt_header_t *header)
{
    if (fseek (file, 0, SEEK_END) != 0)
        return "cannot seek";
    long end = ftell (file);
    if (end < 0 || (uint64_t) end != sizeof *header + header->body_len)
        return (uint64_t) end < sizeof *header + header->body_len ? "truncated body"
                                                                  : "trailing bytes after body";
    fseek (file, (long) sizeof *header, SEEK_SET);
    uLong crc = crc32 (0, Z_NULL, 0);
    uint8_t chunk [65536];
    for (uint64_t left = header->body_len; left > 0; ) {
        size_t want = left > sizeof chunk ? sizeof chunk : (size_t) left;
        if (fread (chunk, 1, want, file) != want)
            return "truncated body";
        crc = crc32 (crc, chunk, (uInt) want);
        left -= want;
    }
    if ((uint32_t) crc != header->crc)
        return "checksum mismatch (corrupt file)";
    fseek (file, (long) sizeof *header, SEEK_SET);
    return NULL;
}

//  The class and service names, and which are "unknown" and "mirai".
static bool
s_get_names (ds_store_t *self, s_io_t *io)
{
    uint32_t n_names;
    if (!s_get (io, &n_names, 4) || n_names < 2 || n_names > S_NAMES_MAX
    ||  n_names > io->len / 2)
        return false;
    self->names = calloc (n_names, sizeof *self->names);
    if (!self->names)
        return false;
    self->names_cap = n_names;
    for (uint32_t i = 0; i < n_names; i++) {
        uint16_t len;
        if (!s_get (io, &len, 2) || len > io->len)
            return false;
        char *name = malloc ((size_t) len + 1);
        if (!name)
            return false;
        self->names [self->n_names++] = name;
        if (!s_get (io, name, len))
            return false;
        name [len] = 0;
    }
    return s_get (io, &self->name_unknown, 2) && s_get (io, &self->name_mirai, 2)
        && self->name_unknown < n_names && self->name_mirai < n_names;
}

//  The sources (their classes checked against the names, their hints
//  reset) and the (port, proto) table (each pair once).
static bool
s_get_sources_pps (ds_store_t *self, s_io_t *io)
{
    uint32_t n_srcs, n_pps;
    if (!s_get (io, &n_srcs, 4) || n_srcs > io->len / sizeof (s_src_t) || n_srcs >= UINT32_MAX / 2)
        return false;
    self->srcs_cap = n_srcs ? n_srcs : 1;
    self->srcs = malloc ((size_t) self->srcs_cap * sizeof (s_src_t));
    self->bins = calloc (self->srcs_cap, sizeof (s_bins_t));
    if (!self->srcs || !self->bins
    ||  !s_get (io, self->srcs, (size_t) n_srcs * sizeof (s_src_t)))
        return false;
    self->n_srcs = n_srcs;
    for (uint32_t i = 0; i < n_srcs; i++) {
        if (self->srcs [i].class_id >= self->n_names)
            return false;
        self->srcs [i].last_local = S_EMPTY;
        self->srcs [i].last_day = 0;
        self->srcs [i].spare [0] = self->srcs [i].spare [1] = 0;
    }
    if (!s_get (io, &n_pps, 4) || n_pps > io->len / sizeof (s_pp_t))
        return false;
    self->pps_cap = n_pps ? n_pps : 1;
    self->pps = malloc ((size_t) self->pps_cap * sizeof (s_pp_t));
    if (!self->pps || !s_get (io, self->pps, (size_t) n_pps * sizeof (s_pp_t)))
        return false;
    self->n_pps = n_pps;
    for (uint32_t i = 0; i < n_pps; i++) {
        const s_pp_t *pp = &self->pps [i];
        if (pp->service >= self->n_names || pp->proto >= DS_PROTO_COUNT
        ||  pp->port < DS_PORT_NONE || pp->port > 65535
        ||  self->pp_direct [S_PP_SLOT (pp->port, pp->proto)] != 0)
            return false;           //  also a (port, proto) listed twice
        self->pp_direct [S_PP_SLOT (pp->port, pp->proto)] = (i + 1) | (uint64_t) pp->service << 32;
    }
    return true;
}

//  The days, in ascending order.
static bool
s_get_days (ds_store_t *self, s_io_t *io)
{
    uint32_t n_days;
    if (!s_get (io, &n_days, 4) || n_days > io->len / 24)
        return false;
    self->days_cap = n_days ? n_days : 1;
    self->days = malloc ((size_t) self->days_cap * sizeof *self->days);
    uint32_t *stamp = calloc (self->n_srcs ? self->n_srcs : 1, sizeof *stamp);
    bool ok = self->days && stamp;
    for (uint32_t i = 0; ok && i < n_days; i++) {
        s_day_t *d = s_get_day (self, io, stamp);
        if (!d || (i > 0 && d->day <= self->days [i - 1]->day)) {
            store_day_destroy (&d);
            ok = false;
        }
        else
            self->days [self->n_days++] = d;
    }
    free (stamp);
    return ok;
}

//  Every source's pattern bins: minutes ascending, each under a minute.
static bool
s_get_bins (ds_store_t *self, s_io_t *io)
{
    for (uint32_t i = 0; i < self->n_srcs; i++) {
        s_bins_t *b = &self->bins [i];
        uint32_t nb;
        if (!s_get (io, &nb, 4) || nb > io->len / sizeof (uint64_t))
            return false;
        if (nb == 0)
            continue;
        if (store_bins_resize (self, b, nb))
            return false;
        if (!s_get (io, b->v, (size_t) nb * sizeof (uint64_t)))
            return false;
        b->n = b->sorted = nb;
        for (uint32_t k = 0; k < nb; k++)
            if ((b->v [k] & S_BIN_US_MASK) >= (uint64_t) S_MINUTE_US
            ||  (b->v [k] >> S_BIN_US_BITS) > UINT32_MAX
            ||  (k > 0 && (b->v [k] >> S_BIN_US_BITS) <= (b->v [k - 1] >> S_BIN_US_BITS)))
                return false;
        b->last = (uint32_t) (b->v [nb - 1] >> S_BIN_US_BITS);
    }
    return true;
}

ds_store_t *
ds_store_load (const char *path, uint32_t shard, uint32_t shards, const ds_tz_t *tz,
               char *err, size_t err_size)
{
    FILE *file = fopen (path, "rb");
    if (!file) {
        snprintf (err, err_size, "cannot open checkpoint %s: %s", path, strerror (errno));
        return NULL;
    }
    if (!tz)
        tz = ds_tz_utc ();
    ds_store_t *self = NULL;
    char why [256];
    s_ckpt_header_t header;
    const char *reason = s_check_header (file, &header, shard, shards, tz, why, sizeof why);
    if (!reason)
        reason = s_check_body (file, &header);
    if (reason)
        goto fail;
    //  Pass 2: parse, checking every count against the bytes that remain
    //  and every id against its table.
    self = store_alloc (shard, shards, tz);
    if (!self) {
        reason = "out of memory";
        goto fail;
    }
    s_io_t io = { file, 0, header.body_len, false };
    uint8_t any;
    if (!s_get_names (self, &io) || !s_get_sources_pps (self, &io) || !s_get_days (self, &io)
    ||  !s_get_bins (self, &io) || !s_get_streams (self, &io, header.version)
    ||  !s_get_holes (self, &io)
    ||  !s_get (&io, &any, 1) || !s_get (&io, &self->min_day, 4) || !s_get (&io, &self->max_day, 4)
    ||  !s_get (&io, &self->records, 8) || !s_get_newest (self, &io, header.version) || io.len != 0) {
        reason = "malformed body";
        goto fail;
    }
    self->any = any != 0;
    if (store_src_index_grow (self)) {
        reason = "malformed body";
        goto fail;
    }
    fclose (file);
    return self;

fail:
    snprintf (err, err_size, "refusing checkpoint %s: %s", path, reason);
    ds_store_destroy (&self);
    fclose (file);
    return NULL;
}
