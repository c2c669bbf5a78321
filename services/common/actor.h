/*  actor.h - what every service actor does the same way.

    A service's logic runs as a czmq actor (zactor_new); its start ends
    with zsock_signal on the pipe: 0 when it is up, -1 when it could not
    start.  An actor that could not start stays until $TERM, so that the
    pipe its owner holds stays usable: it answers the commands its owner
    may still send (ENDPOINT: "", the aggregator's CHECKPOINT: why) and
    ignores the others.

    czmq's actor thread signals its owner's zactor_destroy before it
    closes its own end of the pipe; czmq's exit handler sleeps 200 ms when
    any socket is still open at exit.  An actor started with ds_actor_new
    is counted until its thread has ended (pipe closed), and
    ds_actor_join waits for that, so a process that ends right after
    destroying its actors does not lose the race and the 200 ms.
*/
#ifndef DS_ACTOR_H
#define DS_ACTOR_H

#include <czmq.h>

//  A command a refused actor still answers, and its reply.
typedef struct {
    const char *command;            //  e.g. "ENDPOINT"
    const char *reply;              //  the text sent back
    int frames;                     //  the reply in that many frames (0: one)
} ds_actor_answer_t;

//  Signals -1 on pipe (the start failed; logged by the caller), then
//  answers each command of answers (a {NULL}-terminated table) with its
//  reply until $TERM or the pipe's end.
void ds_actor_refused (zsock_t *pipe, const ds_actor_answer_t *answers);

//  zactor_new (fn, args), the actor's thread counted until it has ended.
zactor_t *ds_actor_new (zactor_fn *fn, void *args);

//  ds_actor_new (fns [i], args [i]) into actors [i] for the n actors at
//  once: each zactor_new on its own thread, so that their starts (a
//  store to allocate, tables to load) overlap.  Returns when every one
//  has signalled; an actor that could not start is there as with
//  ds_actor_new (it says so when asked), NULL only if it had no thread.
void ds_actor_new_all (size_t n, zactor_fn *const *fns, void *const *args, zactor_t **actors);

//  Waits up to timeout_ms for every thread of ds_actor_new to end; true
//  when none is left.
bool ds_actor_join (int timeout_ms);

#endif
