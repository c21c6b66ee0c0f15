/*
 * bench_http_client.c - many clients hammering a /debug/pprof endpoint:
 * N threads, each on a keep-alive connection, ask for the index page and a
 * profile in turn, as fast as the endpoint answers, until a stop file
 * appears. bench/http_bench.sh runs it against a busy program to measure
 * what that costs the program.
 *
 * Prints one line at the end: "requests=R ok=K errors=E".
 *
 * Usage: bench_http_client PORT THREADS STOPFILE [PATH...]
 *        (default paths: /debug/pprof/ and /debug/pprof/heap)
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int port;
static const char *stop_file;
static const char **paths;
static int npaths;
static atomic_long requests, ok, errors;

static int connect_to(void)
{
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (s < 0)
		return -1;
	int one = 1;
	setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	struct timeval tv = {10, 0};
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	if (connect(s, (struct sockaddr *)&a, sizeof a) != 0) {
		close(s);
		return -1;
	}
	return s;
}

/* One request on s; the status, or -1 when the connection failed. */
static int one_request(int s, const char *path)
{
	char req[512];
	int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: bench\r\n\r\n", path);
	if (send(s, req, (size_t)n, MSG_NOSIGNAL) != n)
		return -1;
	static __thread char buf[1 << 16];
	size_t got = 0;
	char *end = NULL;
	while (!end) {
		ssize_t r = recv(s, buf + got, sizeof buf - 1 - got, 0);
		if (r <= 0)
			return -1;
		got += (size_t)r;
		buf[got] = 0;
		end = strstr(buf, "\r\n\r\n");
		if (!end && got >= sizeof buf - 1)
			return -1;
	}
	int status = 0;
	sscanf(buf, "HTTP/1.1 %d", &status);
	const char *cl = strcasestr(buf, "\r\nContent-Length:");
	long len = cl && cl < end ? atol(cl + 17) : 0;
	long have = (long)(got - (size_t)(end + 4 - buf));
	while (have < len) {
		ssize_t r = recv(s, buf, sizeof buf, 0);
		if (r <= 0)
			return -1;
		have += r;
	}
	return status;
}

static void *client(void *arg)
{
	long id = (long)arg;
	int s = -1;
	for (long i = id; access(stop_file, F_OK) != 0; i++) {
		if (s < 0 && (s = connect_to()) < 0) {
			atomic_fetch_add(&errors, 1);
			struct timespec ts = {0, 10000000};
			nanosleep(&ts, NULL);
			continue;
		}
		int st = one_request(s, paths[i % npaths]);
		atomic_fetch_add(&requests, 1);
		if (st == 200 || st == 404)
			atomic_fetch_add(&ok, 1);
		else
			atomic_fetch_add(&errors, 1);
		if (st < 0) {
			close(s);
			s = -1;
		}
	}
	if (s >= 0)
		close(s);
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: bench_http_client PORT THREADS STOPFILE [PATH...]\n");
		return 2;
	}
	port = atoi(argv[1]);
	int n = atoi(argv[2]);
	stop_file = argv[3];
	static const char *dflt[] = {"/debug/pprof/", "/debug/pprof/heap"};
	paths = argc > 4 ? (const char **)argv + 4 : dflt;
	npaths = argc > 4 ? argc - 4 : 2;
	pthread_t *th = calloc((size_t)n, sizeof *th);
	for (long i = 0; i < n; i++)
		pthread_create(&th[i], NULL, client, (void *)i);
	for (int i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	printf("requests=%ld ok=%ld errors=%ld\n", atomic_load(&requests), atomic_load(&ok), atomic_load(&errors));
	return 0;
}
