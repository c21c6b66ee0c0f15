/*
 * path.h - file path helpers with Go's semantics, for reports that must
 * print paths exactly as go tool pprof does.
 */
#ifndef CPROF_COMMON_PATH_H
#define CPROF_COMMON_PATH_H

/*
 * Go's filepath.Clean: the lexically shortest path equivalent to path
 * ("a//b/./../c" -> "a/c", "" -> "."). malloc'd; NULL on out of memory.
 */
char *cprof__path_clean(const char *path);

#endif
