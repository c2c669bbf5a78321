/*  query.c - placeholder. */
int ds_query_placeholder (void);
int ds_query_placeholder (void) { return 0; }
