/*  signals.h - the signal handling every darkscope process shares.

    SIGINT and SIGTERM ask the process to stop, SIGHUP asks for a reload,
    SIGPIPE is ignored.  The handlers only set flags (STYLE: nothing else is
    async-signal-safe); the main loop polls them (service.h's wait, or
    darkscope run's).  czmq's own SIGINT handler is switched off so there
    is one owner of the signals.  Actor threads
    block every signal (ds_signals_block_thread) so a signal sent to the
    process reaches the main thread only, and no actor's wait ends in EINTR;
    loops still treat an interrupted wait as a wait to repeat
    (ds_poller_ended), never as the end.
*/
#ifndef DS_SIGNALS_H
#define DS_SIGNALS_H

#include <stdbool.h>
#include <czmq.h>

//  Installs the handlers.  Call once in main() before starting actors.
void ds_signals_install (void);

//  Blocks every signal in the calling thread (first thing in each actor;
//  threads it starts inherit the mask).
void ds_signals_block_thread (void);

//  After zpoller_wait returned NULL: true if the poller cannot go on (the
//  context or a socket is gone, or czmq's interrupt flag is set); false
//  for an expired timeout or a wait interrupted by a signal (EINTR), which
//  czmq also reports as zpoller_terminated -- a loop repeats those.
bool ds_poller_ended (zpoller_t *poller);

//  True once SIGINT or SIGTERM arrived.
bool ds_signals_stop (void);

//  True if SIGHUP arrived since the last call (the flag is cleared).
bool ds_signals_reload (void);

//  Forgets a stop request (a caller that turned it into a graceful end).
void ds_signals_clear_stop (void);

#endif
