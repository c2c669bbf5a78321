/*  libs: ds_proto ds_common */
/*  fuzz_batch.c - libFuzzer target: batch decoder.  One receiving batch is
    reused across inputs (as services do), so growth and dictionary reuse
    are fuzzed too.  A batch that decodes (either layout) must re-encode,
    in the fixed and in the packed layout, and decode to the same records;
    an unlabelled one, labelled, must come out of ds_batch_encode_relabel
    (the input's bytes reused) as the same labelled records.  The view
    decode (columns read in place) gives the same result and records. */
#include "ds_proto.h"
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
s_same (ds_batch_t *into, ds_batch_t *again, msgpack_sbuffer *buf, int packed,
        const uint8_t *data, size_t size)
{
    int rc = packed == 2 ? ds_batch_encode_relabel (data, size, into, buf)
           : packed ? ds_batch_encode_packed (into, buf) : ds_batch_encode (into, buf);
    if (rc != DS_OK)
        abort ();
    if (ds_batch_decode ((const uint8_t *) buf->data, buf->size, again) != DS_OK)
        abort ();
    uint32_t n = into->count;
    if (again->count != n || again->labelled != into->labelled || again->seq != into->seq
    ||  memcmp (again->ts, into->ts, n * sizeof *into->ts)
    ||  memcmp (again->src, into->src, n * sizeof *into->src)
    ||  memcmp (again->port, into->port, n * sizeof *into->port)
    ||  memcmp (again->proto, into->proto, n)
    ||  memcmp (again->flags, into->flags, n))
        abort ();
    if (into->labelled) {
        if (again->n_classes != into->n_classes || again->n_services != into->n_services
        ||  memcmp (again->class_id, into->class_id, n * sizeof *into->class_id)
        ||  memcmp (again->service_id, into->service_id, n * sizeof *into->service_id))
            abort ();
        for (uint32_t i = 0; i < into->n_classes; i++)
            if (strcmp (again->class_names [i], into->class_names [i]))
                abort ();
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    static ds_batch_t *into, *again;
    static msgpack_sbuffer buf;
    if (!into) {
        into = ds_batch_new (4);
        again = ds_batch_new (1);
        msgpack_sbuffer_init (&buf);
    }
    int rc = ds_batch_decode (data, size, into);
    //  The view decode agrees: the same result, the same records.
    static ds_batch_t *viewed;
    if (!viewed)
        viewed = ds_batch_new (2);
    ds_batch_t view;
    if (ds_batch_decode_view (data, size, viewed, &view) != rc)
        abort ();
    if (rc != DS_OK)
        return 0;
    uint32_t n = into->count;
    if (view.count != n || view.labelled != into->labelled || view.seq != into->seq
    ||  memcmp (view.ts, into->ts, n * sizeof *into->ts)
    ||  memcmp (view.src, into->src, n * sizeof *into->src)
    ||  memcmp (view.port, into->port, n * sizeof *into->port)
    ||  memcmp (view.proto, into->proto, n) || memcmp (view.flags, into->flags, n)
    ||  (into->labelled && (memcmp (view.class_id, into->class_id, n * 2)
                            || memcmp (view.service_id, into->service_id, n * 2))))
        abort ();
    for (int packed = 0; packed < 2; packed++)
        s_same (into, again, &buf, packed, data, size);
    if (!into->labelled) {
        //  label it as the labeler would: ids, dictionaries, the GT flag
        static const char *const classes [] = { "unknown", "mirai" };
        static const char *const services [] = { "unk_usr", "telnet", "ssh" };
        if (ds_batch_set_dicts (into, classes, 2, services, 3))
            abort ();
        for (uint32_t i = 0; i < into->count; i++) {
            into->class_id [i] = (uint16_t) (into->src [i].b [15] & 1);
            into->service_id [i] = (uint16_t) (into->port [i] % 3 + 3) % 3;
            into->flags [i] |= into->class_id [i] ? 8 : 0;
        }
        s_same (into, again, &buf, 2, data, size);
    }
    return 0;
}
