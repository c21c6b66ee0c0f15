/*
 * units.c - how sample values and percentages are written in reports: the
 * unit tables and scaling rules of pprof's measurement package, reproduced
 * so that every number we print is the one `go tool pprof` prints.
 *
 * It owns unit recognition ("nanoseconds", "ms", "bytes", "MB", ...),
 * scaling between units, automatic choice of a unit, and the text of values
 * and percentages. It knows nothing about profiles or graphs.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli/report/report.h"

struct unit {
	const char *name;        /* canonical name, as printed */
	const char *aliases[4];  /* lower case, NULL-terminated */
	double factor;           /* in base units */
};

struct unit_type {
	const struct unit *units;
	size_t nunits;
	struct unit dflt;
};

static const struct unit byte_units[] = {
	{"B", {"b", "byte"}, 1},
	{"kB", {"kb", "kbyte", "kilobyte"}, 1024.0},
	{"MB", {"mb", "mbyte", "megabyte"}, 1048576.0},
	{"GB", {"gb", "gbyte", "gigabyte"}, 1073741824.0},
	{"TB", {"tb", "tbyte", "terabyte"}, 1099511627776.0},
	{"PB", {"pb", "pbyte", "petabyte"}, 1125899906842624.0},
};

static const struct unit time_units[] = {
	{"ns", {"ns", "nanosecond"}, 1},
	{"us", {"\xce\xbcs", "us", "microsecond"}, 1e3},
	{"ms", {"ms", "millisecond"}, 1e6},
	{"s", {"s", "sec", "second"}, 1e9},
	{"hrs", {"hour", "hr"}, 3600e9},
};

static const struct unit gcu_units[] = {
	{"n*GCU", {"nanogcu"}, 1e-9},
	{"u*GCU", {"microgcu"}, 1e-6},
	{"m*GCU", {"milligcu"}, 1e-3},
	{"GCU", {"gcu"}, 1},
	{"k*GCU", {"kilogcu"}, 1e3},
	{"M*GCU", {"megagcu"}, 1e6},
	{"G*GCU", {"gigagcu"}, 1e9},
	{"T*GCU", {"teragcu"}, 1e12},
	{"P*GCU", {"petagcu"}, 1e15},
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const struct unit_type unit_types[] = {
	{byte_units, N(byte_units), {"B", {"b", "byte"}, 1}},
	{time_units, N(time_units), {"s", {NULL}, 1e9}},
	{gcu_units, N(gcu_units), {"GCU", {NULL}, 1}},
};

/*
 * measurement.sniffUnit: lower-case, drop one trailing "s" from names longer
 * than two bytes (so "nanoseconds" and "bytes" match), then look up aliases.
 * Lengths are in bytes, as in Go, so "μs" (3 bytes) becomes "μ" and matches
 * nothing - pprof behaves the same way.
 */
static const struct unit *sniff(const struct unit_type *ut, const char *name)
{
	char low[64];
	size_t n = strlen(name);
	if (n >= sizeof(low))
		return NULL;
	for (size_t i = 0; i < n; i++)
		low[i] = (char)tolower((unsigned char)name[i]);
	low[n] = '\0';
	if (n > 2 && low[n - 1] == 's')
		low[n - 1] = '\0';
	for (size_t i = 0; i < ut->nunits; i++)
		for (size_t a = 0; a < N(ut->units[i].aliases) && ut->units[i].aliases[a]; a++)
			if (strcmp(low, ut->units[i].aliases[a]) == 0)
				return &ut->units[i];
	return NULL;
}

static bool is_auto(const char *to)
{
	return strcmp(to, "minimum") == 0 || strcmp(to, "auto") == 0;
}

static bool convert(const struct unit_type *ut, int64_t value, const char *from,
		    const char *to, double *out, const char **unit)
{
	const struct unit *fu = sniff(ut, from);
	if (!fu)
		return false;
	double v = (double)value * fu->factor;
	if (is_auto(to)) {
		double f = 0;
		const char *name = NULL;
		for (size_t i = 0; i < ut->nunits; i++) {
			if (ut->units[i].factor >= f && v / ut->units[i].factor >= 1.0) {
				f = ut->units[i].factor;
				name = ut->units[i].name;
			}
		}
		if (f != 0) {
			*out = v / f;
			*unit = name;
			return true;
		}
		*out = v / ut->dflt.factor;
		*unit = ut->dflt.name;
		return true;
	}
	const struct unit *tu = sniff(ut, to);
	if (!tu) {
		*out = v / ut->dflt.factor;
		*unit = ut->dflt.name;
		return true;
	}
	*out = v / tu->factor;
	*unit = tu->name;
	return true;
}

double cprof__units_scale(int64_t value, const char *from, const char *to, const char **unit)
{
	/* Negate and recurse, except for INT64_MIN, whose negation overflows. */
	if (value < 0 && value != INT64_MIN) {
		double v = cprof__units_scale(-value, from, to, unit);
		return -v;
	}
	for (size_t i = 0; i < N(unit_types); i++) {
		double v;
		if (convert(&unit_types[i], value, from, to, &v, unit))
			return v;
	}
	if (strcmp(to, "count") == 0 || strcmp(to, "sample") == 0 || strcmp(to, "unit") == 0 ||
	    is_auto(to))
		*unit = "";
	else
		*unit = to;
	return (double)value;
}

char *cprof__units_label(char *buf, size_t len, int64_t value, const char *from, const char *to)
{
	const char *unit;
	double v = cprof__units_scale(value, from, to, &unit);
	char num[512];
	snprintf(num, sizeof(num), "%.2f", v);
	size_t n = strlen(num);
	if (n >= 3 && strcmp(num + n - 3, ".00") == 0)
		num[n - 3] = '\0';
	if (strcmp(num, "0") == 0 || strcmp(num, "-0") == 0)
		snprintf(buf, len, "0");
	else
		snprintf(buf, len, "%s%s", num, unit);
	return buf;
}

char *cprof__units_percentage(char *buf, size_t len, int64_t value, int64_t total)
{
	double ratio = 0;
	if (total != 0)
		ratio = fabs((double)value / (double)total) * 100;
	if (ratio >= 99.95 && ratio <= 100.05)
		snprintf(buf, len, "  100%%");
	else if (ratio >= 1.0)
		snprintf(buf, len, "%5.2f%%", ratio);
	else
		snprintf(buf, len, "%5.2g%%", ratio);
	return buf;
}
