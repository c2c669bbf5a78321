/*  libs: ds_common */
/*  test_actor.c - what every service actor shares (services/common/actor.c):
    a refused start signals -1, answers the commands of its table (in as
    many frames as asked), ignores the others and ends at $TERM.
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
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

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_refused),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
