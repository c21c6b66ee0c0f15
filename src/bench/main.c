/*
 * main.c - the main() that libcprof-bench gives a benchmark program: it
 * only hands over to cprof_bench_main(). It sits in an object of its own so
 * that, from the static library, it is linked only into programs that do
 * not define main themselves (those call cprof_bench_main from theirs).
 */
#include "bench/bench.h"

CPROF_API int main(int argc, char **argv)
{
	return cprof_bench_main(argc, argv);
}
