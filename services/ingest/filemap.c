/*  filemap.c - a regular file read through windows mapped read-only; see
    filemap.h.

    Windows.  A window starts at the page holding the offset asked for and
    spans the map's window size (DS_FILEMAP_WINDOW unless told), or more
    when one read asks for more, or less at the end of the file (its size
    read by fstat when the window is mapped).
    The reader parses a window in order, so the kernel's read-around brings
    its pages in as they are touched; the previous window is unmapped when
    the next is mapped.

    Truncation.  When the file shrinks, the kernel unmaps its pages past
    the new end from every mapping, and touching one raises SIGBUS.  Each
    new map makes sure the process's SIGBUS handler is this file's; it looks
    the faulting address up among the live windows (a fixed table of
    slots, read with atomics: the handler takes no lock and allocates
    nothing).  In a window, it maps an anonymous zero page over the page
    that vanished, sets that window's cut flag and returns: the load runs
    again and reads zeros, and the reader, which checks the flag after
    each record, drops the record and stops reading the map.  A fault
    anywhere else goes to the handler that was there before, or, if that
    was the default, ends the process with SIGBUS as it would have.

    A file cut inside a page leaves that page mapped with zeros past the
    new end (no signal): records read from those zeros are whatever zeros
    parse as (malformed frames, counted so).  A file cut under a reader
    is a race with its writer either way; read(2) would have returned the
    bytes of the moment instead.
*/
#include "filemap.h"
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define S_SLOTS     64

struct ds_filemap_t {
    int fd;
    size_t page;
    size_t window;                      //  bytes per window (pages)
    uint8_t *base;                      //  the window, or NULL
    uint64_t base_off;                  //  file offset of base [0]
    size_t base_len;                    //  bytes mapped at base
    int slot;                           //  its slot in s_slots, or -1
    volatile sig_atomic_t cut;          //  a page of the window vanished
};

//  Live windows, for the SIGBUS handler: [lo, hi) and the map to mark.
typedef struct {
    atomic_uintptr_t lo, hi;
    _Atomic (ds_filemap_t *) map;
    atomic_bool used;
} s_slot_t;

static s_slot_t s_slots [S_SLOTS];
static struct sigaction s_previous;
static pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER;
static size_t s_page;

//  Whatever handled SIGBUS before the maps did.
static void
s_chain (int sig, siginfo_t *info, void *context)
{
    if (s_previous.sa_flags & SA_SIGINFO) {
        if (s_previous.sa_sigaction) {
            s_previous.sa_sigaction (sig, info, context);
            return;
        }
    }
    else
    if (s_previous.sa_handler != SIG_DFL && s_previous.sa_handler != SIG_IGN) {
        s_previous.sa_handler (sig);
        return;
    }
    //  The default: the faulting access runs again and the signal, now
    //  handled by default, ends the process as if no map had been here.
    signal (sig, SIG_DFL);
}

static void
s_on_sigbus (int sig, siginfo_t *info, void *context)
{
    uintptr_t addr = (uintptr_t) info->si_addr;
    for (int i = 0; i < S_SLOTS; i++) {
        uintptr_t lo = atomic_load (&s_slots [i].lo), hi = atomic_load (&s_slots [i].hi);
        ds_filemap_t *map = atomic_load (&s_slots [i].map);
        if (map && addr >= lo && addr < hi) {
            void *page = (void *) (addr & ~(uintptr_t) (s_page - 1));
            if (mmap (page, s_page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0)
                != MAP_FAILED) {
                map->cut = 1;
                return;
            }
            break;
        }
    }
    int saved = errno;
    s_chain (sig, info, context);
    errno = saved;
}

//  Makes s_on_sigbus the SIGBUS handler unless it is: one installed since
//  (a test harness, a library) becomes the previous one it passes foreign
//  faults to.  False if it cannot.
static bool
s_install (void)
{
    pthread_mutex_lock (&s_lock);
    s_page = (size_t) sysconf (_SC_PAGESIZE);
    struct sigaction now;
    bool ok = sigaction (SIGBUS, NULL, &now) == 0;
    if (ok && !((now.sa_flags & SA_SIGINFO) && now.sa_sigaction == s_on_sigbus)) {
        struct sigaction sa;
        memset (&sa, 0, sizeof sa);
        sa.sa_sigaction = s_on_sigbus;
        sa.sa_flags = SA_SIGINFO | SA_RESTART;
        sigemptyset (&sa.sa_mask);
        s_previous = now;
        ok = sigaction (SIGBUS, &sa, NULL) == 0;
    }
    pthread_mutex_unlock (&s_lock);
    return ok;
}

//  Takes a free slot for self; -1 if there is none.
static int
s_slot_take (ds_filemap_t *self)
{
    for (int i = 0; i < S_SLOTS; i++) {
        bool free_slot = false;
        if (atomic_compare_exchange_strong (&s_slots [i].used, &free_slot, true)) {
            atomic_store (&s_slots [i].map, self);
            return i;
        }
    }
    return -1;
}

//  Unmaps the window (its slot's range cleared first).
static void
s_unmap (ds_filemap_t *self)
{
    if (!self->base)
        return;
    atomic_store (&s_slots [self->slot].hi, 0);
    atomic_store (&s_slots [self->slot].lo, 0);
    munmap (self->base, self->base_len);
    self->base = NULL;
    self->base_len = 0;
}

ds_filemap_t *
ds_filemap_new (int fd, size_t window)
{
    struct stat st;
    if (fstat (fd, &st) != 0 || !S_ISREG (st.st_mode))
        return NULL;
    if (!s_install ())
        return NULL;
    ds_filemap_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->fd = fd;
    self->page = s_page;
    size_t pages = (window + s_page - 1) / s_page;
    self->window = (pages ? pages : 1) * s_page;
    self->slot = s_slot_take (self);
    if (self->slot < 0) {
        free (self);
        return NULL;
    }
    return self;
}

void
ds_filemap_destroy (ds_filemap_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ds_filemap_t *self = *self_p;
    s_unmap (self);
    atomic_store (&s_slots [self->slot].map, NULL);
    atomic_store (&s_slots [self->slot].used, false);
    free (self);
    *self_p = NULL;
}

const uint8_t *
ds_filemap_at (ds_filemap_t *self, uint64_t off, size_t want, size_t *len)
{
    uint64_t end = self->base_off + self->base_len;
    if (self->base && off >= self->base_off && off <= end && end - off >= want) {
        *len = (size_t) (end - off);
        return self->base + (off - self->base_off);
    }
    s_unmap (self);
    struct stat st;
    if (fstat (self->fd, &st) != 0)
        return NULL;
    uint64_t size = st.st_size > 0 ? (uint64_t) st.st_size : 0;
    *len = 0;
    if (off >= size)
        return (const uint8_t *) "";
    uint64_t from = off & ~(uint64_t) (self->page - 1);
    uint64_t span = (off - from) + want > self->window ? (off - from) + want : self->window;
    if (span > size - from)
        span = size - from;
    if (span > SIZE_MAX / 2) {
        errno = EFBIG;
        return NULL;
    }
    void *base = mmap (NULL, (size_t) span, PROT_READ, MAP_SHARED, self->fd, (off_t) from);
    if (base == MAP_FAILED)
        return NULL;
    self->base = base;
    self->base_off = from;
    self->base_len = (size_t) span;
    atomic_store (&s_slots [self->slot].lo, (uintptr_t) base);
    atomic_store (&s_slots [self->slot].hi, (uintptr_t) base + (size_t) span);
    *len = (size_t) (from + span - off);
    return self->base + (off - from);
}

const volatile sig_atomic_t *
ds_filemap_cut_flag (const ds_filemap_t *self)
{
    return &self->cut;
}
