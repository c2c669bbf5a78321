/*  placeholder. */
int ds_proto_placeholder (void);
int ds_proto_placeholder (void) { return 0; }
