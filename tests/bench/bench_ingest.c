/*  bench_ingest.c - records/s of pcap -> published batches, beside a bare
    pcap_next_ex loop over the same file in the same run (DESIGN §8).
    Built and run by bench_ingest.sh; not a ctest.

    Usage: bench_ingest [PACKETS] [SHARDS]   (default 5000000, 1)
    Writes a synthetic darknet capture (TCP SYNs, some UDP/ICMP, 60-byte
    frames) to /tmp, then, 3 rounds, times the bare loop and the ingest
    actor publishing on tcp://127.0.0.1:* to a subscriber thread that drains
    every message (receive only, in a separate process: this program run
    as "bench_ingest drain ENDPOINT SHARDS"), from zactor_new until the
    subscriber has every EOS.  Best of the rounds for each.  Two measures:
    wall clock, and CPU time of this process (the ingest thread and the
    zmq I/O thread that sends; not the subscriber) -- on a shared machine
    the wall clock mostly measures the neighbours.
*/
#include <czmq.h>
#include <pcap/pcap.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ingest.h"
#include "ds_proto.h"
#include "log.h"

static double
s_now (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static double
s_cpu (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static void
s_write (const char *path, long n)
{
    pcap_t *dead = pcap_open_dead (DLT_EN10MB, 65535);
    pcap_dumper_t *dump = pcap_dump_open (dead, path);
    uint8_t f [60];
    uint64_t x = 88172645463325252ULL;
    for (long i = 0; i < n; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        memset (f, 0, sizeof f);
        f [12] = 0x08;
        uint8_t *ip = f + 14;
        ip [0] = 0x45; ip [8] = 64;
        int kind = (int) (x % 100);
        ip [9] = kind < 90 ? 6 : kind < 97 ? 17 : 1;
        uint32_t src = (uint32_t) (x >> 32) % 600000;       //  ~600 k sources
        ip [12] = 45; ip [13] = (uint8_t) (src >> 16); ip [14] = (uint8_t) (src >> 8); ip [15] = (uint8_t) src;
        ip [16] = 10; ip [19] = (uint8_t) x;
        uint16_t port = (x >> 8) % 4 == 0 ? 23 : (uint16_t) (x >> 16);
        ip [22] = (uint8_t) (port >> 8); ip [23] = (uint8_t) port;
        ip [33] = 0x02; ip [32] = 0x50;
        struct pcap_pkthdr hdr = { .caplen = 60, .len = 60 };
        hdr.ts.tv_sec = 1614556800 + i / 100000;
        hdr.ts.tv_usec = (suseconds_t) (i % 100000) * 10;
        pcap_dump ((u_char *) dump, &hdr, f);
    }
    pcap_dump_close (dump);
    pcap_close (dead);
}

static double
s_bare (const char *path, long *count, double *cpu)
{
    char err [PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline (path, err);
    struct pcap_pkthdr *hdr;
    const u_char *data;
    long n = 0;
    uint64_t sum = 0;
    double t0 = s_now (), c0 = s_cpu ();
    while (pcap_next_ex (p, &hdr, &data) == 1) {
        n++;
        sum += data [0];            //  touch the frame, as any reader does
    }
    double t = s_now () - t0;
    *cpu = s_cpu () - c0;
    pcap_close (p);
    *count = n + (long) (sum & 0);
    return t;
}

//  The subscriber process: receives until an EOS per shard, prints the
//  records the EOS messages announced.
static int
s_drain (const char *endpoint, uint32_t shards)
{
    zsock_t *sub = zsock_new_sub (endpoint, "pkt.");
    zsock_set_rcvhwm (sub, 100);
    uint32_t eos = 0;
    uint64_t records = 0;
    while (eos < shards) {
        zmsg_t *msg = zmsg_recv (sub);
        if (!msg)
            break;
        zframe_t *body = zmsg_last (msg);
        int type = 0;
        ds_msg_peek (zframe_data (body), zframe_size (body), &type);
        if (type == DS_MSG_EOS) {
            ds_eos_t e;
            ds_eos_decode (zframe_data (body), zframe_size (body), &e);
            records += e.records;
            eos++;
        }
        zmsg_destroy (&msg);
    }
    zsock_destroy (&sub);
    printf ("%llu\n", (unsigned long long) records);
    return 0;
}

int
main (int argc, char **argv)
{
    if (argc == 4 && strcmp (argv [1], "drain") == 0)
        return s_drain (argv [2], (uint32_t) atoi (argv [3]));
    char self_exe [512];
    ssize_t len = readlink ("/proc/self/exe", self_exe, sizeof self_exe - 1);
    if (len <= 0)
        return 1;
    self_exe [len] = 0;
    long n = argc > 1 ? atol (argv [1]) : 5000000;
    uint32_t shards = argc > 2 ? (uint32_t) atoi (argv [2]) : 1;
    ds_log_init ("bench");
    const char *path = "/tmp/ds_bench_ingest.pcap";
    s_write (path, n);

    long count = 0;
    double bare = 1e9, bare_cpu = 1e9, ingest = 1e9, ingest_cpu = 1e9;
    uint64_t received = 0;
    ds_log_set_quiet (true);
    for (int round = 0; round < 3; round++) {
        double cpu;
        double t = s_bare (path, &count, &cpu);
        if (t < bare) bare = t;
        if (cpu < bare_cpu) bare_cpu = cpu;

        char endpoint [256] = "";
        ds_ingest_config_t cfg;
        ds_ingest_config_init (&cfg);
        const char *inputs [1] = { path };
        cfg.pcaps = inputs;
        cfg.n_pcaps = 1;
        cfg.shards = shards;
        cfg.endpoint = "tcp://127.0.0.1:*";
        cfg.bound = endpoint;
        cfg.bound_size = sizeof endpoint;
        cfg.progress = false;
        double t0 = s_now (), c0 = s_cpu ();
        zactor_t *actor = zactor_new (ds_ingest_actor, &cfg);
        char cmd [1024];
        snprintf (cmd, sizeof cmd, "'%s' drain '%s' %u", self_exe, endpoint, shards);
        FILE *drainer = popen (cmd, "r");
        char *done = zstr_recv (actor);
        unsigned long long got = 0;
        if (!drainer || fscanf (drainer, "%llu", &got) != 1)
            fprintf (stderr, "the subscriber process failed\n");
        t = s_now () - t0;
        cpu = s_cpu () - c0;
        if (drainer)
            pclose (drainer);
        zstr_free (&done);
        zactor_destroy (&actor);
        if (t < ingest) ingest = t;
        if (cpu < ingest_cpu) ingest_cpu = cpu;
        received = got;
    }

    double bare_rate = (double) count / bare, ingest_rate = (double) n / ingest;
    double bare_cpu_rate = (double) count / bare_cpu, ingest_cpu_rate = (double) n / ingest_cpu;
    printf ("packets %ld, shards %u, %llu records received by the subscriber\n",
            n, shards, (unsigned long long) received);
    printf ("                          wall clock            CPU time (this process)\n");
    printf ("bare pcap_next_ex loop : %6.2f M pkt/s (%.3f s)   %6.2f M pkt/s (%.3f s)\n",
            bare_rate / 1e6, bare, bare_cpu_rate / 1e6, bare_cpu);
    printf ("ingest -> published    : %6.2f M rec/s (%.3f s)   %6.2f M rec/s (%.3f s)\n",
            ingest_rate / 1e6, ingest, ingest_cpu_rate / 1e6, ingest_cpu);
    printf ("ratio (target >= 50%%)  : %5.0f%%                    %5.0f%%\n",
            100.0 * ingest_rate / bare_rate, 100.0 * ingest_cpu_rate / bare_cpu_rate);
    unlink (path);
    zsys_shutdown ();
    return 0;
}
