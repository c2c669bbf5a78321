/*  source.c - capture files, live interfaces and DarkVec logs behind one
    interface; see source.h.

    Compressed captures: zlib's gzFile wrapped in a stdio FILE by
    fopencookie(3), so libpcap reads pcap and pcapng from it as from any
    file.  Files are opened at microsecond precision: libpcap truncates the
    timestamps of nanosecond files.

    Fast path.  libpcap reads a file with two fread(3) calls per packet and
    copies each frame into its own buffer; at millions of packets a second
    that is most of the cost of ingest.  A classic pcap file that is not
    compressed, in this host's byte order and of version 2.4 (what capture
    tools write) is therefore read here (source_fast.c), its frames parsed
    where they lie: in windows of the file mapped read-only (filemap.h),
    or, where the file cannot be mapped, in a buffer filled by 1 MB
    read(2)s.  libpcap still opens the file (it checks the header and
    names the link type), and the moment a record is not clean -- a header
    or frame cut short by the end of the file, a captured length above the
    snapshot length -- the FILE is positioned at that record and libpcap
    reads the rest, so every irregular case keeps libpcap's exact
    behaviour.  So does a file that shrinks while it is mapped: the frame
    in pages that vanished is dropped and libpcap reads on from it.
    Timestamps are libpcap's: signed 32-bit seconds and fraction,
    nanoseconds divided by 1000 (C truncation).  ds_source_set_fast_path
    (false) turns the fast path off, ds_source_set_map (0) its mapping
    (tests compare the three).

    Streams.  A capture read from a pipe or a FIFO ("-" is standard input)
    that is classic pcap in this host's byte order goes through the same
    reader, but without blocking: when no complete record has arrived
    within 100 ms, ds_source_next answers IDLE, so a run on a pipe that
    stays open (tcpdump -w - | ...) still flushes its batches and sends its
    counters.  libpcap sees only the 24-byte header (from memory) to check
    it and name the link type; a record longer than the snapshot length is
    cut to it, as libpcap does.  Any other stream (pcapng, other byte order)
    is read by libpcap, whose reads block.

    Drops.  libpcap's drop counters are 32-bit and wrap; the source adds
    the difference of each reading to 64-bit totals.
*/
#include <fcntl.h>
#include <unistd.h>
#include <sys/stat.h>
#include "source_internal.h"
#include "log.h"
#include <errno.h>
#include <glob.h>
#include <poll.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define S_IOBUF_SIZE (256 * 1024)

static ssize_t
s_gz_read (void *cookie, char *buf, size_t size)
{
    if (size > (1u << 30))
        size = 1u << 30;
    int n = gzread ((gzFile) cookie, buf, (unsigned) size);
    if (n < 0) {
        errno = EIO;
        return -1;
    }
    return n;
}

static int
s_gz_close (void *cookie)
{
    return gzclose ((gzFile) cookie) == Z_OK ? 0 : EOF;
}

int
source_check_link (ds_source_t *self, const char *what, char *err, size_t err_size)
{
    self->dlt = pcap_datalink (self->pcap);
    self->link = ds_link_index (self->dlt);
    if (self->link < 0) {
        const char *name = pcap_datalink_val_to_name (self->dlt);
        const char *desc = pcap_datalink_val_to_description (self->dlt);
        snprintf (err, err_size, "%s: unsupported link type %d (%s%s%s); darkscope reads "
                  "Ethernet (VLAN tags too), Linux SLL/SLL2, raw IP, NULL/LOOP",
                  what, self->dlt, name ? name : "unknown", desc ? ", " : "", desc ? desc : "");
        return -1;
    }
    return 0;
}

int
source_pcap_fopen (ds_source_t *self, FILE *file, const char *path, char *err, size_t err_size)
{
    char pcap_err [PCAP_ERRBUF_SIZE] = "";
    self->pcap = pcap_fopen_offline_with_tstamp_precision (file, PCAP_TSTAMP_PRECISION_MICRO,
                                                           pcap_err);
    if (!self->pcap) {
        snprintf (err, err_size, "%s: not a pcap/pcapng capture: %s", path, pcap_err);
        fclose (file);
        return -1;
    }
    self->file = file;
    return source_check_link (self, path, err, err_size);
}

ds_source_t *
ds_source_open_file (const char *path, char *err, size_t err_size)
{
    ds_source_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (err, err_size, "%s: out of memory", path);
        return NULL;
    }
    self->kind = S_FILE;
    self->fast_fd = -1;
    self->path = strdup (path);
    //  "-" is standard input: a pcap or pcapng stream (a pipe from
    //  `darkscope gen --out -` or tcpdump -w -); so is a FIFO.
    bool is_stdin = strcmp (path, "-") == 0;
    struct stat st;
    if (is_stdin || (stat (path, &st) == 0 && S_ISFIFO (st.st_mode)))
        return source_open_stream (self, path, is_stdin, err, err_size);
    FILE *file = fopen (path, "rb");
    if (!file) {
        snprintf (err, err_size, "%s: cannot open: %s", path, strerror (errno));
        ds_source_destroy (&self);
        return NULL;
    }
    //  A large stdio buffer, before any I/O (or it is ignored).  glibc
    //  ignores the size when it allocates the buffer itself (it uses
    //  st_blksize, 4 KB: a read(2) per 4 KB), so it is ours.
    self->iobuf = malloc (S_IOBUF_SIZE);
    if (self->iobuf)
        setvbuf (file, self->iobuf, _IOFBF, S_IOBUF_SIZE);
    uint8_t magic [4] = { 0, 0, 0, 0 };
    size_t got = fread (magic, 1, 4, file);
    if (got >= 2 && magic [0] == 0x1f && magic [1] == 0x8b) {
        fclose (file);
        self->gz = gzopen (path, "rb");
        if (!self->gz) {
            snprintf (err, err_size, "%s: cannot open: %s", path, strerror (errno));
            ds_source_destroy (&self);
            return NULL;
        }
        gzbuffer (self->gz, 256 * 1024);
        cookie_io_functions_t io = { .read = s_gz_read, .close = s_gz_close };
        file = fopencookie (self->gz, "rb", io);
        if (!file) {
            snprintf (err, err_size, "%s: fopencookie: %s", path, strerror (errno));
            gzclose (self->gz);
            ds_source_destroy (&self);
            return NULL;
        }
        if (self->iobuf)
            setvbuf (file, self->iobuf, _IOFBF, S_IOBUF_SIZE);
    }
    else
        rewind (file);
    if (source_pcap_fopen (self, file, path, err, err_size)) {
        ds_source_destroy (&self);
        return NULL;
    }
    uint32_t m = 0;
    if (got == 4)
        memcpy (&m, magic, 4);
    source_fast_open (self, path, m);
    return self;
}

ds_source_t *
ds_source_open_live (const char *iface, const char *bpf, char *err, size_t err_size)
{
    ds_source_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (err, err_size, "%s: out of memory", iface);
        return NULL;
    }
    self->kind = S_LIVE;
    self->fast_fd = -1;
    self->path = strdup (iface);
    char pcap_err [PCAP_ERRBUF_SIZE] = "";
    self->pcap = pcap_create (iface, pcap_err);
    if (!self->pcap) {
        snprintf (err, err_size, "interface %s: %s", iface, pcap_err);
        ds_source_destroy (&self);
        return NULL;
    }
    pcap_set_snaplen (self->pcap, 65535);
    pcap_set_promisc (self->pcap, 1);
    pcap_set_timeout (self->pcap, 100);         //  ms: lets the flush timer run
    pcap_set_buffer_size (self->pcap, 64 * 1024 * 1024);
    pcap_set_tstamp_precision (self->pcap, PCAP_TSTAMP_PRECISION_MICRO);
    int rc = pcap_activate (self->pcap);
    if (rc < 0) {
        snprintf (err, err_size, "interface %s: %s (%s)", iface, pcap_statustostr (rc),
                  pcap_geterr (self->pcap));
        ds_source_destroy (&self);
        return NULL;
    }
    if (rc > 0)
        ds_log_warn ("interface %s: %s (%s)", iface, pcap_statustostr (rc), pcap_geterr (self->pcap));
    //  Non-blocking reads + our own poll with a 100 ms timeout: with
    //  TPACKET_V3 libpcap's own wait ignores the timeout on an idle link
    //  (and restarts after EINTR), so neither the flush timer nor a signal
    //  would get through.
    self->fd = pcap_get_selectable_fd (self->pcap);
    if (self->fd < 0 || pcap_setnonblock (self->pcap, 1, pcap_err) != 0) {
        snprintf (err, err_size, "interface %s: cannot read without blocking: %s", iface, pcap_err);
        ds_source_destroy (&self);
        return NULL;
    }
    char what [256];
    snprintf (what, sizeof what, "interface %s", iface);
    if (source_check_link (self, what, err, err_size)) {
        ds_source_destroy (&self);
        return NULL;
    }
    if (bpf && *bpf) {
        struct bpf_program prog;
        if (pcap_compile (self->pcap, &prog, bpf, 1, PCAP_NETMASK_UNKNOWN) != 0) {
            snprintf (err, err_size, "bad --bpf filter '%s': %s", bpf, pcap_geterr (self->pcap));
            ds_source_destroy (&self);
            return NULL;
        }
        rc = pcap_setfilter (self->pcap, &prog);
        pcap_freecode (&prog);
        if (rc != 0) {
            snprintf (err, err_size, "interface %s: cannot set filter: %s", iface,
                      pcap_geterr (self->pcap));
            ds_source_destroy (&self);
            return NULL;
        }
    }
    return self;
}

ds_source_t *
ds_source_open_darkvec (const char *path, char *err, size_t err_size)
{
    ds_source_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (err, err_size, "%s: out of memory", path);
        return NULL;
    }
    self->kind = S_DARKVEC;
    self->fast_fd = -1;
    self->log = ds_darkvec_open (path, err, err_size);
    if (!self->log) {
        ds_source_destroy (&self);
        return NULL;
    }
    return self;
}

void
ds_source_destroy (ds_source_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ds_source_t *self = *self_p;
    source_fast_close (self);
    if (self->pcap)
        pcap_close (self->pcap);    //  closes file (and gz through the cookie)
    free (self->iobuf);             //  after its FILE is closed
    ds_darkvec_destroy (&self->log);
    free (self->path);
    free (self);
    *self_p = NULL;
}

int
ds_source_next (ds_source_t *self, ds_record_t *rec, ds_ingest_stats_t *stats)
{
    if (self->kind == S_DARKVEC) {
        int rc = ds_darkvec_next (self->log, rec);
        if (rc == DS_DARKVEC_END)
            return DS_SOURCE_END;
        if (rc == DS_DARKVEC_ERROR)
            return DS_SOURCE_ERROR;
        stats->packets_read++;
        if (rc == DS_DARKVEC_BAD) {
            stats->malformed++;
            stats->bad_lines++;
            return DS_SOURCE_SKIP;
        }
        return DS_SOURCE_RECORD;
    }
    struct pcap_pkthdr *hdr, fast_hdr;
    const u_char *data;
    int rc = -1;
    if (self->stream) {
        rc = source_stream_next (self, &fast_hdr, &data);
        if (rc == 0)
            return DS_SOURCE_END;
        if (rc == 2)
            return DS_SOURCE_IDLE;
        if (rc == -2) {
            //  Cut short, as libpcap counts a truncated file: one malformed frame.
            stats->packets_read++;
            stats->malformed++;
            ds_log_warn ("%s: the stream ended inside a record (counted as one malformed "
                         "frame)", self->path);
            return DS_SOURCE_END;
        }
        if (rc < 0)
            return DS_SOURCE_ERROR;
        hdr = &fast_hdr;
    }
    else
    if (self->fast) {
        rc = source_fast_next (self, &fast_hdr, &data);
        if (rc == 0)
            return DS_SOURCE_END;
        hdr = &fast_hdr;
        if (rc < 0 && source_fast_handover (self) != 0)
            return DS_SOURCE_ERROR;
    }
    if (rc < 0)
        rc = pcap_next_ex (self->pcap, &hdr, &data);
    if (rc == 0) {
        if (self->kind == S_LIVE) {
            //  Nothing buffered: wait for the kernel, at most 100 ms.
            struct pollfd pfd = { .fd = self->fd, .events = POLLIN };
            poll (&pfd, 1, 100);
        }
        return DS_SOURCE_IDLE;
    }
    if (rc == PCAP_ERROR_BREAK)
        return DS_SOURCE_END;
    if (rc < 0) {
        const char *why = pcap_geterr (self->pcap);
        if (self->kind == S_FILE && strstr (why, "truncated")) {
            //  A capture cut short (a crash, a rotation): its last frame is
            //  a malformed frame, the file ends there, the run goes on.
            stats->packets_read++;
            stats->malformed++;
            ds_log_warn ("%s: %s (counted as one malformed frame)", self->path, why);
            return DS_SOURCE_END;
        }
        ds_log_error ("%s: read error: %s", self->path ? self->path : "capture", why);
        return DS_SOURCE_ERROR;
    }
    int64_t ts = (int64_t) hdr->ts.tv_sec * 1000000 + hdr->ts.tv_usec;
    rc = ds_parse_frame (self->dlt, data, hdr->caplen, ts, rec);
    if (self->fast_cut && *self->fast_cut)                //  not counted: libpcap reads on
        return source_fast_cut (self, hdr->caplen) == 0 ? ds_source_next (self, rec, stats)
                                                         : DS_SOURCE_ERROR;
    stats->packets_read++;
    stats->link [self->link]++;
    if (rc == DS_PARSE_OK)
        return DS_SOURCE_RECORD;
    if (rc == DS_PARSE_NON_IP)
        stats->non_ip++;
    else
        stats->malformed++;
    return DS_SOURCE_SKIP;
}

uint64_t
ds_source_offset (ds_source_t *self)
{
    if (self->kind == S_DARKVEC)
        return ds_darkvec_offset (self->log);
    if (self->kind == S_LIVE)
        return 0;
    if (self->fast)
        return self->fast_base + self->fast_pos;
    if (self->gz) {
        z_off_t off = gzoffset (self->gz);
        return off > 0 ? (uint64_t) off : 0;
    }
    long off = ftell (self->file);
    return off > 0 ? (uint64_t) off : 0;
}

bool
ds_source_is_live (ds_source_t *self)
{
    return self->kind == S_LIVE;
}

bool
ds_source_is_stream (ds_source_t *self)
{
    return self->stream;
}

uint64_t
ds_source_pcap_drops (ds_source_t *self)
{
    struct pcap_stat ps;
    if (self->kind == S_LIVE && pcap_stats (self->pcap, &ps) == 0)
        self->drops = ds_source_drops_add (self->drops, self->drop_last,
                                           (uint32_t) ps.ps_drop, (uint32_t) ps.ps_ifdrop);
    return self->drops;
}

uint64_t
ds_source_drops_add (uint64_t total, uint32_t last [2], uint32_t drop, uint32_t ifdrop)
{
    //  Unsigned 32-bit differences: right across one wrap of each counter
    //  (read at least once per 2^32 drops: every 100 ms, it always is).
    total += (uint32_t) (drop - last [0]);
    total += (uint32_t) (ifdrop - last [1]);
    last [0] = drop;
    last [1] = ifdrop;
    return total;
}

int
ds_paths_expand (const char *const *patterns, size_t n, char ***paths,
                 size_t *count, char *err, size_t err_size)
{
    *paths = NULL;
    *count = 0;
    size_t cap = 0;
    for (size_t i = 0; i < n; i++) {
        glob_t g;
        //  "-" (standard input) stands for itself, even with no file "-".
        int rc = glob (patterns [i], strcmp (patterns [i], "-") == 0 ? GLOB_NOCHECK : 0, NULL, &g);
        if (rc != 0) {
            snprintf (err, err_size, "%s: %s", patterns [i],
                      rc == GLOB_NOMATCH ? "no such file (or no file matches the pattern)"
                                         : "cannot expand the pattern");
            globfree (&g);
            ds_paths_free (paths, *count);
            *count = 0;
            return -1;
        }
        for (size_t k = 0; k < g.gl_pathc; k++) {
            if (*count == cap) {
                cap = cap ? cap * 2 : 16;
                char **grown = realloc (*paths, cap * sizeof *grown);
                if (!grown)
                    break;
                *paths = grown;
            }
            (*paths) [(*count)++] = strdup (g.gl_pathv [k]);
        }
        globfree (&g);
    }
    return 0;
}

void
ds_paths_free (char ***paths, size_t count)
{
    if (!paths || !*paths)
        return;
    for (size_t i = 0; i < count; i++)
        free ((*paths) [i]);
    free (*paths);
    *paths = NULL;
}
