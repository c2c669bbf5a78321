/*  actor.c - see actor.h. */
#include "actor.h"
#include <pthread.h>
#include <time.h>

//  Threads of ds_actor_new not yet ended: a thread-specific value's
//  destructor runs once its start routine (czmq's shim, which closes the
//  pipe last) has returned.
static pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t s_ended = PTHREAD_COND_INITIALIZER;
static pthread_once_t s_once = PTHREAD_ONCE_INIT;
static pthread_key_t s_key;
static bool s_key_ok;
static size_t s_live;

typedef struct {
    zactor_fn *fn;
    void *args;
} s_start_t;

static void
s_thread_ended (void *value)
{
    (void) value;
    pthread_mutex_lock (&s_lock);
    s_live--;
    pthread_cond_broadcast (&s_ended);
    pthread_mutex_unlock (&s_lock);
}

static void
s_key_create (void)
{
    s_key_ok = pthread_key_create (&s_key, s_thread_ended) == 0;
}

static void
s_counted (zsock_t *pipe, void *args)
{
    s_start_t start = *(s_start_t *) args;
    free (args);
    if (s_key_ok && pthread_setspecific (s_key, &s_live) == 0) {
        pthread_mutex_lock (&s_lock);
        s_live++;
        pthread_mutex_unlock (&s_lock);
    }
    start.fn (pipe, start.args);
}

zactor_t *
ds_actor_new (zactor_fn *fn, void *args)
{
    pthread_once (&s_once, s_key_create);
    s_start_t *start = malloc (sizeof *start);
    if (!start)
        return NULL;
    *start = (s_start_t) { fn, args };
    //  zactor_new returns once the actor signalled its start: by then
    //  s_counted has taken start (and counted the thread).
    zactor_t *actor = zactor_new (s_counted, start);
    if (!actor)
        free (start);               //  no thread ran
    return actor;
}

//  One actor of ds_actor_new_all, started on a thread of its own.
typedef struct {
    zactor_fn *fn;
    void *args;
    zactor_t *actor;
    pthread_t thread;
    bool threaded;                  //  thread runs s_starter
} s_starter_t;

static void *
s_starter (void *arg)
{
    s_starter_t *self = arg;
    self->actor = ds_actor_new (self->fn, self->args);
    return NULL;
}

void
ds_actor_new_all (size_t n, zactor_fn *const *fns, void *const *args, zactor_t **actors)
{
    if (n == 0)
        return;
    zsys_init ();                   //  czmq's context: once, before threads race to it
    s_starter_t *starters = calloc (n, sizeof *starters);
    //  Actor 0 here, each other on a starter thread (or here, one after
    //  the other, if there is none).
    for (size_t i = 1; starters && i < n; i++) {
        starters [i] = (s_starter_t) { .fn = fns [i], .args = args [i] };
        starters [i].threaded = pthread_create (&starters [i].thread, NULL, s_starter,
                                                &starters [i]) == 0;
    }
    actors [0] = ds_actor_new (fns [0], args [0]);
    for (size_t i = 1; i < n; i++) {
        if (starters && starters [i].threaded)
            pthread_join (starters [i].thread, NULL);
        else
        if (starters)
            s_starter (&starters [i]);
        actors [i] = starters ? starters [i].actor : ds_actor_new (fns [i], args [i]);
    }
    free (starters);
}

bool
ds_actor_join (int timeout_ms)
{
    struct timespec until;
    clock_gettime (CLOCK_REALTIME, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long) (timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock (&s_lock);
    int rc = 0;
    while (s_live > 0 && rc == 0)
        rc = pthread_cond_timedwait (&s_ended, &s_lock, &until);
    bool none = s_live == 0;
    pthread_mutex_unlock (&s_lock);
    return none;
}

void
ds_actor_refused (zsock_t *pipe, const ds_actor_answer_t *answers)
{
    zsock_signal (pipe, (byte) -1);
    while (true) {
        char *command = zstr_recv (pipe);
        bool term = !command || streq (command, "$TERM");
        for (const ds_actor_answer_t *a = answers; command && a->command; a++)
            if (streq (command, a->command)) {
                zmsg_t *reply = zmsg_new ();
                for (int i = 0; reply && i < (a->frames > 0 ? a->frames : 1); i++)
                    zmsg_addstr (reply, a->reply);
                zmsg_send (&reply, pipe);
                break;
            }
        zstr_free (&command);
        if (term)
            break;
    }
}
