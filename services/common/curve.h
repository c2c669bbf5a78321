/*  curve.h - CurveZMQ encryption and ZAP authentication for TCP links
    (DESIGN §11), process-wide.

    A process (a service, `darkscope run`, a client) has at most one own
    certificate (--cert F, czmq zcert: F is NAME.cert or NAME.cert_secret,
    the secret half is read) and one directory of trusted public
    certificates (--trust DIR: the clients allowed to connect to its bound
    sockets).  With a certificate every TCP socket speaks CURVE: bound
    sockets are CURVE servers, connecting sockets CURVE clients that must be
    told their server's public key, given with the endpoint:
        tcp://10.0.0.6:5551@/etc/darkscope/labeler.cert
        tcp://10.0.0.6:5551@<40-character Z85 public key>
    (an endpoint and its server's key travel together, in repeated flags and
    in DARKSCOPE_* comma lists alike; a key never holds ',').  With --trust
    a ZAP handler (libzmq's ZAP protocol on inproc://zeromq.zap.01) refuses
    every client key that is not in DIR, logging address and key; handshakes
    that fail otherwise (a plaintext peer) are logged from the sockets'
    monitors.  Both are counted (ds_curve_refused).  inproc:// and ipc://
    stay plain.  Without a certificate, binding a TCP address that is not
    loopback is refused unless --insecure (then warned about).  No crypto
    here: libzmq (libsodium) does it, czmq reads the certificates.
*/
#ifndef DS_CURVE_H
#define DS_CURVE_H

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>
#include "opts.h"

//  The option rows --cert, --trust, --insecure ({NULL}-terminated), whose
//  values ds_curve_init_opts uses.  Appended to every service's table.
const ds_opt_t *ds_curve_opts (void);

//  Sets up the process from the parsed rows of ds_curve_opts.  Returns 0,
//  or -1 after logging why (a certificate that cannot be read or has no
//  secret key, --trust without --cert, a bad trust directory).
int ds_curve_init_opts (void);

//  The same from values: cert (NULL: none), trust (NULL: anyone with the
//  server's key may connect), insecure (plain TCP on any address allowed).
int ds_curve_init (const char *cert, const char *trust, bool insecure);

//  Stops the ZAP handler and forgets the certificate; before zsys_shutdown.
void ds_curve_shutdown (void);

//  True if a certificate is in use (TCP sockets speak CURVE).
bool ds_curve_on (void);

//  Binds sock to endpoint as zsock_bind does (returns the port for tcp,
//  0 for other transports, -1 on error, logged): a CURVE server with the
//  certificate on, refused (errno EACCES) on a non-loopback TCP address
//  without certificate unless insecure.  endpoint may not carry a key.
int ds_curve_bind (zsock_t *sock, const char *endpoint);

//  Connects sock to spec (ENDPOINT or ENDPOINT@KEY, KEY a certificate file
//  or a Z85 public key): with the certificate on, a TCP endpoint needs the
//  key and is connected as a CURVE client of it.  Returns 0, or -1 logged.
int ds_curve_connect (zsock_t *sock, const char *spec);

//  Writes into buf how this process connects to one of its own bound
//  endpoints: with CURVE on and a TCP endpoint, "ENDPOINT@<own public
//  key>" (the process trusts its own key), else the endpoint as it is.
const char *ds_curve_self (const char *endpoint, char *buf, size_t size);

//  Writes the endpoint part of spec (without "@KEY") into buf.
const char *ds_curve_endpoint (const char *spec, char *buf, size_t size);

//  Connections refused so far: keys not trusted (ZAP) and failed handshakes.
uint64_t ds_curve_refused (void);

//  Writes a new certificate pair dir/name.cert and dir/name.cert_secret
//  (mode 0600), making dir if missing.  Returns 0, or -1 with err filled.
int ds_curve_keygen (const char *dir, const char *name, char *err, size_t err_size);

#endif
