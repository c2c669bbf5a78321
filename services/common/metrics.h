/*  metrics.h - the process's Prometheus metrics, health and readiness.

    A registry (ds_metrics_t, one per process, read by the HTTP thread of
    http.h) holds groups.  A group (ds_mgroup_t) is the series one service
    thread writes, all carrying the group's labels (service="aggregator",
    shard="0").  Its series are slots in a fixed array: the owning thread
    adds a series (once, by family name and extra labels such as
    sensor="3") and then sets, adds to or observes it between
    ds_mgroup_begin() and ds_mgroup_end(), once per batch or burst, never
    per record.  The pair is a sequence lock: the writer never waits, and
    the reader (ds_metrics_render) copies a group's values only when no
    write was in progress, so one scrape sees every counter of a group
    from the same moment.  Families are a table in metrics.c: a series can
    only be added for a family named there (name, type, help, buckets).

    Readiness: a group has named conditions (ds_mgroup_condition) that its
    thread sets true or false, and watched sockets (ds_mgroup_watch): a
    ZeroMQ monitor counts their connected peers, and the group is ready
    while every condition holds and every watched socket has its expected
    number of peers.  Health: a group is healthy until ds_mgroup_fail().

    Every ds_mgroup_* call accepts a NULL group and does nothing, so a
    service without --http pays one branch.
*/
#ifndef DS_METRICS_H
#define DS_METRICS_H

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct _ds_metrics_t ds_metrics_t;
typedef struct _ds_mgroup_t ds_mgroup_t;

//  Creates an empty registry and its socket-watch thread.  Caller destroys.
ds_metrics_t *ds_metrics_new (void);

//  Destroys the registry with its groups; NULL-safe; nulls the pointer.
//  Every thread writing a group must have stopped.
void ds_metrics_destroy (ds_metrics_t **self_p);

//  The group of a service instance: labels is a list of name, value
//  pairs ending with NULL (e.g. "shard", "0", NULL), added to every
//  series.  The same service and labels give the same group back.
//  Owned by the registry.  NULL if self is NULL or the table is full.
ds_mgroup_t *ds_metrics_group (ds_metrics_t *self, const char *service, ...);

//  Adds (or finds) the series of `family` with extra labels (name, value
//  pairs, NULL-terminated; may be just NULL).  Returns its id (>= 0), or
//  -1 if the family is unknown or the group full.  Owner thread only.
int ds_mgroup_series (ds_mgroup_t *g, const char *family, ...);

//  The series of one (sensor, shard) stream: batches, records, gaps.
typedef struct {
    int batches, records, gaps;
} ds_mstream_t;

//  Adds (or finds) the stream series of (sensor, shard); ids are -1
//  without a group.  Owner thread only.
ds_mstream_t ds_mgroup_stream (ds_mgroup_t *g, uint32_t sensor, uint32_t shard);

//  Counts the tcp:// and ipc:// endpoints of a comma-separated list (what
//  a socket monitor can see connect; inproc:// it cannot).
int ds_metrics_remote_count (const char *endpoints);

//  Opens and closes one consistent update of the group's values.
void ds_mgroup_begin (ds_mgroup_t *g);
void ds_mgroup_end (ds_mgroup_t *g);

//  Sets a counter or gauge (counters must not go down).  id < 0: nothing.
void ds_mgroup_set (ds_mgroup_t *g, int id, double value);

//  Adds to a counter or gauge.
void ds_mgroup_add (ds_mgroup_t *g, int id, double delta);

//  Sets an age gauge to "now": it reads the seconds since this moment.
void ds_mgroup_touch (ds_mgroup_t *g, int id);

//  Adds one observation to a histogram series.
void ds_mgroup_observe (ds_mgroup_t *g, int id, double value);

//  The readiness condition named `what` (added on first use), now `ok`.
void ds_mgroup_condition (ds_mgroup_t *g, const char *what, bool ok);

//  Watches a socket's connections (call from the socket's own thread):
//  the group is not ready while fewer than `expected` peers are connected.
//  Returns 0, or -1 if the monitor could not be set up.
int ds_mgroup_watch (ds_mgroup_t *g, zsock_t *sock, const char *what, int expected);

//  A readiness check the reader runs on /readyz (on its own thread; it
//  must not touch the service's sockets): true if ready, else a reason in
//  why.  Its last answer also feeds darkscope_ready.  One per group.
typedef bool (ds_mprobe_fn) (void *arg, char *why, size_t why_size);
void ds_mgroup_probe (ds_mgroup_t *g, const char *what, ds_mprobe_fn *fn, void *arg);

//  Marks the group unhealthy with a reason (e.g. the actor could not start).
void ds_mgroup_fail (ds_mgroup_t *g, const char *why);

//  Writes the Prometheus text exposition (format 0.0.4) of every group
//  into a new string.  Caller frees.  NULL if memory ran out.
char *ds_metrics_render (ds_metrics_t *self);

//  True if every group is ready; a text saying why not (or what holds)
//  goes into a new string in *text (caller frees; may be NULL).
bool ds_metrics_ready (ds_metrics_t *self, char **text);

//  True if no group failed; the reasons go into *text as above.
bool ds_metrics_healthy (ds_metrics_t *self, char **text);

#endif
