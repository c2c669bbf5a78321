/*  log.h - one line per event on stderr: time, service, severity, message.
    Errors about the system append strerror(errno) themselves. */
#ifndef DS_LOG_H
#define DS_LOG_H

#include <stdbool.h>

//  Sets the service name printed on each line ("ingest", "labeler", ...).
void ds_log_init (const char *service);

//  Enables or disables info lines (errors and warnings always print).
void ds_log_set_quiet (bool quiet);

void ds_log_error (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));
void ds_log_warn  (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));
void ds_log_info  (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));

#endif
