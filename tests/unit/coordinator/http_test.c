/*
 * http_test.c - the console's address parser (dc_http_addr_parse): what
 * --http accepts and what it refuses, row by row.
 */
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <string.h>

#include "http.h"

typedef struct addr_row {
	const char *text;
	bool ok;
	int family;
	uint16_t port;
} addr_row;

/* one row per case (a plain table: Criterion's parameterized tests would
 * need every string copied into its shared memory) */
static const addr_row rows[] = {
        {"127.0.0.1:7480", true, AF_INET, 7480},
        {"localhost:7480", true, AF_INET, 7480},
        {"0.0.0.0:1", true, AF_INET, 1},
        {"[::1]:65535", true, AF_INET6, 65535},
        {"[::]:80", true, AF_INET6, 80},
        {"127.0.0.1:0", false, 0, 0},
        {"127.0.0.1:65536", false, 0, 0},
        {"127.0.0.1:07480", false, 0, 0},
        {"127.0.0.1:7480x", false, 0, 0},
        {"127.0.0.1:", false, 0, 0},
        {"127.0.0.1", false, 0, 0},
        {":7480", false, 0, 0},
        {"example.com:80", false, 0, 0},
        {"::1:80", false, 0, 0},
        {"[::1:80", false, 0, 0},
        {"[zz]:80", false, 0, 0},
        {"http://127.0.0.1:80", false, 0, 0},
        {"", false, 0, 0},
        {"1.2.3.4.5:80", false, 0, 0},
        {"[0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000]:80", false,
         0, 0},
};

static void check_row(const addr_row *row)
{
	struct sockaddr_storage sa;
	socklen_t len = 0;
	bool ok = dc_http_addr_parse(row->text, &sa, &len);

	cr_assert_eq(ok, row->ok, "'%s': %d", row->text, ok);
	if (!ok)
		return;
	cr_assert_eq(sa.ss_family, row->family, "'%s'", row->text);
	if (row->family == AF_INET)
		cr_assert_eq(ntohs(((struct sockaddr_in *)&sa)->sin_port),
		             row->port);
	else
		cr_assert_eq(ntohs(((struct sockaddr_in6 *)&sa)->sin6_port),
		             row->port);
}

Test(http, parses_addresses_row_by_row)
{
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		check_row(&rows[i]);
}

Test(http, refuses_null_and_overlong)
{
	struct sockaddr_storage sa;
	socklen_t len;
	char big[DC_HTTP_ADDR_MAX + 16];

	cr_assert_not(dc_http_addr_parse(NULL, &sa, &len));
	memset(big, '1', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big + sizeof(big) - 6, ":8080", 6);
	cr_assert_not(dc_http_addr_parse(big, &sa, &len));
}
