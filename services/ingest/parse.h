/*  parse.h - one captured frame -> one darkscope record (DESIGN.md §2).

    The parser is a pure function of (link type, captured bytes, timestamp):
    no allocation, no state, every read bounded by caplen (never by a length
    the packet claims).  Link layers are a table (ds_link_*), so a reader can
    refuse an unsupported link type when it opens a capture and count frames
    per link type while it reads.
*/
#ifndef DS_PARSE_H
#define DS_PARSE_H

#include <stdint.h>
#include <stdbool.h>
#include "record.h"

//  Results of ds_parse_frame.
enum {
    DS_PARSE_OK        = 0,         //  rec filled in
    DS_PARSE_NON_IP    = 1,         //  a well-formed frame that is not IPv4/IPv6
    DS_PARSE_MALFORMED = 2          //  too short, bad header, version mismatch
};

#define DS_LINK_MAX 16              //  entries in the link-layer table, at most

//  Parses one frame of link type dlt (pcap DLT_* value) into rec.
//  Returns DS_PARSE_OK, DS_PARSE_NON_IP or DS_PARSE_MALFORMED; an
//  unsupported dlt gives DS_PARSE_MALFORMED (check ds_link_supported first).
int ds_parse_frame (int dlt, const uint8_t *data, uint32_t caplen,
                    int64_t ts_us, ds_record_t *rec);

//  True if frames of link type dlt can be parsed.
bool ds_link_supported (int dlt);

//  Index of dlt in the link-layer table (0..ds_link_count()-1), or -1.
int ds_link_index (int dlt);

//  Number of entries in the link-layer table.
int ds_link_count (void);

//  Short name of table entry index ("EN10MB", "LINUX_SLL2", ...).
const char *ds_link_name (int index);

//  Parses an IP packet that starts at data (version nibble decides; want_version
//  4 or 6 forces a match, 0 accepts either).  Exposed for the raw link types.
int ds_parse_ip (const uint8_t *data, uint32_t len, int want_version,
                 int64_t ts_us, ds_record_t *rec);

#endif
