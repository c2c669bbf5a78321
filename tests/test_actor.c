/*  libs: ds_common */
/*  test_actor.c - what every service actor shares (services/common/actor.c):
    a refused start signals -1, answers the commands of its table (in as
    many frames as asked), ignores the others and ends at $TERM;
    ds_actor_new_all starts actors at once (each waits for all the others
    before it signals: started one after the other, none would), a refused
    one among them included, and their threads end (ds_actor_join).
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <time.h>
#include "actor.h"

static const ds_actor_answer_t s_answers [] = {
    { "ENDPOINT", "", 1 },
    { "ENDPOINTS", "", 2 },
    { "CHECKPOINT", "it did not start", 0 },
    { NULL, NULL, 0 }
};

static void
s_refusing (zsock_t *pipe, void *args)
{
    (void) args;
    ds_actor_refused (pipe, s_answers);
}

//  The next message on the actor's pipe within 5 s (caller destroys), or NULL.
static zmsg_t *
s_reply (zactor_t *actor)
{
    zpoller_t *poller = zpoller_new (actor, NULL);
    zmsg_t *msg = zpoller_wait (poller, 5000) ? zmsg_recv (actor) : NULL;
    zpoller_destroy (&poller);
    return msg;
}

static void
test_refused (void **state)
{
    (void) state;
    zactor_t *actor = zactor_new (s_refusing, NULL);
    assert_non_null (actor);
    //  An unknown command gets no reply: the next reply is ENDPOINT's.
    assert_int_equal (zstr_send (actor, "STATUS"), 0);
    assert_int_equal (zstr_send (actor, "ENDPOINT"), 0);
    zmsg_t *msg = s_reply (actor);
    assert_non_null (msg);
    assert_int_equal (zmsg_size (msg), 1);
    assert_int_equal (zframe_size (zmsg_first (msg)), 0);
    zmsg_destroy (&msg);
    assert_int_equal (zstr_send (actor, "ENDPOINTS"), 0);
    msg = s_reply (actor);
    assert_non_null (msg);
    assert_int_equal (zmsg_size (msg), 2);
    zmsg_destroy (&msg);
    assert_int_equal (zstr_send (actor, "CHECKPOINT"), 0);
    char *text = zstr_recv (actor);
    assert_string_equal (text, "it did not start");
    zstr_free (&text);
    zactor_destroy (&actor);            //  $TERM: it ends
    assert_null (actor);
}

//  Actors that start together: each counts itself in, then waits (5 s at
//  most) for all of them before it signals.
typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    int in, all;
    int saw_all;                    //  actors that saw every other one in
} t_together_t;

static void
s_together (zsock_t *pipe, void *args)
{
    t_together_t *t = args;
    struct timespec until;
    clock_gettime (CLOCK_REALTIME, &until);
    until.tv_sec += 5;
    pthread_mutex_lock (&t->lock);
    t->in++;
    pthread_cond_broadcast (&t->changed);
    while (t->in < t->all)
        if (pthread_cond_timedwait (&t->changed, &t->lock, &until) != 0)
            break;
    if (t->in == t->all)
        t->saw_all++;
    pthread_mutex_unlock (&t->lock);
    zsock_signal (pipe, 0);
    while (true) {
        char *command = zstr_recv (pipe);
        bool term = !command || streq (command, "$TERM");
        if (command && streq (command, "ENDPOINT"))
            zstr_send (pipe, "up");
        zstr_free (&command);
        if (term)
            break;
    }
}

static void
test_new_all (void **state)
{
    (void) state;
    t_together_t t = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 3, 0 };
    zactor_fn *fns [4] = { s_together, s_together, s_refusing, s_together };
    void *args [4] = { &t, &t, NULL, &t };
    zactor_t *actors [4] = { NULL };
    ds_actor_new_all (4, fns, args, actors);
    assert_int_equal (t.saw_all, 3);
    for (int i = 0; i < 4; i++) {
        assert_non_null (actors [i]);
        assert_int_equal (zstr_send (actors [i], "ENDPOINT"), 0);
        zmsg_t *msg = s_reply (actors [i]);
        assert_non_null (msg);
        char *text = zmsg_popstr (msg);
        assert_string_equal (text, i == 2 ? "" : "up");
        zstr_free (&text);
        zmsg_destroy (&msg);
    }
    for (int i = 0; i < 4; i++)
        zactor_destroy (&actors [i]);
    assert_true (ds_actor_join (5000));
    ds_actor_new_all (0, fns, args, actors);        //  none: nothing to do
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_refused),
        cmocka_unit_test (test_new_all),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
