/*  aggregator.c - placeholder. */
int ds_aggregator_placeholder (void);
int ds_aggregator_placeholder (void) { return 0; }
