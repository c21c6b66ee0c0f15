/*
 * http_api_linked - the endpoint's C API, linked in (-lcprof), no
 * environment: cprof_http_start's refusals (a bad address, a non-loopback
 * address without CPROF_HTTP_TOKEN, a second start), cprof_http_port, a
 * request to itself, cprof_http_stop (and stopping twice), no file
 * descriptor left behind by a start and stop, and a restart.
 *
 * Prints "ok <check> ..." or "bad <check> got=.. want=..", one per check.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cprof.h"

static int failed;

static void expect(const char *check, long got, long want)
{
	if (got == want) {
		printf("ok %s got=%ld\n", check, got);
	} else {
		printf("bad %s got=%ld want=%ld\n", check, got, want);
		failed = 1;
	}
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;
	if (!d)
		return -1;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* GET path from our own endpoint; the status code, or -1. */
static int get_self(int port, const char *path, char *body, size_t bodylen)
{
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof a) != 0)
		return -1;
	char req[256];
	int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", path);
	if (write(s, req, (size_t)n) != n)
		return -1;
	char buf[8192];
	size_t got = 0;
	ssize_t r;
	while (got < sizeof buf - 1 && (r = read(s, buf + got, sizeof buf - 1 - got)) > 0)
		got += (size_t)r;
	buf[got] = 0;
	close(s);
	int status = -1;
	sscanf(buf, "HTTP/1.1 %d", &status);
	const char *b = strstr(buf, "\r\n\r\n");
	snprintf(body, bodylen, "%s", b ? b + 4 : "");
	return status;
}

int main(void)
{
	unsetenv("CPROF_HTTP_TOKEN");
	int fds0 = count_fds();
	expect("port_before_start", cprof_http_port(), -ESRCH);
	expect("stop_before_start", cprof_http_stop(), -ESRCH);
	expect("start_bad_address", cprof_http_start("nonsense"), -EINVAL);
	expect("start_bad_port", cprof_http_start("127.0.0.1:99999"), -EINVAL);
	expect("start_wildcard_without_token", cprof_http_start("0.0.0.0:0"), -EACCES);
	expect("start_empty_host_without_token", cprof_http_start(":0"), -EACCES);
	expect("start_loopback", cprof_http_start("127.0.0.1:0"), 0);
	int port = cprof_http_port();
	expect("port_positive", port > 0, 1);
	expect("start_twice", cprof_http_start("127.0.0.1:0"), -EBUSY);
	char body[4096];
	expect("get_index", get_self(port, "/debug/pprof/", body, sizeof body), 200);
	expect("get_unknown", get_self(port, "/debug/pprof/nothing", body, sizeof body), 404);
	expect("stop", cprof_http_stop(), 0);
	expect("stop_twice", cprof_http_stop(), -ESRCH);
	expect("port_after_stop", cprof_http_port(), -ESRCH);
	expect("fds_after_stop", count_fds(), fds0);
	expect("restart_ipv6_loopback", cprof_http_start("[::1]:0") == 0 || cprof_http_start("127.0.0.1:0") == 0, 1);
	expect("get_after_restart", cprof_http_port() > 0, 1);
	expect("stop_again", cprof_http_stop(), 0);
	return failed;
}
