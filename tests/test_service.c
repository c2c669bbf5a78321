/*  libs: ds_common */
/*  test_service.c - the service skeleton (service.h) with real signals.

    Each case forks a child that runs ds_service_main over a small actor.
    The actor sends the process its signals itself (kill): its thread
    blocks them, as every actor does, so they reach main()'s wait.  It
    writes what reached it ("RELOAD", "STOP", "$TERM", ...) to a pipe the
    parent reads; the parent checks those lines and the exit status.  A
    child keeps signals and czmq's state away from the next case.
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <unistd.h>
#include <sys/wait.h>
#include <cmocka.h>
#include <czmq.h>
#include "service.h"
#include "log.h"
#include "signals.h"

typedef enum {
    S_RELOAD,                       //  SIGHUP -> RELOAD, then SIGTERM
    S_HUP_IGNORED,                  //  SIGHUP to a service that does not reload
    S_DONE,                         //  ends by itself
    S_FAILED,                       //  ends by itself, failed
    S_STOP,                         //  SIGINT -> STOP -> DONE
    S_ABANDON,                      //  SIGINT, then SIGTERM again while stopping
    S_NOT_STARTED                   //  the started check says no
} s_script_t;

typedef struct {
    s_script_t script;
    int report;                     //  pipe to the parent
} s_case_t;

static void
s_say (s_case_t *c, const char *what)
{
    char line [64];
    int n = snprintf (line, sizeof line, "%s\n", what);
    if (write (c->report, line, (size_t) n) != n)
        _exit (99);
}

//  Next command on the pipe, reported; NULL if none within ms.
static char *
s_next (zsock_t *pipe, s_case_t *c, int ms)
{
    zsock_set_rcvtimeo (pipe, ms);
    char *command = zstr_recv (pipe);
    if (command)
        s_say (c, command);
    return command;
}

static void
s_actor (zsock_t *pipe, void *args)
{
    s_case_t *c = (s_case_t *) args;
    ds_signals_block_thread ();                     //  as every actor does
    zsock_signal (pipe, 0);
    char *command = NULL;
    switch (c->script) {
        case S_RELOAD:
        case S_HUP_IGNORED:
            kill (getpid (), SIGHUP);
            command = s_next (pipe, c, 1000);       //  RELOAD, or nothing
            zstr_free (&command);
            kill (getpid (), SIGTERM);
            break;
        case S_DONE:
            zstr_send (pipe, "DONE");
            break;
        case S_FAILED:
            zstr_send (pipe, "FAILED");
            break;
        case S_STOP:
            kill (getpid (), SIGINT);
            command = s_next (pipe, c, 5000);       //  STOP
            if (command && streq (command, "STOP"))
                zstr_send (pipe, "DONE");
            zstr_free (&command);
            break;
        case S_ABANDON:
            kill (getpid (), SIGINT);
            command = s_next (pipe, c, 5000);       //  STOP
            zstr_free (&command);
            kill (getpid (), SIGTERM);
            break;
        case S_NOT_STARTED:
            break;
    }
    while ((command = s_next (pipe, c, -1))) {      //  until $TERM
        bool term = streq (command, "$TERM");
        if (streq (command, "STOP"))
            zstr_send (pipe, "FAILED");             //  as ingest stopped mid-file
        zstr_free (&command);
        if (term)
            break;
    }
}

static int
s_started_no (zactor_t *actor)
{
    (void) actor;
    return -1;
}

static int
s_configure_fails (void *config)
{
    (void) config;
    return -1;
}

//  Runs the skeleton in a child with these arguments; returns its exit
//  status and what the actor reported, lines joined by spaces.
static int
s_run (s_script_t script, bool reloads, bool ends, int argc, char **argv,
       int (*configure) (void *), char *reported, size_t size)
{
    int fds [2];
    assert_int_equal (pipe (fds), 0);
    fflush (NULL);
    pid_t pid = fork ();
    assert_true (pid >= 0);
    if (pid == 0) {
        close (fds [0]);
        s_case_t c = { .script = script, .report = fds [1] };
        bool quiet = false;
        const ds_opt_t opts [] = {
            { "quiet", DS_OPT_BOOL, &quiet, NULL, "quiet" },
            { NULL }
        };
        ds_service_t service = {
            .name = "test", .usage = "test_service", .opts = opts, .quiet = &quiet,
            .configure = configure, .actor = s_actor, .config = &c,
            .started = script == S_NOT_STARTED ? s_started_no : NULL,
            .reloads = reloads, .ends = ends
        };
        int rc = ds_service_main (argc, argv, &service);
        close (fds [1]);
        _exit (rc);
    }
    close (fds [1]);
    size_t used = 0;
    char buf [256];
    ssize_t n;
    while ((n = read (fds [0], buf, sizeof buf)) > 0)
        for (ssize_t i = 0; i < n && used + 1 < size; i++)
            reported [used++] = buf [i] == '\n' ? ' ' : buf [i];
    reported [used] = 0;
    close (fds [0]);
    int status;
    assert_int_equal (waitpid (pid, &status, 0), pid);
    assert_true (WIFEXITED (status));
    return WEXITSTATUS (status);
}

static char *s_argv [] = { "test_service", "--quiet", NULL };

static void
test_reload (void **state)
{
    (void) state;
    char said [256];
    assert_int_equal (s_run (S_RELOAD, true, false, 2, s_argv, NULL, said, sizeof said), 0);
    assert_string_equal (said, "RELOAD $TERM ");
}

static void
test_sighup_does_not_kill (void **state)
{
    (void) state;
    char said [256];
    //  No RELOAD reaches a service that does not reload, and SIGHUP does
    //  not end it: it ends on the SIGTERM that follows, exit status 0.
    assert_int_equal (s_run (S_HUP_IGNORED, false, false, 2, s_argv, NULL, said, sizeof said), 0);
    assert_string_equal (said, "$TERM ");
    //  Nor one that ends by itself (ingest): SIGTERM then asks it to STOP.
    assert_int_equal (s_run (S_HUP_IGNORED, false, true, 2, s_argv, NULL, said, sizeof said), 1);
    assert_string_equal (said, "STOP $TERM ");
}

static void
test_ends (void **state)
{
    (void) state;
    char said [256];
    assert_int_equal (s_run (S_DONE, false, true, 2, s_argv, NULL, said, sizeof said), 0);
    assert_string_equal (said, "$TERM ");
    assert_int_equal (s_run (S_FAILED, false, true, 2, s_argv, NULL, said, sizeof said), 1);
    assert_string_equal (said, "$TERM ");
}

static void
test_stop_then_abandon (void **state)
{
    (void) state;
    char said [256];
    //  The first stop signal asks for the end: the service finishes (DONE).
    assert_int_equal (s_run (S_STOP, false, true, 2, s_argv, NULL, said, sizeof said), 0);
    assert_string_equal (said, "STOP $TERM ");
    //  A second one abandons it.
    assert_int_equal (s_run (S_ABANDON, false, true, 2, s_argv, NULL, said, sizeof said), 1);
    assert_string_equal (said, "STOP $TERM ");
}

static void
test_start_and_usage (void **state)
{
    (void) state;
    char said [256];
    assert_int_equal (s_run (S_NOT_STARTED, false, false, 2, s_argv, NULL, said, sizeof said), 1);
    assert_string_equal (said, "$TERM ");
    //  A configure step that refuses, an unknown flag: usage errors, no actor.
    assert_int_equal (s_run (S_DONE, false, true, 2, s_argv, s_configure_fails, said, sizeof said), 2);
    assert_string_equal (said, "");
    char *bad [] = { "test_service", "--no-such-flag", NULL };
    assert_int_equal (s_run (S_DONE, false, true, 2, bad, NULL, said, sizeof said), 2);
    assert_string_equal (said, "");
    char *help [] = { "test_service", "--help", NULL };
    assert_int_equal (s_run (S_DONE, false, true, 2, help, NULL, said, sizeof said), 0);
    assert_string_equal (said, "");
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_reload),
        cmocka_unit_test (test_sighup_does_not_kill),
        cmocka_unit_test (test_ends),
        cmocka_unit_test (test_stop_then_abandon),
        cmocka_unit_test (test_start_and_usage),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
