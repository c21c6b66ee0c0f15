/* popcount.h - the function being compared: the number of bits set in n words. */
#ifndef POPCOUNT_H
#define POPCOUNT_H

#include <stddef.h>
#include <stdint.h>

uint64_t count_bits(const uint64_t *words, size_t n);

#endif
