/*  opts.h - command-line options as a table the parser walks.

    Precedence, documented once: a flag on the command line overrides the
    DARKSCOPE_<NAME> environment variable (name upper-cased, '-' -> '_'),
    which overrides the built-in default.  List options (DS_OPT_LIST) may be
    repeated; their environment variable holds several values separated by
    ',' (paths may hold ':').  --help prints the usage text.
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
//  applying environment variables.  Non-option words are stored in
//  positional (may be NULL if none allowed).  Returns 0; 1 if --help was
//  printed (caller exits 0); -1 on a bad option (message printed, caller
//  exits 2).  `usage` is printed above the option list on --help.
int ds_opts_parse (int argc, char **argv, int first, const ds_opt_t *opts,
                   const char *usage, ds_strlist_t *positional);

//  Prints usage and the option table to stdout.
void ds_opts_usage (const ds_opt_t *opts, const char *usage);

#endif
