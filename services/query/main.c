/*  darkscope-query - placeholder until its logic lands. */
#include <stdio.h>
#include <string.h>

int
main (int argc, char **argv)
{
    if (argc > 1 && strcmp (argv [1], "--help") == 0) {
        printf ("Usage: darkscope-query [OPTIONS]\n\nThe query service (not built yet).\n");
        return 0;
    }
    fprintf (stderr, "darkscope-query: not built yet\n");
    return 1;
}
