/*  source.h - where records come from: capture files, interfaces, logs.

    A source yields one record at a time and keeps the counters of what it
    skipped in the caller's ds_ingest_stats_t.  Capture files (pcap, pcapng,
    either gzip-compressed) and live interfaces go through libpcap and
    ds_parse_frame; DarkVec logs through ds_darkvec.  An unsupported link
    type is refused when the source opens, with the type named.
*/
#ifndef DS_SOURCE_H
#define DS_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "record.h"
#include "parse.h"

//  What an ingest run counted (logged at the end, carried by EOS).
typedef struct {
    uint64_t packets_read;          //  frames and log data lines read
    uint64_t link [DS_LINK_MAX];    //  frames per link-table entry (ds_link_name)
    uint64_t non_ip;                //  frames skipped: not IP
    uint64_t malformed;             //  frames + bad lines skipped
    uint64_t bad_lines;             //  log lines that could not be read (in malformed)
    uint64_t bad_time;              //  records skipped: impossible timestamps (DESIGN §12)
    uint64_t batches;               //  batches published
    uint64_t records;               //  records published or written
    uint64_t dropped;               //  live: libpcap ps_drop + ps_ifdrop + own
    uint64_t pcap_dropped;          //  live: libpcap's part of dropped
    uint64_t unheard;               //  batches sent while their shard had no subscriber (lost)
    uint64_t unheard_eos;           //  ends of stream sent so
    uint64_t bytes_total;           //  input file bytes (progress)
    uint64_t bytes_done;            //  input bytes of files finished
} ds_ingest_stats_t;

typedef struct ds_source_t ds_source_t;

//  Results of ds_source_next.
enum {
    DS_SOURCE_RECORD = 0,           //  rec filled in
    DS_SOURCE_SKIP   = 1,           //  a frame/line skipped (counted)
    DS_SOURCE_IDLE   = 2,           //  live: timeout with nothing read
    DS_SOURCE_END    = 3,           //  input exhausted
    DS_SOURCE_ERROR  = -1           //  read error (logged)
};

//  Opens a pcap/pcapng file, gzip-compressed or not; "-" (standard input)
//  or a FIFO is read as a stream (ds_source_is_stream).  NULL + err on
//  failure.
ds_source_t *ds_source_open_file (const char *path, char *err, size_t err_size);

//  Opens a live capture on iface with an optional BPF filter (NULL = all).
ds_source_t *ds_source_open_live (const char *iface, const char *bpf,
                                  char *err, size_t err_size);

//  Opens a DarkVec text log.
ds_source_t *ds_source_open_darkvec (const char *path, char *err, size_t err_size);

//  Destroys a source; NULL-safe; nulls the caller's pointer.
void ds_source_destroy (ds_source_t **self_p);

//  Reads the next record, counting packets_read / link / non_ip / malformed.
int ds_source_next (ds_source_t *self, ds_record_t *rec, ds_ingest_stats_t *stats);

//  Input bytes consumed so far (compressed bytes for .gz); 0 when live.
uint64_t ds_source_offset (ds_source_t *self);

//  True for a live capture.
bool ds_source_is_live (ds_source_t *self);

//  True for a classic pcap stream from a pipe or FIFO: ds_source_next
//  answers DS_SOURCE_IDLE when nothing arrived for 100 ms (no drops: the
//  writer waits for the reader).
bool ds_source_is_stream (ds_source_t *self);

//  Live: libpcap's drop counters (ps_drop + ps_ifdrop) so far, 64-bit
//  across their 32-bit wraps; 0 for files.
uint64_t ds_source_pcap_drops (ds_source_t *self);

//  Adds the growth of libpcap's 32-bit drop counters since their last
//  reading (last, updated) to total; a counter that wrapped counts right.
uint64_t ds_source_drops_add (uint64_t total, uint32_t last [2], uint32_t drop, uint32_t ifdrop);

//  Expands file names and glob patterns, each pattern's matches in name
//  order, the patterns in the order given.  Fills *paths (caller frees with
//  ds_paths_free).  Returns 0, or -1 with err naming a pattern matching nothing.
int ds_paths_expand (const char *const *patterns, size_t n, char ***paths,
                     size_t *count, char *err, size_t err_size);

//  Turns the fast reader of classic pcap files on (the default) or off, for
//  the files opened afterwards (tests compare it with libpcap's reader).
void ds_source_set_fast_path (bool on);

//  Lets the fast reader map files in windows of window bytes (the default:
//  DS_FILEMAP_WINDOW), or with 0 makes it read(2) them into a buffer, for
//  the files opened afterwards (tests compare the two, and small windows).
void ds_source_set_map (size_t window);

//  True while the fast reader (not libpcap) reads this source.
bool ds_source_is_fast (ds_source_t *self);

//  Frees what ds_paths_expand returned.
void ds_paths_free (char ***paths, size_t count);

#endif
