/*  placeholder. */
int ds_darkscope_placeholder (void);
int ds_darkscope_placeholder (void) { return 0; }
