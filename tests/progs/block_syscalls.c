/*
 * block_syscalls - blocking system calls of known length, each in a
 * function of its own (kept out of line). Built -O2 without frame pointers.
 *
 * True answers (block profile with blocking system calls on, label reason):
 *   pipe_reader     read waits ~200 ms for a writer       reason=read
 *   poll_waiter     poll times out after 150 ms           reason=poll
 *   select_waiter   select times out after 100 ms         reason=select
 *   nanosleeper     nanosleep 100 ms                      reason=nanosleep
 *   usleeper        usleep 100 ms                         reason=usleep
 *   accept_waiter   accept waits ~150 ms for a connection reason=accept
 *   quick_reads     10,000 reads of /dev/zero (microseconds in all)
 */
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int pipefd[2];

static void *late_writer(void *arg)
{
	struct timespec ts = {0, 200000000};
	nanosleep(&ts, NULL);
	if (write(pipefd[1], "x", 1) != 1)
		perror("write");
	return arg;
}

__attribute__((noinline)) void pipe_reader(void)
{
	char c;
	if (read(pipefd[0], &c, 1) != 1)
		perror("read");
}

/* Each call's result is used, so that the call is not a tail call (which
 * would leave the function's frame off the stack). */
static volatile long sink;

__attribute__((noinline)) void poll_waiter(void)
{
	sink += poll(NULL, 0, 150);
}

__attribute__((noinline)) void select_waiter(void)
{
	struct timeval tv = {0, 100000};
	sink += select(0, NULL, NULL, NULL, &tv);
}

__attribute__((noinline)) void nanosleeper(void)
{
	struct timespec ts = {0, 100000000};
	sink += nanosleep(&ts, NULL);
}

__attribute__((noinline)) void usleeper(void)
{
	sink += usleep(100000);
}

static int port;

static void *late_connect(void *arg)
{
	struct timespec ts = {0, 150000000};
	nanosleep(&ts, NULL);
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a;
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_port = htons((unsigned short)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(s, (struct sockaddr *)&a, sizeof a) != 0)
		perror("connect");
	close(s);
	return arg;
}

__attribute__((noinline)) void accept_waiter(int ls)
{
	int c = accept(ls, NULL, NULL);
	if (c >= 0)
		close(c);
	else
		perror("accept");
}

__attribute__((noinline)) void quick_reads(void)
{
	int fd = open("/dev/zero", O_RDONLY);
	char buf[64];
	for (int i = 0; i < 10000; i++)
		if (read(fd, buf, sizeof buf) != (ssize_t)sizeof buf)
			break;
	close(fd);
}

int main(void)
{
	if (pipe(pipefd) != 0)
		return 1;
	pthread_t t;
	pthread_create(&t, NULL, late_writer, NULL);
	pipe_reader();
	pthread_join(t, NULL);
	poll_waiter();
	select_waiter();
	nanosleeper();
	usleeper();

	int ls = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a;
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t alen = sizeof a;
	if (bind(ls, (struct sockaddr *)&a, sizeof a) != 0 || listen(ls, 4) != 0 ||
	    getsockname(ls, (struct sockaddr *)&a, &alen) != 0) {
		perror("listen");
		return 1;
	}
	port = ntohs(a.sin_port);
	pthread_create(&t, NULL, late_connect, NULL);
	accept_waiter(ls);
	pthread_join(t, NULL);
	close(ls);

	quick_reads();
	printf("done\n");
	return 0;
}
