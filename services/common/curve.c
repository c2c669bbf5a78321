/*  curve.c - see curve.h.

    One actor thread (s_guard) per process serves the ZAP requests of every
    CURVE server socket (libzmq asks inproc://zeromq.zap.01 of the context
    for each handshake) and reads the monitors of those sockets for the
    handshakes that fail before ZAP is asked (a plaintext peer: mechanism
    mismatch).  Sockets are registered from their own threads
    (zmq_socket_monitor must be called there), the monitor's endpoint handed
    to the actor under a mutex: several services' threads bind at once in
    `darkscope run`.
*/
#include "curve.h"
#include "log.h"
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define S_ZAP_ENDPOINT "inproc://zeromq.zap.01"
#define S_ZAP_ENFORCE_DOMAIN 93     //  ZMQ_ZAP_ENFORCE_DOMAIN (draft API in 4.3)
#define S_KEY_TXT 41                //  Z85 of 32 bytes + NUL
#define S_TRUST_MAX 4096            //  certificates read from --trust

static const char *s_opt_cert;
static const char *s_opt_trust;
static bool s_opt_insecure;

static const ds_opt_t s_opts [] = {
    { "cert", DS_OPT_STRING, &s_opt_cert, "FILE",
      "own certificate (darkscope keygen: NAME.cert or NAME.cert_secret): CURVE on every TCP link" },
    { "trust", DS_OPT_STRING, &s_opt_trust, "DIR",
      "public certificates of the peers allowed to connect (others refused, logged)" },
    { "insecure", DS_OPT_BOOL, &s_opt_insecure, NULL,
      "allow plain TCP on a non-loopback address (without --cert)" },
    { 0 }
};

static zcert_t *s_cert;             //  own certificate, or NULL
static bool s_insecure;
static char (*s_trusted) [S_KEY_TXT];       //  Z85 public keys of --trust
static size_t s_n_trusted;
static bool s_trust_on;             //  --trust given: ZAP refuses the others
static zactor_t *s_guard;           //  ZAP handler + monitors
static pthread_mutex_t s_guard_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_uint_fast64_t s_refused;
static atomic_uint s_monitors;      //  names the monitor endpoints
static atomic_bool s_guard_failed;  //  the guard could not start
static bool s_warned_insecure;

const ds_opt_t *
ds_curve_opts (void)
{
    return s_opts;
}

bool
ds_curve_on (void)
{
    return s_cert != NULL;
}

uint64_t
ds_curve_refused (void)
{
    return atomic_load (&s_refused);
}

//  ---------------------------------------------------------------------
//  The guard actor: ZAP requests and monitor events

static bool
s_trusted_key (const char *key)
{
    for (size_t i = 0; i < s_n_trusted; i++)
        if (strcmp (s_trusted [i], key) == 0)
            return true;
    return false;
}

//  Answers one ZAP request (RFC 27): [version][request id][domain]
//  [address][routing id][mechanism][credentials...] -> [version][request
//  id][status code][status text][user id][metadata].
static void
s_zap_serve (zsock_t *handler)
{
    zmsg_t *request = zmsg_recv (handler);
    if (!request)
        return;
    char *version = zmsg_popstr (request);
    char *sequence = zmsg_popstr (request);
    char *domain = zmsg_popstr (request);
    char *address = zmsg_popstr (request);
    char *identity = zmsg_popstr (request);
    char *mechanism = zmsg_popstr (request);
    zframe_t *credential = zmsg_pop (request);
    bool ok = false;
    char key [S_KEY_TXT] = "";
    if (mechanism && streq (mechanism, "CURVE") && credential && zframe_size (credential) == 32) {
        zmq_z85_encode (key, zframe_data (credential), 32);
        ok = !s_trust_on || s_trusted_key (key) || streq (key, zcert_public_txt (s_cert));
    }
    if (!ok) {
        uint64_t n = atomic_fetch_add (&s_refused, 1) + 1;
        if (n <= 20 || n % 100 == 0)
            ds_log_warn ("refused a %s connection from %s: %s%s%s (%" PRIu64 " refused so far)",
                         mechanism ? mechanism : "?", address ? address : "?",
                         key [0] ? "key " : "no CURVE key", key [0] ? key : "",
                         key [0] ? " is not in --trust" : "", n);
    }
    zstr_sendx (handler, version ? version : "1.0", sequence ? sequence : "",
                ok ? "200" : "400", ok ? "OK" : "not trusted", "", "", NULL);
    zframe_destroy (&credential);
    zstr_free (&version);
    zstr_free (&sequence);
    zstr_free (&domain);
    zstr_free (&address);
    zstr_free (&identity);
    zstr_free (&mechanism);
    zmsg_destroy (&request);
}

//  One event of a bound socket's monitor: [uint16 event, uint32 value]
//  [local endpoint].  Failed handshakes other than ZAP's own refusals
//  (logged by s_zap_serve) are counted and logged here.
static void
s_monitor_event (zsock_t *monitor)
{
    zmsg_t *msg = zmsg_recv (monitor);
    zframe_t *head = msg ? zmsg_first (msg) : NULL;
    zframe_t *where = msg ? zmsg_next (msg) : NULL;
    if (head && zframe_size (head) == 6) {
        uint16_t event;
        uint32_t value;
        memcpy (&event, zframe_data (head), 2);
        memcpy (&value, zframe_data (head) + 2, 4);
        char *endpoint = where ? zframe_strdup (where) : NULL;
        //  A peer that keeps retrying is logged the first times, then
        //  every 100th time (all are counted).
        //  A plaintext peer shows as a mechanism mismatch, or, when it
        //  hangs up first, as a handshake failed without detail.
        if (event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL
        ||  event == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) {
            uint64_t n = atomic_fetch_add (&s_refused, 1) + 1;
            if (n <= 20 || n % 100 == 0)
                ds_log_warn ("refused a connection on %s: handshake failed (%s; %" PRIu64
                             " refused so far)", endpoint ? endpoint : "?",
                             event == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL
                                 ? "not CURVE or a wrong server key: the peer hung up"
                                 : value == ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH
                                 ? "not CURVE: a plaintext peer, or one without --cert"
                                 : "protocol error", n);
        }
        free (endpoint);
    }
    zmsg_destroy (&msg);
}

#define S_MONITORS_MAX 64

static void
s_guard_actor (zsock_t *pipe, void *args)
{
    (void) args;
    zsock_t *handler = NULL;
    if (s_trust_on) {
        //  A handler of an earlier init is unbound by libzmq's reaper a
        //  moment after it closed: the name may still be taken.
        handler = zsock_new (ZMQ_REP);
        int rc = handler ? zsock_bind (handler, S_ZAP_ENDPOINT) : -1;
        for (int i = 0; handler && rc != 0 && zmq_errno () == EADDRINUSE && i < 200; i++) {
            zclock_sleep (10);
            rc = zsock_bind (handler, S_ZAP_ENDPOINT);
        }
        if (rc != 0) {
            ds_log_error ("cannot start the ZAP handler: %s", zmq_strerror (zmq_errno ()));
            zsock_destroy (&handler);
            atomic_store (&s_guard_failed, true);
            zsock_signal (pipe, 1);
            return;
        }
    }
    zsock_t *monitors [S_MONITORS_MAX];
    size_t n_monitors = 0;
    zsock_signal (pipe, 0);
    bool done = false;
    while (!done) {
        zmq_pollitem_t items [S_MONITORS_MAX + 2];
        int n = 0;
        items [n++] = (zmq_pollitem_t) { zsock_resolve (pipe), 0, ZMQ_POLLIN, 0 };
        if (handler)
            items [n++] = (zmq_pollitem_t) { zsock_resolve (handler), 0, ZMQ_POLLIN, 0 };
        int first_monitor = n;
        size_t polled = n_monitors;         //  a MONITOR below adds one not polled
        for (size_t i = 0; i < polled; i++)
            items [n++] = (zmq_pollitem_t) { zsock_resolve (monitors [i]), 0, ZMQ_POLLIN, 0 };
        if (zmq_poll (items, n, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (items [0].revents & ZMQ_POLLIN) {
            zmsg_t *cmd = zmsg_recv (pipe);
            char *verb = cmd ? zmsg_popstr (cmd) : NULL;
            if (!verb || streq (verb, "$TERM"))
                done = true;
            else
            if (streq (verb, "MONITOR")) {
                char *endpoint = zmsg_popstr (cmd);
                zsock_t *mon = endpoint && n_monitors < S_MONITORS_MAX
                             ? zsock_new_pair (endpoint) : NULL;   //  '>' connect
                if (mon) {
                    zsock_set_rcvtimeo (mon, 0);    //  never block the guard
                    monitors [n_monitors++] = mon;
                }
                zstr_free (&endpoint);
                zsock_signal (pipe, 0);
            }
            zstr_free (&verb);
            zmsg_destroy (&cmd);
        }
        if (handler && (items [1].revents & ZMQ_POLLIN))
            s_zap_serve (handler);
        for (size_t i = 0; i < polled; i++)
            if (items [first_monitor + (int) i].revents & ZMQ_POLLIN)
                s_monitor_event (monitors [i]);
    }
    for (size_t i = 0; i < n_monitors; i++)
        zsock_destroy (&monitors [i]);
    zsock_destroy (&handler);
}

//  ---------------------------------------------------------------------
//  Setup

//  Reads every NAME.cert of dir (not the _secret halves) into s_trusted.
static int
s_load_trust (const char *dir)
{
    DIR *d = opendir (dir);
    if (!d) {
        ds_log_error ("--trust %s: %s", dir, strerror (errno));
        return -1;
    }
    s_trusted = calloc (S_TRUST_MAX, sizeof *s_trusted);
    if (!s_trusted) {
        closedir (d);
        return -1;
    }
    struct dirent *entry;
    while ((entry = readdir (d)) && s_n_trusted < S_TRUST_MAX) {
        size_t len = strlen (entry->d_name);
        if (len < 6 || strcmp (entry->d_name + len - 5, ".cert") != 0)
            continue;
        char path [4096];
        snprintf (path, sizeof path, "%s/%s", dir, entry->d_name);
        zcert_t *cert = zcert_load (path);
        if (!cert) {
            ds_log_warn ("--trust %s: cannot read %s, skipped", dir, entry->d_name);
            continue;
        }
        snprintf (s_trusted [s_n_trusted++], S_KEY_TXT, "%s", zcert_public_txt (cert));
        zcert_destroy (&cert);
    }
    closedir (d);
    if (s_n_trusted == 0)
        ds_log_warn ("--trust %s holds no certificate (NAME.cert): every client is refused", dir);
    return 0;
}

int
ds_curve_init_opts (void)
{
    return ds_curve_init (s_opt_cert && *s_opt_cert ? s_opt_cert : NULL,
                          s_opt_trust && *s_opt_trust ? s_opt_trust : NULL, s_opt_insecure);
}

int
ds_curve_init (const char *cert, const char *trust, bool insecure)
{
    ds_curve_shutdown ();
    s_insecure = insecure;
    if (trust && !cert) {
        ds_log_error ("--trust needs --cert (the own certificate that clients check)");
        return -1;
    }
    if (!cert)
        return 0;
    s_cert = zcert_load (cert);
    if (!s_cert) {
        ds_log_error ("--cert %s: cannot read the certificate: %s", cert, strerror (errno));
        return -1;
    }
    if (streq (zcert_secret_txt (s_cert), "0000000000000000000000000000000000000000")) {
        ds_log_error ("--cert %s: no secret key (NAME.cert_secret must be next to it)", cert);
        zcert_destroy (&s_cert);
        return -1;
    }
    if (trust) {
        if (s_load_trust (trust)) {
            ds_curve_shutdown ();
            return -1;
        }
        s_trust_on = true;
    }
    atomic_store (&s_guard_failed, false);
    s_guard = zactor_new (s_guard_actor, NULL);
    if (!s_guard || atomic_load (&s_guard_failed)) {
        ds_curve_shutdown ();
        return -1;
    }
    return 0;
}

void
ds_curve_shutdown (void)
{
    zactor_destroy (&s_guard);
    zcert_destroy (&s_cert);
    free (s_trusted);
    s_trusted = NULL;
    s_n_trusted = 0;
    s_trust_on = false;
}

//  ---------------------------------------------------------------------
//  Sockets

static bool
s_is_tcp (const char *endpoint)
{
    return strncmp (endpoint, "tcp://", 6) == 0;
}

//  True for tcp://127.x.x.x:P, tcp://localhost:P, tcp://[::1]:P.
static bool
s_is_loopback (const char *endpoint)
{
    const char *host = endpoint + 6;
    return strncmp (host, "127.", 4) == 0 || strncmp (host, "localhost:", 10) == 0
        || strncmp (host, "[::1]:", 6) == 0;
}

const char *
ds_curve_self (const char *endpoint, char *buf, size_t size)
{
    if (s_cert && s_is_tcp (endpoint))
        snprintf (buf, size, "%s@%s", endpoint, zcert_public_txt (s_cert));
    else
        snprintf (buf, size, "%s", endpoint);
    return buf;
}

const char *
ds_curve_endpoint (const char *spec, char *buf, size_t size)
{
    const char *at = strchr (spec, '@');
    size_t len = at ? (size_t) (at - spec) : strlen (spec);
    snprintf (buf, size, "%.*s", (int) len, spec);
    return buf;
}

int
ds_curve_bind (zsock_t *sock, const char *endpoint)
{
    if (strchr (endpoint, '@')) {
        ds_log_error ("cannot bind %s: a bound endpoint takes no server key", endpoint);
        errno = EINVAL;
        return -1;
    }
    if (s_is_tcp (endpoint) && !s_cert && !s_is_loopback (endpoint)) {
        if (!s_insecure) {
            ds_log_error ("refusing to bind %s without --cert: anyone who reaches it could read "
                          "or feed the stream (give --cert and --trust, or --insecure)", endpoint);
            errno = EACCES;
            return -1;
        }
        if (!s_warned_insecure)
            ds_log_warn ("--insecure: %s is plain TCP, neither encrypted nor authenticated", endpoint);
        s_warned_insecure = true;
    }
    if (s_is_tcp (endpoint) && s_cert) {
        zcert_apply (s_cert, sock);
        zsock_set_curve_server (sock, 1);
        zsock_set_zap_domain (sock, "darkscope");
        //  With --trust, no ZAP handler means no handshake (libzmq would
        //  otherwise let every client with the server key in).
        int enforce = s_trust_on;
        zmq_setsockopt (zsock_resolve (sock), S_ZAP_ENFORCE_DOMAIN, &enforce, sizeof enforce);
        char monitor [64];
        snprintf (monitor, sizeof monitor, "inproc://ds-curve-monitor-%u",
                  atomic_fetch_add (&s_monitors, 1));
        if (zmq_socket_monitor (zsock_resolve (sock), monitor,
                                ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL
                                | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) == 0) {
            pthread_mutex_lock (&s_guard_lock);
            if (zstr_sendx (s_guard, "MONITOR", monitor, NULL) == 0)
                zsock_wait (s_guard);
            pthread_mutex_unlock (&s_guard_lock);
        }
    }
    int rc = zsock_bind (sock, "%s", endpoint);
    if (rc == -1)
        ds_log_error ("cannot bind %s: %s", endpoint, zmq_strerror (zmq_errno ()));
    else
    if (s_is_tcp (endpoint) && s_cert)
        ds_log_info ("%s: CURVE, server key %s, %s", endpoint, zcert_public_txt (s_cert),
                     s_trust_on ? "clients of --trust only" : "any client with the key");
    return rc;
}

//  The Z85 public key a spec's KEY names: a certificate file, or the key.
static int
s_server_key (const char *key, char *out)
{
    zcert_t *cert = zcert_load (key);
    if (cert) {
        snprintf (out, S_KEY_TXT, "%s", zcert_public_txt (cert));
        zcert_destroy (&cert);
        return 0;
    }
    uint8_t bin [32];
    if (strlen (key) == 40 && zmq_z85_decode (bin, key)) {
        snprintf (out, S_KEY_TXT, "%s", key);
        return 0;
    }
    return -1;
}

int
ds_curve_connect (zsock_t *sock, const char *spec)
{
    char endpoint [1024];
    ds_curve_endpoint (spec, endpoint, sizeof endpoint);
    const char *at = strchr (spec, '@');
    if (s_is_tcp (endpoint) && s_cert) {
        char key [S_KEY_TXT];
        if (!at) {
            ds_log_error ("cannot connect to %s: CURVE is on (--cert) and no server key is "
                          "given: write %s@SERVER.cert", endpoint, endpoint);
            return -1;
        }
        if (s_server_key (at + 1, key)) {
            ds_log_error ("cannot connect to %s: '%s' is neither a readable certificate nor a "
                          "Z85 public key", endpoint, at + 1);
            return -1;
        }
        zcert_apply (s_cert, sock);
        zsock_set_curve_serverkey (sock, key);
    }
    else
    if (s_is_tcp (endpoint) && at) {
        ds_log_error ("cannot connect to %s: a server key is given but no --cert (the own "
                      "certificate CURVE needs)", endpoint);
        return -1;
    }
    if (zsock_connect (sock, "%s", endpoint) != 0) {
        ds_log_error ("cannot connect to %s: %s", endpoint, zmq_strerror (zmq_errno ()));
        return -1;
    }
    return 0;
}

int
ds_curve_keygen (const char *dir, const char *name, char *err, size_t err_size)
{
    if (!*name || strchr (name, '/')) {
        snprintf (err, err_size, "bad certificate name '%s'", name);
        return -1;
    }
    char path [4096], secret [4200];
    snprintf (path, sizeof path, "%s/%s.cert", dir && *dir ? dir : ".", name);
    snprintf (secret, sizeof secret, "%s_secret", path);
    zcert_t *cert = zcert_new ();
    if (!cert) {
        snprintf (err, err_size, "cannot make a key pair");
        return -1;
    }
    zcert_set_meta (cert, "name", "%s", name);
    if (dir && *dir && zsys_dir_create ("%s", dir) != 0) {
        snprintf (err, err_size, "cannot create %s: %s", dir, strerror (errno));
        zcert_destroy (&cert);
        return -1;
    }
    mode_t old = umask (077);               //  the secret half: owner only
    int rc = zcert_save (cert, path);
    umask (old);
    zcert_destroy (&cert);
    if (rc != 0 || chmod (secret, 0600) != 0) {
        snprintf (err, err_size, "cannot write %s: %s", path, strerror (errno));
        return -1;
    }
    chmod (path, 0644);
    return 0;
}
