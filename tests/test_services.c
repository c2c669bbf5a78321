/*  libs: ds_labeler ds_proto ds_common */
/*  test_services.c - the service table: default classes, fallbacks, parse errors. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "services.h"
#include "record.h"

static const char *
s_name (const ds_services_t *table, int32_t port, int proto)
{
    return ds_services_names (table) [ds_services_lookup (table, port, proto)];
}

//  DESIGN §4: the twelve classes with the ports it lists, and the fallbacks.
static const struct {
    int32_t port;
    int proto;
    const char *service;
} s_default_cases [] = {
    { 20, DS_PROTO_TCP, "ftp" }, { 21, DS_PROTO_TCP, "ftp" },
    { 22, DS_PROTO_TCP, "ssh" }, { 2222, DS_PROTO_TCP, "ssh" },
    { 23, DS_PROTO_TCP, "telnet" }, { 2323, DS_PROTO_TCP, "telnet" },
    { 25, DS_PROTO_TCP, "mail" }, { 465, DS_PROTO_TCP, "mail" }, { 587, DS_PROTO_TCP, "mail" },
    { 110, DS_PROTO_TCP, "mail" }, { 143, DS_PROTO_TCP, "mail" }, { 993, DS_PROTO_TCP, "mail" },
    { 995, DS_PROTO_TCP, "mail" },
    { 53, DS_PROTO_UDP, "dns" }, { 53, DS_PROTO_TCP, "dns" },
    { 80, DS_PROTO_TCP, "http" }, { 443, DS_PROTO_TCP, "http" }, { 8080, DS_PROTO_TCP, "http" },
    { 8443, DS_PROTO_TCP, "http" }, { 8000, DS_PROTO_TCP, "http" }, { 8888, DS_PROTO_TCP, "http" },
    { 88, DS_PROTO_TCP, "kerberos" }, { 464, DS_PROTO_UDP, "kerberos" },
    { 137, DS_PROTO_UDP, "netbios" }, { 138, DS_PROTO_UDP, "netbios" }, { 139, DS_PROTO_TCP, "netbios" },
    { 445, DS_PROTO_TCP, "netbios-smb" },
    { 1080, DS_PROTO_TCP, "proxy" }, { 3128, DS_PROTO_TCP, "proxy" }, { 8118, DS_PROTO_TCP, "proxy" },
    { 1433, DS_PROTO_TCP, "dbs" }, { 1521, DS_PROTO_TCP, "dbs" }, { 3306, DS_PROTO_TCP, "dbs" },
    { 5432, DS_PROTO_TCP, "dbs" }, { 6379, DS_PROTO_TCP, "dbs" }, { 9200, DS_PROTO_TCP, "dbs" },
    { 11211, DS_PROTO_TCP, "dbs" }, { 27017, DS_PROTO_TCP, "dbs" },
    { 6881, DS_PROTO_TCP, "p2p" }, { 6889, DS_PROTO_UDP, "p2p" }, { 4662, DS_PROTO_TCP, "p2p" },
    //  fallbacks
    { DS_PORT_NONE, DS_PROTO_ICMP, "icmp" }, { DS_PORT_NONE, DS_PROTO_GRE, "icmp" },
    { DS_PORT_NONE, DS_PROTO_OTH, "icmp" },
    { 0, DS_PROTO_TCP, "unk_sys" }, { 1023, DS_PROTO_TCP, "unk_sys" }, { 23, DS_PROTO_UDP, "unk_sys" },
    { 445, DS_PROTO_OTH, "unk_sys" },
    { 1024, DS_PROTO_TCP, "unk_usr" }, { 5555, DS_PROTO_TCP, "unk_usr" },
    { 49151, DS_PROTO_UDP, "unk_usr" },
    { 49152, DS_PROTO_TCP, "unk_eph" }, { 65535, DS_PROTO_UDP, "unk_eph" },
    { 6890, DS_PROTO_TCP, "unk_usr" },
};

static void
test_default_table (void **state)
{
    (void) state;
    char err [256];
    ds_services_t *table = ds_services_load (NULL, err, sizeof err);
    assert_non_null (table);
    for (size_t i = 0; i < sizeof s_default_cases / sizeof *s_default_cases; i++) {
        const char *got = s_name (table, s_default_cases [i].port, s_default_cases [i].proto);
        if (strcmp (got, s_default_cases [i].service) != 0)
            fail_msg ("%d/%s -> %s, expected %s", s_default_cases [i].port,
                      ds_proto_name (s_default_cases [i].proto), got, s_default_cases [i].service);
    }
    //  Every one of DarkVec's twelve classes is in the dictionary, once.
    const char *twelve [] = { "ftp", "ssh", "telnet", "mail", "dns", "http", "kerberos",
                              "netbios", "netbios-smb", "proxy", "dbs", "p2p" };
    for (size_t i = 0; i < 12; i++) {
        int found = 0;
        for (uint32_t j = 0; j < ds_services_count (table); j++)
            found += strcmp (ds_services_names (table) [j], twelve [i]) == 0;
        assert_int_equal (found, 1);
    }
    //  Out-of-range input never reads outside the table.
    assert_string_equal (s_name (table, 70000, DS_PROTO_TCP), "icmp");
    assert_string_equal (s_name (table, 23, 99), "unk_sys");
    //  The shipped file is the compiled-in table.
    const char *source = getenv ("DS_SOURCE");
    if (source) {
        char path [1024];
        snprintf (path, sizeof path, "%s/services/labeler/services.json", source);
        ds_services_t *file = ds_services_load (path, err, sizeof err);
        assert_non_null (file);
        assert_int_equal (ds_services_entries (file), ds_services_entries (table));
        for (int proto = 0; proto < DS_PROTO_COUNT; proto++)
            for (int32_t port = -1; port < 65536; port++)
                assert_string_equal (s_name (file, port, proto), s_name (table, port, proto));
        ds_services_destroy (&file);
    }
    //  Batch form agrees with the single form.
    int32_t ports [] = { 23, DS_PORT_NONE, 50000, 445 };
    uint8_t protos [] = { DS_PROTO_TCP, DS_PROTO_ICMP, DS_PROTO_UDP, DS_PROTO_TCP };
    uint16_t ids [4];
    ds_services_lookup_many (table, ports, protos, 4, ids);
    for (int i = 0; i < 4; i++)
        assert_int_equal (ids [i], ds_services_lookup (table, ports [i], protos [i]));
    ds_services_destroy (&table);
    assert_null (table);
    ds_services_destroy (&table);
}

static void
test_custom_table (void **state)
{
    (void) state;
    char err [256];
    const char *text = "{\n  \"23/TCP\": \"telnet\",\n  \"-/icmp\": \"ping\",\n"
                       "  \"23/tcp\": \"telnet\",\n  \"8080/tcp\": \"caf\\u00e9\\/x\"\n}\n";
    ds_services_t *table = ds_services_parse (text, strlen (text), "custom.json", err, sizeof err);
    if (!table)
        fail_msg ("%s", err);
    assert_int_equal (ds_services_entries (table), 3);
    assert_string_equal (s_name (table, 23, DS_PROTO_TCP), "telnet");
    assert_string_equal (s_name (table, DS_PORT_NONE, DS_PROTO_ICMP), "ping");
    assert_string_equal (s_name (table, DS_PORT_NONE, DS_PROTO_GRE), "icmp");
    assert_string_equal (s_name (table, 8080, DS_PROTO_TCP), "caf\xc3\xa9/x");
    assert_string_equal (s_name (table, 22, DS_PROTO_TCP), "unk_sys");
    ds_services_destroy (&table);
    table = ds_services_parse ("{}", 2, "empty.json", err, sizeof err);
    assert_non_null (table);
    assert_string_equal (s_name (table, 80, DS_PROTO_TCP), "unk_sys");
    ds_services_destroy (&table);
}

static void
test_parse_errors (void **state)
{
    (void) state;
    static const struct {
        const char *text;
        const char *where;          //  expected "origin:line" prefix + reason
        const char *why;
    } cases [] = {
        { "", "bad.json:1:", "expected a JSON object" },
        { "[]", "bad.json:1:", "expected a JSON object" },
        { "{\n\"23/tcp\": \"telnet\",\n}", "bad.json:3:", "expected a string" },
        { "{\"23/tcp\": 5}", "bad.json:1:", "must be a string" },
        { "{\"23/tcp\": {\"a\": \"b\"}}", "bad.json:1:", "must be a string" },
        { "{\n\n\"abc\": \"x\"}", "bad.json:3:", "not \"<port>/<proto>\"" },
        { "{\"70000/tcp\": \"x\"}", "bad.json:1:", "not \"<port>/<proto>\"" },
        { "{\"23/sctp\": \"x\"}", "bad.json:1:", "not \"<port>/<proto>\"" },
        { "{\"/tcp\": \"x\"}", "bad.json:1:", "not \"<port>/<proto>\"" },
        { "{\"23/tcp\": \"a\",\n \"23/TCP\": \"b\"}", "bad.json:2:", "repeats" },
        { "{\"23/tcp\": \"a\"} x", "bad.json:1:", "text after" },
        { "{\"23/tcp\": \"a\"", "bad.json:1:", "expected ',' or '}'" },
        { "{\"23/tcp\": \"a\\q\"}", "bad.json:1:", "bad escape" },
        { "{\"23/tcp\": \"a\\u00\"}", "bad.json:1:", "escape" },
        { "{\"23/tcp\": \"\"}", "bad.json:1:", "bad service name" },
        { "{\"23/tcp\": \"a b\"}", "bad.json:1:", "bad service name" },
        { "{\"23/tcp\" \"a\"}", "bad.json:1:", "expected ':'" },
        { "{\"23/tcp\": \"unterminated}", "bad.json:1:", "unterminated" },
        { "{\"23/tcp\": \"a\n\"}", "bad.json:1:", "control character" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char err [256] = "";
        ds_services_t *table = ds_services_parse (cases [i].text, strlen (cases [i].text),
                                                  "bad.json", err, sizeof err);
        if (table || strncmp (err, cases [i].where, strlen (cases [i].where)) != 0
        ||  !strstr (err, cases [i].why))
            fail_msg ("case %zu: got '%s', expected '%s ... %s'", i, err, cases [i].where,
                      cases [i].why);
    }
    char err [256];
    assert_null (ds_services_load ("/nonexistent/services.json", err, sizeof err));
    assert_non_null (strstr (err, "/nonexistent/services.json"));
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_default_table),
        cmocka_unit_test (test_custom_table),
        cmocka_unit_test (test_parse_errors),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
