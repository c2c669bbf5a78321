/*  signals.c - see signals.h. */
#include "signals.h"
#include <czmq.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>

static volatile sig_atomic_t s_stop = 0;
static volatile sig_atomic_t s_reload = 0;

static void
s_on_stop (int sig)
{
    (void) sig;
    s_stop = 1;
}

static void
s_on_reload (int sig)
{
    (void) sig;
    s_reload = 1;
}

void
ds_signals_install (void)
{
    zsys_handler_set (NULL);
    struct sigaction action;
    memset (&action, 0, sizeof action);
    sigfillset (&action.sa_mask);   //  block the others while a handler runs
    action.sa_handler = s_on_stop;
    sigaction (SIGINT, &action, NULL);
    sigaction (SIGTERM, &action, NULL);
    action.sa_handler = s_on_reload;
    sigaction (SIGHUP, &action, NULL);
    signal (SIGPIPE, SIG_IGN);
}

void
ds_signals_block_thread (void)
{
    sigset_t all;
    sigfillset (&all);              //  fill, not empty (corsaro3's slip)
    pthread_sigmask (SIG_BLOCK, &all, NULL);
}

bool
ds_poller_ended (zpoller_t *poller)
{
    if (!zpoller_terminated (poller))
        return false;               //  expired, or an event
    //  zmq_poll returned -1: nothing ran since that could change errno.
    return zsys_interrupted || zmq_errno () != EINTR;
}

bool
ds_signals_stop (void)
{
    return s_stop != 0;
}

bool
ds_signals_reload (void)
{
    if (!s_reload)
        return false;
    s_reload = 0;
    return true;
}

void
ds_signals_clear_stop (void)
{
    s_stop = 0;
}
