/*  aggmetrics.c - see aggmetrics.h. */
#include "aggmetrics.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_SENSORS_MAX 256           //  sensors with their own series

typedef struct {
    uint32_t sensor;
    int batches, records, gaps, replays, packets, drops, non_ip, malformed, bad_time;
    int stale, epoch, epochs, lag, last_batch, newest;
} s_sensor_t;

struct _ds_aggmetrics_t {
    ds_mgroup_t *g;
    int rejects, queue, bytes, sources, days, ended, checkpoints, failures, age;
    s_sensor_t sensors [S_SENSORS_MAX];
    size_t n_sensors;
    ds_store_stream_t streams [S_SENSORS_MAX];
    int64_t bytes_at;               //  zclock_mono of the last store_bytes update
    uint64_t ended_seen;            //  sensors ended at the last update
};

ds_aggmetrics_t *
ds_aggmetrics_new (ds_metrics_t *registry, uint32_t shard)
{
    if (!registry)
        return NULL;
    ds_aggmetrics_t *self = calloc (1, sizeof *self);
    char k [16];
    snprintf (k, sizeof k, "%u", shard);
    if (!self || !(self->g = ds_metrics_group (registry, "aggregator", "shard", k, NULL))) {
        free (self);
        return NULL;
    }
    ds_mgroup_t *g = self->g;
    self->rejects = ds_mgroup_series (g, "darkscope_rejects_total", NULL);
    self->queue = ds_mgroup_series (g, "darkscope_queue_depth", NULL);
    self->bytes = ds_mgroup_series (g, "darkscope_store_bytes", NULL);
    self->sources = ds_mgroup_series (g, "darkscope_store_sources", NULL);
    self->days = ds_mgroup_series (g, "darkscope_store_dates", NULL);
    self->ended = ds_mgroup_series (g, "darkscope_sensors_ended", NULL);
    self->checkpoints = ds_mgroup_series (g, "darkscope_checkpoints_total", NULL);
    self->failures = ds_mgroup_series (g, "darkscope_checkpoint_failures_total", NULL);
    self->age = ds_mgroup_series (g, "darkscope_checkpoint_age_seconds", NULL);
    ds_mgroup_condition (g, "checkpoint restored", false);
    return self;
}

void
ds_aggmetrics_destroy (ds_aggmetrics_t **self_p)
{
    if (self_p && *self_p) {
        free (*self_p);
        *self_p = NULL;
    }
}

void
ds_aggmetrics_started (ds_aggmetrics_t *self, zsock_t *sub, const char *inputs)
{
    if (!self)
        return;
    ds_mgroup_condition (self->g, "checkpoint restored", true);
    ds_mgroup_touch (self->g, self->age);
    ds_mgroup_watch (self->g, sub, "input (labeler)", ds_metrics_remote_count (inputs));
}

static s_sensor_t *
s_sensor (ds_aggmetrics_t *self, uint32_t sensor)
{
    for (size_t i = 0; i < self->n_sensors; i++)
        if (self->sensors [i].sensor == sensor)
            return &self->sensors [i];
    if (self->n_sensors == S_SENSORS_MAX)
        return NULL;
    s_sensor_t *s = &self->sensors [self->n_sensors++];
    ds_mgroup_t *g = self->g;
    char id [16];
    snprintf (id, sizeof id, "%u", sensor);
    s->sensor = sensor;
    s->batches = ds_mgroup_series (g, "darkscope_batches_total", "sensor", id, NULL);
    s->records = ds_mgroup_series (g, "darkscope_records_total", "sensor", id, NULL);
    s->gaps = ds_mgroup_series (g, "darkscope_gaps_total", "sensor", id, NULL);
    s->replays = ds_mgroup_series (g, "darkscope_replays_total", "sensor", id, NULL);
    s->packets = ds_mgroup_series (g, "darkscope_packets_read_total", "sensor", id, NULL);
    s->drops = ds_mgroup_series (g, "darkscope_drops_total", "sensor", id, NULL);
    s->non_ip = ds_mgroup_series (g, "darkscope_bad_input_total", "sensor", id, "kind", "non_ip", NULL);
    s->malformed = ds_mgroup_series (g, "darkscope_bad_input_total", "sensor", id, "kind", "malformed", NULL);
    s->bad_time = ds_mgroup_series (g, "darkscope_bad_input_total", "sensor", id, "kind", "bad_time", NULL);
    s->stale = ds_mgroup_series (g, "darkscope_stale_total", "sensor", id, NULL);
    s->epoch = ds_mgroup_series (g, "darkscope_sensor_epoch", "sensor", id, NULL);
    s->epochs = ds_mgroup_series (g, "darkscope_sensor_epochs", "sensor", id, NULL);
    s->lag = ds_mgroup_series (g, "darkscope_sensor_lag_seconds", "sensor", id, NULL);
    s->last_batch = ds_mgroup_series (g, "darkscope_sensor_last_batch_timestamp_seconds",
                                      "sensor", id, NULL);
    s->newest = ds_mgroup_series (g, "darkscope_sensor_newest_record_timestamp_seconds",
                                  "sensor", id, NULL);
    return s;
}

void
ds_aggmetrics_update (ds_aggmetrics_t *self, ds_store_t *store, uint64_t rejected, int burst)
{
    if (!self || !store)
        return;
    size_t n = ds_store_streams (store, self->streams, S_SENSORS_MAX);
    if (n > S_SENSORS_MAX)
        n = S_SENSORS_MAX;
    //  Series are added before the write opens (adding is not a value write).
    for (size_t i = 0; i < n; i++)
        s_sensor (self, self->streams [i].sensor);
    //  The tables' size walks every source: at most once a second, and
    //  when a sensor's stream ends (no burst may follow).
    uint64_t ended = 0;
    for (size_t i = 0; i < n; i++)
        ended += self->streams [i].eos;
    int64_t now = zclock_mono ();
    bool size_due = now - self->bytes_at >= 1000 || burst < 0 || ended != self->ended_seen;
    self->ended_seen = ended;
    size_t bytes = size_due ? ds_store_memory (store) : 0;
    int32_t first, last;
    bool any = ds_store_days (store, &first, &last);
    ds_mgroup_t *g = self->g;
    ds_mgroup_begin (g);
    for (size_t i = 0; i < n; i++) {
        const ds_store_stream_t *st = &self->streams [i];
        s_sensor_t *s = s_sensor (self, st->sensor);
        if (!s)
            continue;
        ds_mgroup_set (g, s->batches, (double) st->batches);
        ds_mgroup_set (g, s->records, (double) st->records);
        ds_mgroup_set (g, s->gaps, (double) st->gaps);
        ds_mgroup_set (g, s->replays, (double) st->replays);
        ds_mgroup_set (g, s->packets, (double) st->packets_read);
        ds_mgroup_set (g, s->drops, (double) st->dropped);
        ds_mgroup_set (g, s->non_ip, (double) st->non_ip);
        ds_mgroup_set (g, s->malformed, (double) st->malformed);
        ds_mgroup_set (g, s->bad_time, (double) st->bad_time);
        ds_mgroup_set (g, s->stale, (double) st->stale);
        ds_mgroup_set (g, s->epoch, (double) st->epoch);
        ds_mgroup_set (g, s->epochs, (double) st->epochs);
        if (st->last_stats_us)      //  else no lag measured yet: no value
            ds_mgroup_set (g, s->lag, (double) st->lag_us / 1e6);
        ds_mgroup_set (g, s->last_batch, (double) st->last_batch_us / 1e6);
        if (st->newest_us)
            ds_mgroup_set (g, s->newest, (double) st->newest_us / 1e6);
    }
    ds_mgroup_set (g, self->rejects, (double) rejected);
    if (burst >= 0)
        ds_mgroup_set (g, self->queue, burst);
    if (size_due) {
        ds_mgroup_set (g, self->bytes, (double) bytes);
        self->bytes_at = now;
    }
    ds_mgroup_set (g, self->sources, (double) ds_store_sources (store));
    ds_mgroup_set (g, self->days, any ? last - first + 1 : 0);
    ds_mgroup_set (g, self->ended, (double) ended);
    ds_mgroup_end (g);
}

void
ds_aggmetrics_checkpoint (ds_aggmetrics_t *self, bool ok)
{
    if (!self)
        return;
    ds_mgroup_begin (self->g);
    ds_mgroup_add (self->g, ok ? self->checkpoints : self->failures, 1);
    if (ok)
        ds_mgroup_touch (self->g, self->age);
    ds_mgroup_end (self->g);
}
