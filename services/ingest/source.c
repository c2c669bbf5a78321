/*  source.c - capture files, live interfaces and DarkVec logs behind one
    interface; see source.h.

    Compressed captures: zlib's gzFile wrapped in a stdio FILE by
    fopencookie(3), so libpcap reads pcap and pcapng from it as from any
    file.  Files are opened at microsecond precision: libpcap truncates the
    timestamps of nanosecond files.
*/
#include "source.h"
#include "darkvec.h"
#include "log.h"
#include <errno.h>
#include <glob.h>
#include <poll.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

typedef enum { S_FILE, S_LIVE, S_DARKVEC } s_kind_t;

struct ds_source_t {
    s_kind_t kind;
    pcap_t *pcap;
    int dlt;
    int link;                       //  index in the link table
    int fd;                         //  live: selectable descriptor
    FILE *file;                     //  what libpcap reads (owned by pcap)
    gzFile gz;                      //  under file when compressed
    ds_darkvec_t *log;
    char *path;                     //  file name or interface, for messages
};

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

//  Checks the link type of an opened pcap: a clear error if unsupported.
static int
s_check_link (ds_source_t *self, const char *what, char *err, size_t err_size)
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

ds_source_t *
ds_source_open_file (const char *path, char *err, size_t err_size)
{
    ds_source_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (err, err_size, "%s: out of memory", path);
        return NULL;
    }
    self->kind = S_FILE;
    self->path = strdup (path);
    FILE *file = fopen (path, "rb");
    if (!file) {
        snprintf (err, err_size, "%s: cannot open: %s", path, strerror (errno));
        ds_source_destroy (&self);
        return NULL;
    }
    setvbuf (file, NULL, _IOFBF, 256 * 1024);  //  before any I/O, or it is ignored
    uint8_t magic [2] = { 0, 0 };
    size_t got = fread (magic, 1, 2, file);
    if (got == 2 && magic [0] == 0x1f && magic [1] == 0x8b) {
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
        setvbuf (file, NULL, _IOFBF, 256 * 1024);
    }
    else
        rewind (file);
    char pcap_err [PCAP_ERRBUF_SIZE] = "";
    self->pcap = pcap_fopen_offline_with_tstamp_precision (file, PCAP_TSTAMP_PRECISION_MICRO,
                                                           pcap_err);
    if (!self->pcap) {
        snprintf (err, err_size, "%s: not a pcap/pcapng capture: %s", path, pcap_err);
        fclose (file);
        ds_source_destroy (&self);
        return NULL;
    }
    self->file = file;
    if (s_check_link (self, path, err, err_size)) {
        ds_source_destroy (&self);
        return NULL;
    }
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
    if (s_check_link (self, what, err, err_size)) {
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
    if (self->pcap)
        pcap_close (self->pcap);    //  closes file (and gz through the cookie)
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
    struct pcap_pkthdr *hdr;
    const u_char *data;
    int rc = pcap_next_ex (self->pcap, &hdr, &data);
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
    stats->packets_read++;
    stats->link [self->link]++;
    int64_t ts = (int64_t) hdr->ts.tv_sec * 1000000 + hdr->ts.tv_usec;
    rc = ds_parse_frame (self->dlt, data, hdr->caplen, ts, rec);
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

uint64_t
ds_source_pcap_drops (ds_source_t *self)
{
    struct pcap_stat ps;
    if (self->kind != S_LIVE || pcap_stats (self->pcap, &ps) != 0)
        return 0;
    return (uint64_t) ps.ps_drop + ps.ps_ifdrop;
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
        int rc = glob (patterns [i], 0, NULL, &g);
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
