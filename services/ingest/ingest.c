/*  ingest.c - placeholder. */
int ds_ingest_placeholder (void);
int ds_ingest_placeholder (void) { return 0; }
