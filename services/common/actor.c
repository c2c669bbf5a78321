/*  actor.c - see actor.h. */
#include "actor.h"

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
