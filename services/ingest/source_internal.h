/*  source_internal.h - what source.c and source_fast.c share: the source
    and the fast reader's entry points.
*/
#ifndef DS_SOURCE_INTERNAL_H
#define DS_SOURCE_INTERNAL_H

#include "source.h"
#include "darkvec.h"
#include "filemap.h"
#include <pcap/pcap.h>
#include <signal.h>
#include <stdio.h>
#include <zlib.h>

typedef enum { S_FILE, S_LIVE, S_DARKVEC } s_kind_t;

struct ds_source_t {
    s_kind_t kind;
    pcap_t *pcap;
    int dlt;
    int link;                       //  index in the link table
    int fd;                         //  live: selectable descriptor
    FILE *file;                     //  what libpcap reads (owned by pcap)
    gzFile gz;                      //  under file when compressed
    char *iobuf;                    //  stdio buffer of file (freed after it is closed)
    //  Fast path (see above); fast false: libpcap reads
    bool fast;
    bool fast_nsec;                 //  nanosecond timestamps
    bool fast_eof;                  //  read(2) returned 0
    int fast_fd;
    ds_filemap_t *fast_map;         //  the file's windows, or NULL: read(2) into fast_mem
    const volatile sig_atomic_t *fast_cut;  //  the map's cut flag (a page vanished)
    uint8_t *fast_mem;              //  S_FAST_SIZE bytes that read(2) fills
    const uint8_t *fast_buf;        //  what is parsed: fast_mem or the map's window
    size_t fast_pos;                //  next record in fast_buf
    size_t fast_end;                //  bytes valid in fast_buf
    uint64_t fast_base;             //  file offset of fast_buf [0]
    uint32_t fast_snap;             //  pcap_snapshot: larger frames go to libpcap
    bool stream;                    //  fast path over a pipe: never blocks long
    uint8_t head [24];              //  stream: the header libpcap reads from memory
    uint32_t drop_last [2];         //  live: libpcap's ps_drop, ps_ifdrop last read
    uint64_t drops;                 //  live: their growth, summed without wrapping
    ds_darkvec_t *log;
    char *path;                     //  file name or interface, for messages
};

//  Checks the link type of an opened pcap: a clear error if unsupported.
int source_check_link (ds_source_t *self, const char *what, char *err, size_t err_size);

//  libpcap reads file (microsecond timestamps; it owns file from now on)
//  and its link type is checked.  0, or -1 with err set (file closed
//  if libpcap did not take it).
int source_pcap_fopen (ds_source_t *self, FILE *file, const char *path, char *err, size_t err_size);

//  Sets up the fast path for a file whose first 4 bytes are magic (0 if
//  fewer), when it is classic pcap 2.4 in this host's order and not
//  compressed (regular files only: a FIFO cannot be opened twice); on any
//  failure libpcap simply reads the file.
void source_fast_open (ds_source_t *self, const char *path, uint32_t magic);

//  Ends the fast path: libpcap reads whatever is read next.
void source_fast_close (ds_source_t *self);

//  The next frame, read in place: 1 with *hdr and *data set, 0 at the end of
//  the file, -1 when libpcap must take over from this record.
int source_fast_next (ds_source_t *self, struct pcap_pkthdr *hdr, const uint8_t **data);

//  Hands the rest of the file to libpcap, at the record not yet read.
int source_fast_handover (ds_source_t *self);

//  The frame just parsed lay in pages of the map that vanished (the file
//  shrank under it; they read as zeros): libpcap is to read on from its
//  offset, as from a file cut there (the caller counts nothing of it).
//  0 or -1.
int source_fast_cut (ds_source_t *self, uint32_t caplen);

//  Opens a capture from a pipe or FIFO (see the top of source.c).  The
//  bytes read to recognise it are served again to libpcap when it reads.
ds_source_t *source_open_stream (ds_source_t *self, const char *path, bool is_stdin,
                                 char *err, size_t err_size);

//  The next frame of a stream: 1 with *hdr and *data set, 0 at its end,
//  2 when no complete record arrived within 100 ms, -2 when it ended inside
//  a record (cut short), -1 on a read error (logged).
int source_stream_next (ds_source_t *self, struct pcap_pkthdr *hdr, const uint8_t **data);

#endif
