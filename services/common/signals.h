/*  signals.h - the signal handling every darkscope process shares.

    SIGINT and SIGTERM ask the process to stop, SIGHUP asks for a reload,
    SIGPIPE is ignored.  The handlers only set flags (STYLE: nothing else is
    async-signal-safe); the main loop polls them.  czmq's own SIGINT handler
    is switched off so there is one owner of the signals.
*/
#ifndef DS_SIGNALS_H
#define DS_SIGNALS_H

#include <stdbool.h>
#include <czmq.h>

//  Installs the handlers.  Call once in main() before starting actors.
void ds_signals_install (void);

//  True once SIGINT or SIGTERM arrived.
bool ds_signals_stop (void);

//  True if SIGHUP arrived since the last call (the flag is cleared).
bool ds_signals_reload (void);

//  Forgets a stop request (a caller that turned it into a graceful end).
void ds_signals_clear_stop (void);

//  The main loop of a service executable: waits until SIGINT/SIGTERM,
//  forwarding SIGHUP to the actor as "RELOAD" if reload is true, and
//  draining what the actor sends on its pipe (its events are logged by the
//  actor itself).  Returns when a stop was asked or the actor went away.
void ds_signals_wait (zactor_t *actor, bool reload);

#endif
