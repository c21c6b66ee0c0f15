// heap_cxx - C++ new and delete with known counts, for the heap profiler's
// tests (built by the test script with the C++ compiler).
#include <cstdio>
#include <vector>

struct Obj {
	char data[48];
};

static Obj *volatile sink;

__attribute__((noinline)) static void cxx_new(int n)
{
	for (int i = 0; i < n; i++) {
		sink = new Obj;
		delete sink;
	}
}

__attribute__((noinline)) static void cxx_new_array(int n)
{
	for (int i = 0; i < n; i++) {
		Obj *a = new Obj[10];
		sink = a;
		delete[] a;
	}
}

int main()
{
	cxx_new(1000);
	cxx_new_array(500);
	std::printf("cxx_new 1000 %d cxx_new_array 500 %d\n", 1000 * 48, 500 * 480);
	return 0;
}
