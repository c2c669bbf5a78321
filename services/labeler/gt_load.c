/*  gt_load.c - reading ground-truth files into a table (part of gt.h).

    CSV files with a header (address column ip/s_ip/src_ip, class column
    class/gt/label; RFC 4180 quotes), CIDR lists (one prefix or address a
    line, '#' comments) and directories of <class>_v4.txt / <class>_v6.txt
    lists.  Every entry goes through ds_gt_add: this file knows file
    formats and argument specs (CLASS=FILE, FROM=TO), gt.c the table.  A
    bad row or line is warned about with its file:line (the first few of a
    file, then one line with their number), counted (ds_gt_warned) and
    skipped.
*/
#include "gt.h"
#include "batch.h"
#include "log.h"
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

static char *
s_trim (char *text)
{
    while (*text == ' ' || *text == '\t')
        text++;
    size_t n = strlen (text);
    while (n && (text [n - 1] == ' ' || text [n - 1] == '\t'
              || text [n - 1] == '\r' || text [n - 1] == '\n'))
        text [--n] = 0;
    return text;
}

//  Splits a CSV line in place (RFC 4180 quotes, "" inside quotes); returns
//  the field count, at most max.
static int
s_csv_split (char *line, char **fields, int max)
{
    int count = 0;
    char *p = line;
    while (count < max) {
        char *out = p;
        fields [count++] = out;
        if (*p == '"') {
            p++;
            while (*p) {
                if (*p == '"' && p [1] == '"') {
                    *out++ = '"';
                    p += 2;
                }
                else
                if (*p == '"') {
                    p++;
                    break;
                }
                else
                    *out++ = *p++;
            }
            while (*p && *p != ',')
                *out++ = *p++;
        }
        else
            while (*p && *p != ',')
                *out++ = *p++;
        bool more = *p == ',';
        *out = 0;
        if (!more)
            break;
        p++;
    }
    for (int i = 0; i < count; i++)
        fields [i] = s_trim (fields [i]);
    return count;
}

static int
s_column (char **fields, int count, const char *const *names)
{
    for (const char *const *name = names; *name; name++)
        for (int i = 0; i < count; i++)
            if (strcasecmp (fields [i], *name) == 0)
                return i;
    return -1;
}

int
ds_gt_load_csv (ds_gt_t *self, const char *path, char *err, size_t err_size)
{
    FILE *file = fopen (path, "r");
    if (!file) {
        snprintf (err, err_size, "%s: %s", path, strerror (errno));
        return -1;
    }
    static const char *ip_names [] = { "ip", "s_ip", "src_ip", NULL };
    static const char *class_names [] = { "class", "gt", "label", NULL };
    char *line = NULL;
    size_t line_max = 0;
    uint32_t lineno = 0;
    int ip_col = -1, class_col = -1;
    size_t added = 0, before_warnings = ds_gt_warning_count (self);
    ds_gt_warn_file (self);
    int rc = 0;
    enum { FIELDS_MAX = 256 };
    char *fields [FIELDS_MAX];
    while (getline (&line, &line_max, file) != -1) {
        lineno++;
        if (lineno == 1 && (unsigned char) line [0] == 0xef
        &&  (unsigned char) line [1] == 0xbb && (unsigned char) line [2] == 0xbf)
            memmove (line, line + 3, strlen (line + 3) + 1);        //  UTF-8 BOM
        char *text = s_trim (line);
        if (*text == 0)
            continue;                                   //  blank line
        int count = s_csv_split (text, fields, FIELDS_MAX);
        if (ip_col < 0) {
            ip_col = s_column (fields, count, ip_names);
            class_col = s_column (fields, count, class_names);
            if (ip_col < 0 || class_col < 0) {
                snprintf (err, err_size,
                          "%s:%u: the header needs an address column (ip, s_ip or src_ip) "
                          "and a class column (class, gt or label)", path, lineno);
                rc = -1;
                break;
            }
            continue;
        }
        if (ip_col >= count || class_col >= count) {
            if (ds_gt_warned (self))
                ds_log_warn ("%s:%u: %d fields, the header has more; line skipped",
                             path, lineno, count);
            continue;
        }
        char why [160];
        int added_rc = ds_gt_add (self, fields [ip_col], fields [class_col], path, lineno,
                                  why, sizeof why);
        if (added_rc < 0) {
            if (ds_gt_warned (self))
                ds_log_warn ("%s:%u: %s; line skipped", path, lineno, why);
        }
        else
        if (added_rc == 0)
            added++;
    }
    if (rc == 0 && ferror (file)) {
        snprintf (err, err_size, "%s: %s", path, strerror (errno));
        rc = -1;
    }
    if (rc == 0 && ip_col < 0) {
        snprintf (err, err_size, "%s: empty file, no header", path);
        rc = -1;
    }
    free (line);
    fclose (file);
    ds_gt_warn_summary (self, path);
    if (rc == 0)
        ds_log_info ("%s: %zu entries (%zu warnings)", path, added,
                     ds_gt_warning_count (self) - before_warnings);
    return rc;
}

//  "<class>_v4.txt" / "<class>_v6.txt" -> class; false if the name is not so.
static bool
s_class_from_name (const char *path, char *class_name, size_t size)
{
    const char *base = strrchr (path, '/');
    base = base ? base + 1 : path;
    size_t n = strlen (base);
    if (n <= 7 || n - 7 >= size)
        return false;
    const char *suffix = base + n - 7;
    if (strcmp (suffix, "_v4.txt") != 0 && strcmp (suffix, "_v6.txt") != 0)
        return false;
    memcpy (class_name, base, n - 7);
    class_name [n - 7] = 0;
    return true;
}

int
ds_gt_load_list (ds_gt_t *self, const char *path, const char *class_name,
                 char *err, size_t err_size)
{
    char from_name [DS_NAME_MAX];
    if (!class_name) {
        if (!s_class_from_name (path, from_name, sizeof from_name)) {
            snprintf (err, err_size, "%s: cannot tell its class: name the file "
                      "<class>_v4.txt / <class>_v6.txt or give CLASS=FILE", path);
            return -1;
        }
        class_name = from_name;
    }
    if (!ds_gt_class_name_ok (class_name)) {
        snprintf (err, err_size, "%s: bad class name '%.64s'", path, class_name);
        return -1;
    }
    FILE *file = fopen (path, "r");
    if (!file) {
        snprintf (err, err_size, "%s: %s", path, strerror (errno));
        return -1;
    }
    char *line = NULL;
    size_t line_max = 0;
    uint32_t lineno = 0;
    size_t added = 0, before_warnings = ds_gt_warning_count (self);
    ds_gt_warn_file (self);
    while (getline (&line, &line_max, file) != -1) {
        lineno++;
        char *hash = strchr (line, '#');
        if (hash)
            *hash = 0;
        char *text = s_trim (line);
        if (*text == 0)
            continue;
        char why [160];
        int rc = ds_gt_add (self, text, class_name, path, lineno, why, sizeof why);
        if (rc < 0) {
            if (ds_gt_warned (self))
                ds_log_warn ("%s:%u: %s; line skipped", path, lineno, why);
        }
        else
        if (rc == 0)
            added++;
    }
    int rc = 0;
    if (ferror (file)) {
        snprintf (err, err_size, "%s: %s", path, strerror (errno));
        rc = -1;
    }
    free (line);
    fclose (file);
    ds_gt_warn_summary (self, path);
    if (rc == 0)
        ds_log_info ("%s: %zu entries of class %s (%zu warnings)", path, added,
                     class_name, ds_gt_warning_count (self) - before_warnings);
    return rc;
}

static int
s_cmp_strings (const void *a, const void *b)
{
    return strcmp (*(char *const *) a, *(char *const *) b);
}

static int
s_load_dir (ds_gt_t *self, const char *dir, char *err, size_t err_size)
{
    DIR *handle = opendir (dir);
    if (!handle) {
        snprintf (err, err_size, "%s: %s", dir, strerror (errno));
        return -1;
    }
    char **names = NULL;
    size_t count = 0;
    int rc = 0;
    struct dirent *ent;
    char class_name [DS_NAME_MAX];
    while ((ent = readdir (handle))) {
        if (!s_class_from_name (ent->d_name, class_name, sizeof class_name))
            continue;
        char **bigger = realloc (names, (count + 1) * sizeof *names);
        if (!bigger || !(bigger [count] = strdup (ent->d_name))) {
            names = bigger ? bigger : names;
            snprintf (err, err_size, "out of memory");
            rc = -1;
            break;
        }
        names = bigger;
        count++;
    }
    closedir (handle);
    if (rc == 0 && count == 0) {
        snprintf (err, err_size, "%s: no <class>_v4.txt / <class>_v6.txt files in it", dir);
        rc = -1;
    }
    if (rc == 0)
        qsort (names, count, sizeof *names, s_cmp_strings);
    for (size_t i = 0; i < count; i++) {
        if (rc == 0) {
            char path [4096];
            snprintf (path, sizeof path, "%s/%s", dir, names [i]);
            rc = ds_gt_load_list (self, path, NULL, err, err_size);
        }
        free (names [i]);
    }
    free (names);
    return rc;
}

int
ds_gt_load_spec (ds_gt_t *self, const char *spec, char *err, size_t err_size)
{
    struct stat st;
    if (stat (spec, &st) == 0)
        return S_ISDIR (st.st_mode) ? s_load_dir (self, spec, err, err_size)
                                    : ds_gt_load_list (self, spec, NULL, err, err_size);
    const char *eq = strchr (spec, '=');
    if (!eq) {
        snprintf (err, err_size, "%s: %s", spec, strerror (errno));
        return -1;
    }
    char class_name [DS_NAME_MAX];
    size_t n = (size_t) (eq - spec);
    if (n == 0 || n >= sizeof class_name) {
        snprintf (err, err_size, "'%s': expected CLASS=FILE", spec);
        return -1;
    }
    memcpy (class_name, spec, n);
    class_name [n] = 0;
    return ds_gt_load_list (self, eq + 1, class_name, err, err_size);
}

int
ds_gt_alias_spec (ds_gt_t *self, const char *spec, char *err, size_t err_size)
{
    const char *eq = strchr (spec, '=');
    char from [DS_NAME_MAX];
    size_t n = eq ? (size_t) (eq - spec) : 0;
    if (eq && n > 0 && n < sizeof from) {
        memcpy (from, spec, n);
        from [n] = 0;
        if (ds_gt_alias (self, from, eq + 1) == 0)
            return 0;
    }
    snprintf (err, err_size, "bad alias '%.64s': expected FROM=TO with class names", spec);
    return -1;
}
