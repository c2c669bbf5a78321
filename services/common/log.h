/*  log.h - one line per event on stderr.

    Text (the default): "TIME SERVICE LEVEL: message".  JSON
    (--log-format json, for log collectors): one object per line,
    {"time":"2026-01-02T03:04:05.123Z","level":"info","service":"aggregator",
     "shard":"0","message":"..."}, the context fields (shard, sensor) only
    where the logging thread set them.  Errors about the system append
    strerror(errno) themselves.
*/
#ifndef DS_LOG_H
#define DS_LOG_H

#include <stdbool.h>

typedef enum {
    DS_LOG_TEXT = 0,
    DS_LOG_JSON = 1
} ds_log_format_t;

//  Sets the service name printed on each line ("ingest", "labeler", ...).
void ds_log_init (const char *service);

//  Enables or disables info lines (errors and warnings always print).
void ds_log_set_quiet (bool quiet);

//  Sets the line format from its name ("text" or "json").  Returns 0, or
//  -1 for another name (the format is left as it was).
int ds_log_set_format (const char *name);

//  True if lines are JSON (a summary printed as plain text must then go
//  through the log too).
bool ds_log_json (void);

//  Names the service and one context field (e.g. "shard", "3"; key may be
//  NULL) of the lines the calling thread logs from now on: the services
//  of `darkscope run` share a process, each on its own thread.
void ds_log_thread (const char *service, const char *key, const char *value);

void ds_log_error (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));
void ds_log_warn  (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));
void ds_log_info  (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));

#endif
