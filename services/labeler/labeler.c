/*  labeler.c - placeholder. */
int ds_labeler_placeholder (void);
int ds_labeler_placeholder (void) { return 0; }
