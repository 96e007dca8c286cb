/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unix endpoints for real: listen, connect, a busy path refused, a stale
 * socket file replaced, a regular file in the way left alone.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>

#include "addr.h"

static char err[256];

static void
unix_listen_connect_busy_stale(void **state)
{
	char dir[] = "/tmp/zcs-addr-XXXXXX";
	char text[200];
	struct zcs_addr a;
	int lfd, lfd2, cfd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(text, sizeof(text), "unix:%s/s.sock", dir);
	assert_int_equal(zcs_addr_parse(text, true, &a, err, sizeof(err)), 0);

	/* nothing there: connect names the address and the reason */
	cfd = zcs_addr_connect(&a, false, err, sizeof(err));
	assert_int_equal(cfd, -ENOENT);
	assert_non_null(strstr(err, text));

	lfd = zcs_addr_listen(&a, err, sizeof(err));
	assert_true(lfd >= 0);
	cfd = zcs_addr_connect(&a, true, err, sizeof(err));
	assert_true(cfd >= 0);
	close(cfd);

	/* a second listener on a live path is refused, the first keeps it */
	lfd2 = zcs_addr_listen(&a, err, sizeof(err));
	assert_int_equal(lfd2, -EADDRINUSE);
	assert_non_null(strstr(err, "busy"));
	assert_non_null(strstr(err, a.path));

	/* a stale socket file (listener gone) is replaced */
	close(lfd);
	lfd2 = zcs_addr_listen(&a, err, sizeof(err));
	assert_true(lfd2 >= 0);
	close(lfd2);
	unlink(a.path);

	/* a regular file in the way is not deleted */
	FILE *fp = fopen(a.path, "w");
	assert_non_null(fp);
	fclose(fp);
	assert_int_equal(zcs_addr_listen(&a, err, sizeof(err)), -EEXIST);
	assert_non_null(strstr(err, "not a socket"));
	struct stat st;
	assert_int_equal(stat(a.path, &st), 0);
	unlink(a.path);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(unix_listen_connect_busy_stale),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
