/*  gt.h - the ground-truth table: source address -> class (DESIGN.md §4).

    Entries come from CSV files with a header (address column ip/s_ip/src_ip,
    class column class/gt/label) and from CIDR lists (one IPv4/IPv6 prefix or
    address per line, '#' comments), in any mix.  Addresses are compared as
    16-byte addresses: IPv4 is ::ffff:a.b.c.d, so an IPv4 /24 is a /120.

    Lookup: an exact entry (a plain address, /32 or /128) beats any prefix;
    among prefixes the longest wins.  Among duplicate entries (same address
    and length) with different classes the first loaded wins, with a warning
    naming both file:line.  The class found is then passed once through the
    alias table (default: netscout, esrg_stanford, quadmetrics, criminalip,
    adscore -> unknown); a source matched by nothing is "unknown" with
    matched == false.  "unknown" is always class id 0.

    Use: ds_gt_new, then any number of ds_gt_load_* / ds_gt_add / ds_gt_alias
    calls, then ds_gt_build (required before any lookup; adding after a
    build needs another build).  A built table is read-only: lookups from
    several threads are safe.
*/
#ifndef DS_GT_H
#define DS_GT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "record.h"

typedef struct _ds_gt_t ds_gt_t;

//  Creates an empty table with the default aliases.  Caller destroys.
ds_gt_t *ds_gt_new (void);

//  Destroys a table; NULL-safe; nulls the caller's pointer.
void ds_gt_destroy (ds_gt_t **self_p);

//  Adds one entry: text is an address or "address/len"; origin/line name
//  where it came from (for rules and warnings).  Returns 0 if added, 1 if
//  it duplicated an existing entry (same class: silently; other class:
//  warning, first wins), -1 if text or class is bad (reason in err).
int ds_gt_add (ds_gt_t *self, const char *text, const char *class_name,
               const char *origin, uint32_t line, char *err, size_t err_size);

//  Whether name may be a class name: 1..DS_NAME_MAX-1 printable bytes,
//  no space, '=' or '"'.
bool ds_gt_class_name_ok (const char *name);

//  The warnings of one file logged one by one; the rest are counted and
//  summed up in one line when the file is loaded (ds_gt_warn_summary).
#define DS_GT_WARN_SHOWN 5

//  Counts a warning about file origin (a bad row or line skipped, a
//  conflict); part of ds_gt_warning_count.  True if it is to be logged:
//  one of the first DS_GT_WARN_SHOWN since ds_gt_warn_file named origin.
bool ds_gt_warned (ds_gt_t *self);

//  Starts counting the warnings of file path (the loaders call it before
//  reading one).
void ds_gt_warn_file (ds_gt_t *self);

//  After a file: logs a warning "path: N warnings, the first 5 shown" if
//  more were counted since ds_gt_warn_file than were logged.
void ds_gt_warn_summary (ds_gt_t *self, const char *path);

//  Loads a CSV with a header (gt_load.c, like the next two).  Bad rows are warned about (file:line) and
//  skipped.  Returns 0, or -1 if the file cannot be read or has no usable
//  header (reason in err).
int ds_gt_load_csv (ds_gt_t *self, const char *path, char *err, size_t err_size);

//  Loads a CIDR list.  class_name NULL takes it from the file name
//  (<class>_v4.txt / <class>_v6.txt).  Bad lines warned and skipped.
int ds_gt_load_list (ds_gt_t *self, const char *path, const char *class_name,
                     char *err, size_t err_size);

//  Loads a --gt-list argument: "CLASS=FILE", "FILE" (class from the name)
//  or "DIR" (every *_v4.txt / *_v6.txt in it, in name order).
int ds_gt_load_spec (ds_gt_t *self, const char *spec, char *err, size_t err_size);

//  Sets an alias FROM -> TO (replaces an earlier one for FROM, defaults
//  included; FROM == TO removes the alias).  Aliases apply once, not in
//  chains.  Returns -1 on a bad name.
int ds_gt_alias (ds_gt_t *self, const char *from, const char *to);

//  Parses "FROM=TO" and calls ds_gt_alias (gt_load.c).
int ds_gt_alias_spec (ds_gt_t *self, const char *spec, char *err, size_t err_size);

//  Builds the lookup structures.  Returns 0, -1 if out of memory or if
//  there are more classes than a batch dictionary may hold.
int ds_gt_build (ds_gt_t *self);

//  Class id of addr (index into ds_gt_class_names); *matched tells whether
//  a GT entry named it.  Table must be built.
uint16_t ds_gt_lookup (const ds_gt_t *self, const ds_addr_t *addr, bool *matched);

//  Looks up n addresses at once (prefetching; the fast path): class ids
//  into class_id [n], matched [i] = 1 where a GT entry named addrs [i].
void ds_gt_lookup_many (const ds_gt_t *self, const ds_addr_t *addrs, uint32_t n,
                        uint16_t *class_id, uint8_t *matched);

//  Like ds_gt_lookup, and writes the rule that decided into rule
//  ("exact 1.2.3.4 from big_gt.csv:17", "prefix 1.2.3.0/24 from
//  censys_v4.txt:3; alias netscout->unknown", "no match").
uint16_t ds_gt_explain (const ds_gt_t *self, const ds_addr_t *addr, bool *matched,
                        char *rule, size_t rule_size);

//  The class dictionary ("unknown" first) and its size.
const char *const *ds_gt_class_names (const ds_gt_t *self);
uint32_t ds_gt_class_count (const ds_gt_t *self);

//  Entries loaded: exact addresses, prefixes; warnings issued while loading.
size_t ds_gt_exact_count (const ds_gt_t *self);
size_t ds_gt_prefix_count (const ds_gt_t *self);
size_t ds_gt_warning_count (const ds_gt_t *self);

#endif
