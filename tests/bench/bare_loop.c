/*  bare_loop.c - the ceiling: a bare pcap_next_ex loop over a file that
    touches each packet's first byte.  Built and run by tests/bench/run.sh. */
#include <pcap/pcap.h>
#include <stdio.h>
#include <time.h>

int
main (int argc, char **argv)
{
    if (argc != 2) {
        fprintf (stderr, "usage: bare_loop FILE.pcap\n");
        return 2;
    }
    char err [PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline (argv [1], err);
    if (!p) {
        fprintf (stderr, "bare_loop: %s\n", err);
        return 1;
    }
    struct timespec t0, t1;
    clock_gettime (CLOCK_MONOTONIC, &t0);
    struct pcap_pkthdr *h;
    const u_char *data;
    unsigned long long n = 0, sum = 0;
    while (pcap_next_ex (p, &h, &data) == 1) {
        n++;
        sum += h->caplen ? data [0] : 0;
    }
    clock_gettime (CLOCK_MONOTONIC, &t1);
    double secs = (double) (t1.tv_sec - t0.tv_sec) + (double) (t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf ("%llu packets %.3f s %.0f packets/s (checksum %llu)\n", n, secs, n / secs, sum);
    pcap_close (p);
    return 0;
}
