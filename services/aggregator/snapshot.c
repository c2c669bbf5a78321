/*  snapshot.c - checkpoints written by a forked child; see snapshot.h.

    The child runs only ds_store_save (files, malloc, zlib: no zmq, no
    logging, no locks another thread may have held: glibc resets malloc's
    locks in the child), writes its error text to a pipe and leaves with
    _exit (no atexit handlers, no stdio buffers of the parent flushed
    twice).  It blocks every signal: a SIGINT for the parent's process
    group must not kill a checkpoint half written (the temporary file is
    only renamed once complete, so even that would lose nothing).

    Sanitizer builds write in the calling thread instead: the allocator of
    AddressSanitizer (GCC 12's libasan) takes no locks around fork, so a
    child that mallocs or frees while another thread held one of its locks
    at the fork waits forever (seen: test_restart hung under ASan, the
    child in ReturnToAllocator).  glibc's malloc is fork-safe; release
    builds fork.
*/
#include "snapshot.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include "sanitized.h"
#define S_FORK (!DS_SANITIZED)      //  the child writes; 0: the caller does

struct ds_snapshot_t {
    pid_t pid;                      //  the child, 0 once reaped
    int fd;                         //  read end of its error pipe
    int result;                     //  DS_SNAPSHOT_*
    int64_t started, pause, duration;   //  monotonic us
    char error [512];
};

static int64_t
s_mono_us (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

//  The child: write, report, leave.
static void
s_child (ds_store_t *store, const char *path, int fd)
{
    sigset_t all;
    sigfillset (&all);
    sigprocmask (SIG_BLOCK, &all, NULL);
    //  Nothing of the parent's but the report pipe: a child that outlives
    //  a killed parent must not keep its sockets (the bound port, which a
    //  restarted aggregator could not bind; the connections, whose peers
    //  would not see the subscriber gone).
    if (fd > 3)
        close_range (3, (unsigned) fd - 1, 0);
    close_range ((unsigned) fd + 1, ~0U, 0);
    char err [512] = "";
    int rc = ds_store_save (store, path, err, sizeof err);
    if (rc != 0) {
        size_t len = strnlen (err, sizeof err);
        ssize_t n = write (fd, err, len ? len : 1);
        (void) n;
    }
    _exit (rc == 0 ? 0 : 1);
}

ds_snapshot_t *
ds_snapshot_start (ds_store_t *store, const char *path, char *err, size_t err_size)
{
    ds_snapshot_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (err, err_size, "cannot write checkpoint %s: out of memory", path);
        return NULL;
    }
    self->fd = -1;
    self->result = DS_SNAPSHOT_RUNNING;
    self->started = s_mono_us ();
    int fds [2];
    if (ds_store_prepare_save (store) != 0) {
        snprintf (err, err_size, "cannot write checkpoint %s: out of memory", path);
        free (self);
        return NULL;
    }
    if (!S_FORK) {
        //  Written here and now: the pause is the whole write.
        if (ds_store_save (store, path, self->error, sizeof self->error) == 0) {
            self->result = DS_SNAPSHOT_DONE;
            self->error [0] = 0;
        }
        else
            self->result = DS_SNAPSHOT_FAILED;
        self->pause = self->duration = s_mono_us () - self->started;
        return self;
    }
    if (pipe2 (fds, O_CLOEXEC) != 0) {
        snprintf (err, err_size, "cannot write checkpoint %s: pipe: %s", path, strerror (errno));
        free (self);
        return NULL;
    }
    pid_t pid = fork ();
    if (pid == 0) {
        close (fds [0]);
        s_child (store, path, fds [1]);
    }
    close (fds [1]);
    if (pid < 0) {
        snprintf (err, err_size, "cannot write checkpoint %s: fork: %s", path, strerror (errno));
        close (fds [0]);
        free (self);
        return NULL;
    }
    self->pid = pid;
    self->fd = fds [0];
    self->pause = s_mono_us () - self->started;
    return self;
}

int
ds_snapshot_poll (ds_snapshot_t *self, bool wait)
{
    if (self->result != DS_SNAPSHOT_RUNNING)
        return self->result;
    int status;
    pid_t got;
    do
        got = waitpid (self->pid, &status, wait ? 0 : WNOHANG);
    while (got < 0 && errno == EINTR);
    if (got == 0)
        return DS_SNAPSHOT_RUNNING;
    self->duration = s_mono_us () - self->started;
    self->pid = 0;
    ssize_t n = read (self->fd, self->error, sizeof self->error - 1);
    self->error [n > 0 ? n : 0] = 0;
    close (self->fd);
    self->fd = -1;
    if (got < 0)
        snprintf (self->error, sizeof self->error, "checkpoint writer lost: %s", strerror (errno));
    else
    if (WIFSIGNALED (status))
        snprintf (self->error, sizeof self->error, "checkpoint writer killed by signal %d",
                  WTERMSIG (status));
    else
    if (WEXITSTATUS (status) != 0 && !self->error [0])
        snprintf (self->error, sizeof self->error, "checkpoint writer failed (exit %d)",
                  WEXITSTATUS (status));
    self->result = got > 0 && WIFEXITED (status) && WEXITSTATUS (status) == 0
                 ? DS_SNAPSHOT_DONE : DS_SNAPSHOT_FAILED;
    if (self->result == DS_SNAPSHOT_DONE)
        self->error [0] = 0;
    return self->result;
}

const char *
ds_snapshot_error (const ds_snapshot_t *self)
{
    return self->error;
}

int64_t
ds_snapshot_pause_us (const ds_snapshot_t *self)
{
    return self->pause;
}

int64_t
ds_snapshot_duration_us (const ds_snapshot_t *self)
{
    return self->duration;
}

void
ds_snapshot_destroy (ds_snapshot_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ds_snapshot_t *self = *self_p;
    if (self->result == DS_SNAPSHOT_RUNNING)
        ds_snapshot_poll (self, true);
    if (self->fd >= 0)
        close (self->fd);
    free (self);
    *self_p = NULL;
}
