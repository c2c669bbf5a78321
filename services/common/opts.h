/*  opts.h - command-line options as a table the parser walks.

    Precedence, documented once: a flag on the command line overrides its
    environment variable, which overrides the built-in default.  List
    options (DS_OPT_LIST) may be repeated; a flag's value and the
    environment variable both hold one or several values separated by ','
    (paths may hold ':', not ',').  --help prints
    the usage text and every option row with its variable; --list-env
    prints the variables alone, one row each (tests/test_env_names.sh
    reads them from every program).

    Environment variables, one meaning each:
      DARKSCOPE_<OPTION>            an option of the shared table below: it
                                    means the same in every program that has
                                    it, so one value is right for all of them
                                    (the zone, the shard count, the inputs,
                                    the ground truth, ...)
      DARKSCOPE_<PROGRAM>_<OPTION>  every other option: its meaning is the
                                    program's own (the endpoint it binds or
                                    asks, its output file, its shard index)
    OPTION is the flag upper-cased with '-' as '_'; PROGRAM is the service
    (INGEST, LABELER, AGGREGATOR, QUERY, EMBED) or the darkscope command
    (RUN, GEN, CLIENT for `darkscope query`, REPORT).
*/
#ifndef DS_OPTS_H
#define DS_OPTS_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

typedef enum {
    DS_OPT_STRING,                  //  const char ** target
    DS_OPT_INT,                     //  int64_t * target
    DS_OPT_BOOL,                    //  bool * target, flag takes no value
    DS_OPT_LIST                     //  ds_strlist_t * target, repeatable
} ds_opt_type_t;

#define DS_STRLIST_MAX 256
typedef struct {
    size_t count;
    const char *items [DS_STRLIST_MAX];
} ds_strlist_t;

typedef struct {
    const char *name;               //  long flag without "--", e.g. "pcap"
    ds_opt_type_t type;
    void *target;
    const char *arg;                //  placeholder in usage, e.g. "FILE"
    const char *help;               //  one line
} ds_opt_t;

//  Parses argv[first..] against opts (terminated by a {NULL} entry), after
//  applying the environment variables of `program` (e.g. "aggregator",
//  "run").  Non-option words are stored in positional (may be NULL if none
//  allowed).  Returns 0; 1 if --help or --list-env was printed (caller
//  exits 0); -1 on a bad option (message printed, caller exits 2).
//  `usage` is printed above the option list on --help.
int ds_opts_parse (int argc, char **argv, int first, const char *program,
                   const ds_opt_t *opts, const char *usage, ds_strlist_t *positional);

//  Prints usage and the option table, with each option's variable, to stdout.
void ds_opts_usage (const char *program, const ds_opt_t *opts, const char *usage);

//  Writes the environment variable of option `name` of `program` into buf
//  (DARKSCOPE_TZ, DARKSCOPE_AGGREGATOR_ENDPOINT).
void ds_opts_env_name (const char *program, const char *name, char *buf, size_t size);

//  The meaning of a shared option (one variable for every program), or
//  NULL if the option is the program's own.
const char *ds_opts_shared (const char *name);

//  A new table: the rows of a, then those of b, {NULL}-terminated.  NULL
//  out of memory.  Caller frees (free ()).
ds_opt_t *ds_opts_join (const ds_opt_t *a, const ds_opt_t *b);

#endif
