/*  opts.c - see opts.h. */
#include "opts.h"
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  The shared options: each means the same in every program that has it
//  (opts.h).  A row here is a promise: test_env_names.sh checks that every
//  program's row of such an option has the same type.
static const struct {
    const char *name;
    const char *meaning;
} s_shared [] = {
    { "tz",          "time zone of calendar days (a TZ database name)" },
    { "shards",      "how many shards the deployment has" },
    { "sensors",     "how many sensors (ingest instances) send" },
    { "quiet",       "only warnings and errors on stderr" },
    { "log-format",  "log lines: text or json (one object a line)" },
    { "pcap",        "pcap/pcapng inputs (files or globs)" },
    { "darkvec-log", "DarkVec text log inputs (files or globs)" },
    { "iface",       "live capture interface" },
    { "bpf",         "BPF filter of the live capture" },
    { "gt",          "ground-truth CSV files" },
    { "gt-list",     "ground-truth CIDR lists" },
    { "alias",       "class aliases FROM=TO" },
    { "services",    "the services table (services.json)" },
    { "retain-days", "days kept (0: every day)" },
    { "first-day",   "first day of the window" },
    { "last-day",    "last day of the window" },
    { "min-packets", "the filter: sources with at least this many packets" },
    { "model-out",   "the embedding's vectors, written here" },
    { "corpus-out",  "the embedding's corpus, written here" },
    { "classes-out", "every sender's class and k-NN class, written here" },
};

const char *
ds_opts_shared (const char *name)
{
    for (size_t i = 0; i < sizeof s_shared / sizeof *s_shared; i++)
        if (strcmp (s_shared [i].name, name) == 0)
            return s_shared [i].meaning;
    return NULL;
}

//  Appends text upper-cased, '-' as '_', to buf at *n.
static void
s_upper (char *buf, size_t size, size_t *n, const char *text)
{
    for (const char *c = text; *c && *n + 1 < size; c++)
        buf [(*n)++] = *c == '-' ? '_' : (char) toupper ((unsigned char) *c);
    buf [*n] = 0;
}

void
ds_opts_env_name (const char *program, const char *name, char *buf, size_t size)
{
    size_t n = (size_t) snprintf (buf, size, "DARKSCOPE_");
    if (n >= size)
        return;
    if (!ds_opts_shared (name)) {
        s_upper (buf, size, &n, program);
        s_upper (buf, size, &n, "_");
    }
    s_upper (buf, size, &n, name);
}

static const ds_opt_t *
s_find (const ds_opt_t *opts, const char *name, size_t len)
{
    for (const ds_opt_t *o = opts; o->name; o++)
        if (strlen (o->name) == len && memcmp (o->name, name, len) == 0)
            return o;
    return NULL;
}

static int
s_set (const ds_opt_t *o, const char *value, const char *origin)
{
    switch (o->type) {
        case DS_OPT_STRING:
            *(const char **) o->target = value;
            return 0;
        case DS_OPT_INT: {
            char *end;
            errno = 0;
            long long v = strtoll (value, &end, 10);
            if (errno || end == value || *end) {
                fprintf (stderr, "error: %s --%s expects a number, got '%s'\n",
                         origin, o->name, value);
                return -1;
            }
            *(int64_t *) o->target = v;
            return 0;
        }
        case DS_OPT_BOOL:
            *(bool *) o->target = strcmp (value, "0") != 0
                                  && strcmp (value, "false") != 0
                                  && strcmp (value, "no") != 0;
            return 0;
        case DS_OPT_LIST: {
            ds_strlist_t *list = o->target;
            if (list->count == DS_STRLIST_MAX) {
                fprintf (stderr, "error: too many --%s values (max %d)\n",
                         o->name, DS_STRLIST_MAX);
                return -1;
            }
            list->items [list->count++] = value;
            return 0;
        }
    }
    return -1;
}

//  Copies of list values (split on ',') live for the whole process; they are
//  chained from this static so they stay reachable (no LeakSanitizer report
//  once main has returned and the lists on its stack are gone).
typedef struct s_env_copy {
    struct s_env_copy *next;
    char text [];
} s_env_copy_t;
static s_env_copy_t *s_env_copies;

//  Adds each ','-separated item of value to a list option (empty items are
//  skipped), the same for a flag and for its environment variable.
static int
s_set_list (const ds_opt_t *o, const char *value, const char *origin)
{
    size_t size = strlen (value) + 1;
    s_env_copy_t *node = malloc (sizeof *node + size);
    if (!node) {
        fprintf (stderr, "error: out of memory reading %s --%s\n", origin, o->name);
        return -1;
    }
    memcpy (node->text, value, size);
    node->next = s_env_copies;
    s_env_copies = node;
    for (char *save = NULL, *tok = strtok_r (node->text, ",", &save); tok;
         tok = strtok_r (NULL, ",", &save))
        if (s_set (o, tok, origin))
            return -1;
    return 0;
}

//  DARKSCOPE_<NAME>: list options split on ',' (as their flags are).  The strings live for the
//  whole process.
static int
s_from_env (const char *program, const ds_opt_t *opts)
{
    for (const ds_opt_t *o = opts; o->name; o++) {
        char var [128];
        ds_opts_env_name (program, o->name, var, sizeof var);
        const char *value = getenv (var);
        if (!value || !*value)
            continue;
        if (o->type == DS_OPT_LIST) {
            if (s_set_list (o, value, var))
                return -1;
        }
        else
        if (s_set (o, value, var))
            return -1;
    }
    return 0;
}

ds_opt_t *
ds_opts_join (const ds_opt_t *a, const ds_opt_t *b)
{
    size_t na = 0, nb = 0;
    while (a [na].name)
        na++;
    while (b [nb].name)
        nb++;
    ds_opt_t *all = calloc (na + nb + 1, sizeof *all);
    if (all) {
        memcpy (all, a, na * sizeof *all);
        memcpy (all + na, b, nb * sizeof *all);
    }
    return all;
}

void
ds_opts_usage (const char *program, const ds_opt_t *opts, const char *usage)
{
    printf ("%s\n", usage);
    if (!opts->name)
        return;
    printf ("Options (each also read from the environment variable in brackets; a flag\n"
            "wins over its variable; DARKSCOPE_<OPTION> names a setting shared by every\n"
            "program, DARKSCOPE_<PROGRAM>_<OPTION> one of this program alone):\n");
    for (const ds_opt_t *o = opts; o->name; o++) {
        char left [64], var [128];
        snprintf (left, sizeof left, "--%s%s%s", o->name, o->arg ? " " : "",
                  o->arg ? o->arg : "");
        ds_opts_env_name (program, o->name, var, sizeof var);
        printf ("  %-24s %s [%s]\n", left, o->help, var);
    }
    printf ("  %-24s %s\n", "--list-env", "print the environment variables read, one a line, and exit");
    printf ("  %-24s %s\n", "--help", "print this help and exit");
}

//  --list-env: VARIABLE, option, type, and "shared" or the program.
static void
s_list_env (const char *program, const ds_opt_t *opts)
{
    static const char *types [] = { "string", "int", "bool", "list" };
    for (const ds_opt_t *o = opts; o->name; o++) {
        char var [128];
        ds_opts_env_name (program, o->name, var, sizeof var);
        printf ("%s %s %s %s\n", var, o->name, types [o->type],
                ds_opts_shared (o->name) ? "shared" : program);
    }
}

int
ds_opts_parse (int argc, char **argv, int first, const char *program,
               const ds_opt_t *opts, const char *usage, ds_strlist_t *positional)
{
    for (int i = first; i < argc; i++)
        if (strcmp (argv [i], "--help") == 0 || strcmp (argv [i], "-h") == 0) {
            ds_opts_usage (program, opts, usage);
            return 1;
        }
        else
        if (strcmp (argv [i], "--list-env") == 0) {
            s_list_env (program, opts);
            return 1;
        }
    if (s_from_env (program, opts))
        return -1;
    //  Flags override the environment: a list given on the command line
    //  replaces the environment's values rather than adding to them.
    bool list_reset [128] = { false };
    for (int i = first; i < argc; i++) {
        const char *word = argv [i];
        if (strncmp (word, "--", 2) != 0 || word [2] == 0) {
            if (!positional) {
                fprintf (stderr, "error: unexpected argument '%s' (see --help)\n", word);
                return -1;
            }
            if (s_set (&(ds_opt_t) { "argument", DS_OPT_LIST, positional, NULL, NULL },
                       word, "argument"))
                return -1;
            continue;
        }
        const char *name = word + 2;
        const char *eq = strchr (name, '=');
        size_t len = eq ? (size_t) (eq - name) : strlen (name);
        const ds_opt_t *o = s_find (opts, name, len);
        if (!o) {
            fprintf (stderr, "error: unknown option '%s' (see --help)\n", word);
            return -1;
        }
        const char *value;
        if (eq)
            value = eq + 1;
        else
        if (o->type == DS_OPT_BOOL)
            value = "1";
        else {
            if (i + 1 >= argc) {
                fprintf (stderr, "error: option --%s needs a value\n", o->name);
                return -1;
            }
            value = argv [++i];
        }
        size_t index = (size_t) (o - opts);
        if (o->type == DS_OPT_LIST && index < 128 && !list_reset [index]) {
            ((ds_strlist_t *) o->target)->count = 0;
            list_reset [index] = true;
        }
        if (o->type == DS_OPT_LIST ? s_set_list (o, value, "option")
                                   : s_set (o, value, "option"))
            return -1;
    }
    return 0;
}
