/*  source_fast.c - the capture reader's own reader of classic pcap files
    and streams; see source.c (the fast path) and source_internal.h.
*/
#include "source_internal.h"
#include "log.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define S_FAST_SIZE  (1024 * 1024)   //  > the largest snapshot length (262144) + 16
#define S_PCAP_USEC  0xa1b2c3d4u     //  classic pcap magic, as this host reads it
#define S_PCAP_NSEC  0xa1b23c4du

static bool s_fast_enabled = true;
static size_t s_map_window = DS_FILEMAP_WINDOW;

void
ds_source_set_fast_path (bool on)
{
    s_fast_enabled = on;
}

void
ds_source_set_map (size_t window)
{
    s_map_window = window;
}

bool
ds_source_is_fast (ds_source_t *self)
{
    return self->fast;
}

void
source_fast_close (ds_source_t *self)
{
    if (self->fast_fd >= 0)
        close (self->fast_fd);
    self->fast_fd = -1;
    ds_filemap_destroy (&self->fast_map);
    self->fast_cut = NULL;
    free (self->fast_mem);
    self->fast_mem = NULL;
    self->fast_buf = NULL;
    self->fast = false;
}

void
source_fast_open (ds_source_t *self, const char *path, uint32_t magic)
{
    if (!s_fast_enabled || self->gz || (magic != S_PCAP_USEC && magic != S_PCAP_NSEC)
    ||  pcap_major_version (self->pcap) != 2 || pcap_minor_version (self->pcap) != 4
    ||  pcap_is_swapped (self->pcap) || pcap_snapshot (self->pcap) <= 0)
        return;
    bool nsec = magic == S_PCAP_NSEC;
    self->fast_fd = open (path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (self->fast_fd < 0 || fstat (self->fast_fd, &st) != 0 || !S_ISREG (st.st_mode)
    ||  lseek (self->fast_fd, 24, SEEK_SET) != 24) {
        source_fast_close (self);
        return;
    }
    //  A file system that cannot map it (mmap fails on the first window)
    //  is read with read(2).
    self->fast_map = s_map_window ? ds_filemap_new (self->fast_fd, s_map_window) : NULL;
    size_t len;
    if (self->fast_map && !ds_filemap_at (self->fast_map, 24, 16, &len))
        ds_filemap_destroy (&self->fast_map);
    if (self->fast_map)
        self->fast_cut = ds_filemap_cut_flag (self->fast_map);
    else
    if (!(self->fast_mem = malloc (S_FAST_SIZE))) {
        source_fast_close (self);
        return;
    }
    self->fast_buf = self->fast_mem;
    self->fast = true;
    self->fast_nsec = nsec;
    self->fast_base = 24;
    self->fast_snap = (uint32_t) pcap_snapshot (self->pcap);
}

//  Moves the unread bytes to the front and reads until the buffer is full
//  or the file ends; or maps the window that starts with them, with need
//  bytes at least unless the file ends first.  False on a read error.
static bool
s_fast_fill (ds_source_t *self, size_t need)
{
    if (self->fast_map) {
        size_t len;
        uint64_t at = self->fast_base + self->fast_pos;
        const uint8_t *p = ds_filemap_at (self->fast_map, at, need, &len);
        if (!p) {
            ds_log_error ("%s: cannot map offset %llu: %s", self->path, (unsigned long long) at,
                          strerror (errno));
            return false;
        }
        self->fast_buf = p;
        self->fast_base = at;
        self->fast_pos = 0;
        self->fast_end = len;
        return true;
    }
    size_t left = self->fast_end - self->fast_pos;
    memmove (self->fast_mem, self->fast_mem + self->fast_pos, left);
    self->fast_base += self->fast_pos;
    self->fast_pos = 0;
    self->fast_end = left;
    if (self->stream) {
        //  One read without blocking: what the pipe holds now.
        ssize_t n = read (self->fast_fd, self->fast_mem + self->fast_end,
                          S_FAST_SIZE - self->fast_end);
        if (n > 0)
            self->fast_end += (size_t) n;
        else
        if (n == 0)
            self->fast_eof = true;
        else
        if (errno != EAGAIN && errno != EINTR)
            return false;
        return true;
    }
    //  A file read to its end may have grown since (a capture tool still
    //  writing it): read again, as the map reads its size again.
    self->fast_eof = false;
    while (!self->fast_eof && self->fast_end < S_FAST_SIZE) {
        ssize_t n = read (self->fast_fd, self->fast_mem + self->fast_end,
                          S_FAST_SIZE - self->fast_end);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return false;
        if (n == 0)
            self->fast_eof = true;
        self->fast_end += (size_t) n;
    }
    return true;
}

int
source_fast_handover (ds_source_t *self)
{
    off_t at = (off_t) (self->fast_base + self->fast_pos);
    source_fast_close (self);
    //  What stdio buffered when libpcap opened the file is dropped: the
    //  file may have changed since (a seek inside the buffer would keep it).
    if (fflush (self->file) != 0 || fseeko (self->file, at, SEEK_SET) != 0) {
        ds_log_error ("%s: cannot seek to offset %lld: %s", self->path, (long long) at,
                      strerror (errno));
        return -1;
    }
    return 0;
}

int
source_fast_cut (ds_source_t *self, uint32_t caplen)
{
    self->fast_pos -= 16 + (size_t) caplen;
    ds_log_warn ("%s: the file shrank while it was read, at offset %llu; read on from there",
                 self->path, (unsigned long long) (self->fast_base + self->fast_pos));
    return source_fast_handover (self);
}

int
source_fast_next (ds_source_t *self, struct pcap_pkthdr *hdr, const uint8_t **data)
{
    size_t avail = self->fast_end - self->fast_pos;
    if (avail < 16) {
        if (!s_fast_fill (self, 16))
            return -1;
        avail = self->fast_end;
        if (avail == 0)
            return 0;
        if (avail < 16)
            return -1;                          //  header cut short
    }
    uint32_t w [4];                             //  ts_sec, ts_frac, caplen, len
    memcpy (w, self->fast_buf + self->fast_pos, sizeof w);
    if (w [2] > self->fast_snap)
        return -1;
    if (avail < 16 + (size_t) w [2]) {
        if (!s_fast_fill (self, 16 + (size_t) w [2]))
            return -1;
        if (self->fast_end < 16 + (size_t) w [2])
            return -1;                          //  frame cut short
    }
    int32_t sec = (int32_t) w [0], frac = (int32_t) w [1];
    hdr->ts.tv_sec = sec;
    hdr->ts.tv_usec = self->fast_nsec ? frac / 1000 : frac;
    hdr->caplen = w [2];
    hdr->len = w [3];
    *data = self->fast_buf + self->fast_pos + 16;
    self->fast_pos += 16 + (size_t) w [2];
    return 1;
}

//  A stream whose first bytes were read already: they are served again,
//  then the rest of the underlying FILE.
typedef struct {
    FILE *under;
    uint8_t head [24];
    size_t n, pos;
} s_peeked_t;

static ssize_t
s_peeked_read (void *cookie, char *buf, size_t size)
{
    s_peeked_t *p = cookie;
    if (p->pos < p->n) {
        size_t k = p->n - p->pos < size ? p->n - p->pos : size;
        memcpy (buf, p->head + p->pos, k);
        p->pos += k;
        return (ssize_t) k;
    }
    size_t got = fread (buf, 1, size, p->under);
    return got == 0 && ferror (p->under) ? -1 : (ssize_t) got;
}

static int
s_peeked_close (void *cookie)
{
    s_peeked_t *p = cookie;
    int rc = fclose (p->under);
    free (p);
    return rc;
}

//  Wraps under (owned) so that head [0, n) is read first; NULL (under
//  closed) if memory ran out.
static FILE *
s_peeked_open (FILE *under, const uint8_t *head, size_t n)
{
    s_peeked_t *p = calloc (1, sizeof *p);
    cookie_io_functions_t io = { .read = s_peeked_read, .close = s_peeked_close };
    FILE *file = p ? fopencookie (p, "rb", io) : NULL;
    if (!file) {
        free (p);
        fclose (under);
        return NULL;
    }
    p->under = under;
    memcpy (p->head, head, n);
    p->n = n;
    return file;
}

int
source_stream_next (ds_source_t *self, struct pcap_pkthdr *hdr, const uint8_t **data)
{
    uint32_t w [4];                             //  ts_sec, ts_frac, caplen, len
    bool waited = false;
    while (true) {
        size_t avail = self->fast_end - self->fast_pos, need = 16;
        if (avail >= 16) {
            memcpy (w, self->fast_buf + self->fast_pos, sizeof w);
            if (w [2] > 262144) {               //  libpcap's MAXIMUM_SNAPLEN
                ds_log_error ("%s: invalid packet capture length %u", self->path, w [2]);
                return -1;
            }
            need += w [2];
        }
        if (avail >= need)
            break;
        if (self->fast_eof)
            return avail == 0 ? 0 : -2;
        if (waited)
            return 2;
        bool ok = s_fast_fill (self, 0);
        if (ok && self->fast_end == avail && !self->fast_eof) {
            //  Nothing new: wait for the writer, at most 100 ms.
            struct pollfd pfd = { .fd = self->fast_fd, .events = POLLIN };
            poll (&pfd, 1, 100);
            ok = s_fast_fill (self, 0);
            waited = true;
        }
        if (!ok) {
            ds_log_error ("%s: read error: %s", self->path, strerror (errno));
            return -1;
        }
    }
    int32_t sec = (int32_t) w [0], frac = (int32_t) w [1];
    hdr->ts.tv_sec = sec;
    hdr->ts.tv_usec = self->fast_nsec ? frac / 1000 : frac;
    hdr->caplen = w [2] > self->fast_snap ? self->fast_snap : w [2];
    hdr->len = w [3];
    *data = self->fast_buf + self->fast_pos + 16;
    self->fast_pos += 16 + (size_t) w [2];
    return 1;
}

//  Reads up to size bytes, blocking: fewer only at the end or on an error.
static size_t
s_read_full (int fd, uint8_t *buf, size_t size)
{
    size_t got = 0;
    while (got < size) {
        ssize_t n = read (fd, buf + got, size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t) n;
    }
    return got;
}

ds_source_t *
source_open_stream (ds_source_t *self, const char *path, bool is_stdin, char *err, size_t err_size)
{
    int fd = is_stdin ? fcntl (STDIN_FILENO, F_DUPFD_CLOEXEC, 0) : open (path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf (err, err_size, "%s: cannot open: %s", path, strerror (errno));
        ds_source_destroy (&self);
        return NULL;
    }
    size_t got = s_read_full (fd, self->head, 4);
    uint32_t m;
    memcpy (&m, self->head, 4);
    bool ours = s_fast_enabled && got == 4 && (m == S_PCAP_USEC || m == S_PCAP_NSEC);
    if (ours)
        got += s_read_full (fd, self->head + 4, 20);
    ours = ours && got == 24;
    FILE *file = ours ? fmemopen (self->head, 24, "rb") : NULL;
    if (!file) {
        ours = false;
        FILE *under = fdopen (fd, "rb");
        file = under ? s_peeked_open (under, self->head, got) : NULL;
        if (!under)
            close (fd);
        if (!file) {
            snprintf (err, err_size, "%s: cannot read: %s", path, strerror (errno));
            ds_source_destroy (&self);
            return NULL;
        }
    }
    if (source_pcap_fopen (self, file, path, err, err_size)) {
        if (ours)
            close (fd);
        ds_source_destroy (&self);
        return NULL;
    }
    if (!ours)
        return self;
    self->fast_buf = self->fast_mem = malloc (S_FAST_SIZE);
    if (!self->fast_mem || pcap_major_version (self->pcap) != 2 || pcap_minor_version (self->pcap) != 4
    ||  pcap_snapshot (self->pcap) <= 0 || fcntl (fd, F_SETFL, fcntl (fd, F_GETFL) | O_NONBLOCK) != 0) {
        snprintf (err, err_size, "%s: a pcap stream of version %d.%d (want 2.4)", path,
                  pcap_major_version (self->pcap), pcap_minor_version (self->pcap));
        close (fd);
        ds_source_destroy (&self);
        return NULL;
    }
    self->fast_fd = fd;
    self->fast = true;
    self->stream = true;
    self->fast_nsec = m == S_PCAP_NSEC;
    self->fast_base = 24;
    self->fast_snap = (uint32_t) pcap_snapshot (self->pcap);
    return self;
}
