/*  csvout.c - see csvout.h. */
#include "csvout.h"
#include "civil.h"
#include "log.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define S_BUFFER_SIZE (1 << 20)

struct ds_csvout_t {
    FILE *file;                     //  NULL once closed
    const char *name;               //  for messages
    char *buffer;                   //  stdio buffer, S_BUFFER_SIZE
    bool extra;                     //  mirai,ts_us columns
    const ds_tz_t *tz;              //  zone of the timestamps
    bool failed;                    //  a write failed (and was logged)
    int64_t sec;                    //  second whose text is cached in ts
    char ts [32];
    uint64_t records;
};

ds_csvout_t *
ds_csvout_new (const char *path, bool extra, const ds_tz_t *tz)
{
    ds_csvout_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    bool to_stdout = !path || strcmp (path, "-") == 0;
    self->name = to_stdout ? "standard output" : path;
    self->file = to_stdout ? stdout : fopen (path, "w");
    if (!self->file) {
        ds_log_error ("cannot create %s: %s", path, strerror (errno));
        free (self);
        return NULL;
    }
    self->buffer = malloc (S_BUFFER_SIZE);
    if (self->buffer)
        setvbuf (self->file, self->buffer, _IOFBF, S_BUFFER_SIZE);
    self->extra = extra;
    self->tz = tz ? tz : ds_tz_utc ();
    self->sec = INT64_MIN;
    fprintf (self->file, "ts,ip,port,proto,pp%s\n", extra ? ",mirai,ts_us" : "");
    return self;
}

//  Logs the first failure only.
static int
s_failed (ds_csvout_t *self)
{
    if (!self->failed)
        ds_log_error ("cannot write %s: %s", self->name, strerror (errno));
    self->failed = true;
    return -1;
}

//  Flushes and closes; standard output gets its own buffer back (ours is
//  freed with the object).  Failures are logged once.
static void
s_close (ds_csvout_t *self)
{
    if (fflush (self->file) != 0 || ferror (self->file))
        s_failed (self);
    if (self->file == stdout)
        setvbuf (stdout, NULL, isatty (STDOUT_FILENO) ? _IOLBF : _IOFBF, BUFSIZ);
    else
    if (fclose (self->file) != 0)
        s_failed (self);
    self->file = NULL;
}

int
ds_csvout_close (ds_csvout_t *self)
{
    if (self->file)
        s_close (self);
    return self->failed ? -1 : 0;
}

void
ds_csvout_destroy (ds_csvout_t **self_p)
{
    ds_csvout_t *self = *self_p;
    if (!self)
        return;
    if (self->file) {
        self->failed = true;                    //  not asked to close: no messages
        s_close (self);
    }
    free (self->buffer);
    free (self);
    *self_p = NULL;
}

int
ds_csvout_write (ds_csvout_t *self, const ds_record_t *rec)
{
    int64_t sec = ds_civil_floor_div (rec->ts, DS_US_PER_S);
    if (sec != self->sec) {
        ds_tz_format (self->tz, sec * DS_US_PER_S, self->ts);
        self->ts [19] = 0;                      //  "YYYY-MM-DD HH:MM:SS"
        self->sec = sec;
    }
    char ip [64], pp [32], line [256];
    ds_addr_format (&rec->src, ip, sizeof ip);
    ds_pp_format (pp, sizeof pp, rec->port, rec->proto);
    char port [8] = "-";
    if (rec->port != DS_PORT_NONE)
        snprintf (port, sizeof port, "%d", (int) rec->port);
    int n = snprintf (line, sizeof line, "%s.%06d,%s,%s,%s,%s", self->ts,
                      (int) (rec->ts - sec * DS_US_PER_S), ip, port, ds_proto_name (rec->proto), pp);
    if (self->extra)
        n += snprintf (line + n, sizeof line - (size_t) n, ",%d,%lld",
                       (rec->flags & DS_FLAG_MIRAI) ? 1 : 0, (long long) rec->ts);
    line [n++] = '\n';
    if (fwrite (line, 1, (size_t) n, self->file) != (size_t) n)
        return s_failed (self);
    self->records++;
    return 0;
}

int
ds_csvout_flush (ds_csvout_t *self)
{
    return fflush (self->file) == 0 ? 0 : s_failed (self);
}

uint64_t
ds_csvout_records (const ds_csvout_t *self)
{
    return self->records;
}
