/*
 * stats.c - the statistics of `cprof benchstat`: the median and its
 * distribution-free confidence interval (order statistics of Binomial(n,
 * 1/2), exact up to n = 30 and by the normal approximation above), the
 * two-sided Mann-Whitney U test (the exact distribution conditioned on the
 * ties for small samples, the tie-corrected normal approximation for large
 * ones), the "assume=exact" summaries, geometric means, and the text of each
 * cell (± range, delta, p and n, SI or IEC scaled numbers). It does not know
 * about tables or files.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/benchstat/benchstat.h"

double cprof__bs_quantile(const double *x, int n, double q)
{
	if (n == 0)
		return NAN;
	if (q == 0 || n == 1)
		return x[0];
	if (q == 1)
		return x[n - 1];
	double N = n;
	double h = 1.0 / 3 + q * (N + 1.0 / 3);
	double kf = floor(h), frac = h - kf;
	int k = (int)kf;
	if (k <= 0)
		return x[0];
	if (k >= n)
		return x[n - 1];
	return x[k - 1] + frac * (x[k] - x[k - 1]);
}

/*
 * Go's math.Log and math.Exp as they run on x86-64 (the assembly versions,
 * Exp's fused multiply-add path for CPUs with FMA): glibc's log and exp
 * differ in the last bit for about one geomean in eight, which would show in
 * CSV output's shortest round-trip numbers. Same operations, same order, and
 * no contraction into fused multiply-adds other than the explicit ones.
 */
#define NO_CONTRACT __attribute__((optimize("fp-contract=off")))

NO_CONTRACT static double go_log(double x)
{
	uint64_t b;
	memcpy(&b, &x, sizeof(b));
	if ((b & ~(1ull << 63)) == 0)
		return -INFINITY;
	if ((int64_t)b < 0)
		return NAN;
	if (b >= 0x7FF0000000000000ull)
		return x;
	uint64_t mb = (b & 0x000FFFFFFFFFFFFFull) | 0x3FE0000000000000ull;
	double f1, k = (double)((int)((b >> 52) & 0x7FF) - 0x3FE);
	memcpy(&f1, &mb, sizeof(f1));
	if (!(7.07106781186547524401e-01 < f1)) {
		k -= 1;
		f1 *= 2;
	}
	double f = f1 - 1;
	double s = f / (2.0 + f);
	double s2 = s * s, s4 = s2 * s2;
	double t1 = s2 * (((1.479819860511658591e-01 * s4 + 1.818357216161805012e-01) * s4 + 2.857142874366239149e-01) * s4 +
			  6.666666666666735130e-01);
	double t2 = s4 * ((1.531383769920937332e-01 * s4 + 2.222219843214978396e-01) * s4 + 3.999999999940941908e-01);
	double R = t1 + t2;
	double hfsq = 0.5 * f * f;
	double a = s * (R + hfsq) + k * 1.90821492927058770002e-10;
	double c = (hfsq - a) - f;
	return k * 6.93147180369123816490e-01 - c;
}

NO_CONTRACT static double go_exp(double x)
{
	if (isnan(x) || isinf(x))
		return isinf(x) && x < 0 ? 0 : x;
	if (x > 7.09782712893384e+02)
		return INFINITY;
	double t = 1.4426950408889634073599246810018920 * x;
	int k = (t >= -2147483648.0 && t < 2147483648.0) ? (int)lrint(t) : INT32_MIN;
	double kd = k;
	x = fma(-kd, 0.69314718055966295651160180568695068359375, x);
	x = fma(-kd, 0.28235290563031577122588448175013436025525412068e-12, x);
	x *= 0.0625;
	double p = 2.4801587301587301587e-5;
	p = fma(p, x, 1.9841269841269841270e-4);
	p = fma(p, x, 1.3888888888888888889e-3);
	p = fma(p, x, 8.3333333333333333333e-3);
	p = fma(p, x, 4.1666666666666666667e-2);
	p = fma(p, x, 1.6666666666666666667e-1);
	p = fma(p, x, 0.5);
	p = fma(p, x, 1.0);
	x = x * p;
	for (int i = 0; i < 3; i++) {
		p = x + 2.0;
		x = x * p;
	}
	p = x + 2.0;
	x = fma(x, p, 1.0);
	long long bx = (long long)k + 0x3FF;
	if (bx <= 0) {
		if (bx < -52)
			return 0;
		x *= ldexp(1.0, (int)(bx + 0x3FE) - 0x3FF);
		bx = 1;
	} else if (bx >= 0x7FF) {
		return INFINITY;
	}
	return x * ldexp(1.0, (int)bx - 0x3FF);
}

/* ---- median confidence interval ---- */

static double choose(int n, int k)
{
	if (k == 0 || k == n)
		return 1;
	if (k < 0 || n < k)
		return 0;
	if (n <= 20) {
		/* exact: every factorial up to 20! is a double without rounding */
		double r = 1;
		for (int i = 1; i <= k; i++)
			r = r * (n - k + i) / i;
		return round(r);
	}
	return go_exp(lgamma(n + 1.0) - lgamma(k + 1.0) - lgamma(n - k + 1.0));
}

static double binom_pmf(int n, int k)
{
	if (k < 0 || k > n)
		return 0;
	return choose(n, k) * pow(0.5, k) * pow(0.5, n - k);
}

static double norm_cdf(double x, double mu, double sigma)
{
	return 0.5 * erfc(-(x - mu) / (sigma * M_SQRT2));
}

/* Inverse of the standard normal CDF: Acklam's rational approximation, one Halley step. */
static double norm_inv(double p)
{
	static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
				   1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00};
	static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
				   6.680131188771972e+01, -1.328068155288572e+01};
	static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
				   -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00};
	static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
				   3.754408661907416e+00};
	const double plow = 0.02425, phigh = 1 - plow;
	double x;
	if (p <= 0)
		return -INFINITY;
	if (p >= 1)
		return INFINITY;
	if (p < plow) {
		double q = sqrt(-2 * go_log(p));
		x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
		    ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
	} else if (p <= phigh) {
		double q = p - 0.5, r = q * q;
		x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
		    (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
	} else {
		double q = sqrt(-2 * go_log(1 - p));
		x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
		    ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
	}
	double e = 0.5 * erfc(-x / M_SQRT2) - p;
	double u = e * sqrt(2 * M_PI) * go_exp(x * x / 2);
	return x - u / (1 + x * u / 2);
}

/*
 * The reference computes C(n,k) above n = 20 through lgamma, which is not
 * symmetric in floating point and moves some ties between left and right.
 * These are its orders at the two usual levels (n = 1..60), so the output
 * matches whatever libm does; other levels are computed.
 */
static const unsigned char ci95[60][2] = {
	{0, 2}, {0, 3}, {0, 4}, {0, 5}, {0, 5}, {1, 6}, {1, 7}, {1, 7}, {2, 8}, {2, 9}, {2, 9}, {3, 10},
	{3, 11}, {3, 11}, {4, 12}, {4, 12}, {5, 13}, {5, 14}, {5, 14}, {6, 15}, {6, 16}, {6, 16}, {7, 17},
	{8, 18}, {8, 18}, {8, 19}, {8, 19}, {9, 20}, {9, 20}, {10, 21}, {10, 22}, {10, 22}, {11, 23},
	{11, 23}, {12, 24}, {12, 24}, {13, 25}, {13, 26}, {13, 26}, {14, 27}, {14, 27}, {15, 28}, {15, 29},
	{15, 29}, {16, 30}, {16, 30}, {17, 31}, {17, 31}, {18, 32}, {18, 32}, {19, 33}, {19, 34}, {19, 34},
	{20, 35}, {20, 35}, {21, 36}, {21, 36}, {22, 37}, {22, 38}, {22, 38}};
static const unsigned char ci99[60][2] = {
	{0, 2}, {0, 3}, {0, 4}, {0, 5}, {0, 6}, {0, 7}, {0, 7}, {1, 8}, {1, 9}, {1, 10}, {1, 10}, {2, 11},
	{2, 12}, {2, 12}, {3, 13}, {3, 14}, {3, 14}, {4, 15}, {4, 16}, {4, 16}, {5, 17}, {5, 18}, {5, 18},
	{6, 19}, {6, 19}, {7, 20}, {7, 21}, {8, 22}, {8, 22}, {8, 23}, {8, 23}, {9, 24}, {9, 25}, {9, 25},
	{10, 26}, {10, 26}, {11, 27}, {11, 28}, {11, 28}, {12, 29}, {12, 29}, {13, 30}, {13, 31}, {13, 31},
	{14, 32}, {14, 32}, {15, 33}, {15, 34}, {15, 34}, {16, 35}, {16, 35}, {17, 36}, {17, 36}, {18, 37},
	{18, 38}, {18, 38}, {19, 39}, {19, 39}, {20, 40}, {20, 41}};

void cprof__bs_median_ci_computed(int n, double conf, int *lo, int *hi)
{
	int l, r;
	if (conf >= 1) {
		*lo = 0;
		*hi = n + 1;
		return;
	}
	if (n <= 30) {
		int x = (int)(ceil((n + 1) * 0.5) - 1);
		double accum = binom_pmf(n, x);
		l = x;
		r = x + 1;
		double lp = binom_pmf(n, l - 1), rp = binom_pmf(n, r);
		while (accum < conf && (lp > 0 || rp > 0)) {
			if (lp >= rp) {
				accum += lp;
				l--;
				lp = binom_pmf(n, l - 1);
			} else {
				accum += rp;
				r++;
				rp = binom_pmf(n, r);
			}
		}
	} else {
		double mu = n * 0.5, sigma = sqrt(n * 0.5 * 0.5);
		double l1 = norm_inv((1 - conf) / 2) * sigma + mu;
		double r1 = 2 * mu - l1;
		l = (int)floor(floor(l1 - 0.5) + 0.5) + 1;
		r = (int)floor(ceil(r1 - 0.5) + 0.5) + 1;
		double c = norm_cdf(r - 0.5, mu, sigma) - norm_cdf(l - 0.5, mu, sigma);
		double cb = norm_cdf(r - 1 - 0.5, mu, sigma) - norm_cdf(l - 0.5, mu, sigma);
		if (cb >= conf && cb < c)
			r = r - 1;
	}
	if (l < 0)
		l = 0;
	if (r > n + 1)
		r = n + 1;
	*lo = l;
	*hi = r;
}

void cprof__bs_median_ci(int n, double conf, int *lo, int *hi)
{
	if (n >= 1 && n <= 60 && (conf == 0.95 || conf == 0.99)) {
		const unsigned char *e = conf == 0.95 ? ci95[n - 1] : ci99[n - 1];
		*lo = e[0];
		*hi = e[1];
		return;
	}
	cprof__bs_median_ci_computed(n, conf, lo, hi);
}

/* The smallest n in 2..50 whose interval is finite; *op is ">=" or ">" (then 50). */
static int median_samples(double conf, const char **op)
{
	for (int n = 2; n <= 50; n++) {
		int l, r;
		cprof__bs_median_ci(n, conf, &l, &r);
		if (l > 0 && r <= n) {
			*op = ">=";
			return n;
		}
	}
	*op = ">";
	return 50;
}

/* ---- Mann-Whitney U ---- */

struct tagged {
	double v;
	int s;
};

static int cmp_tagged(const void *a, const void *b)
{
	double x = ((const struct tagged *)a)->v, y = ((const struct tagged *)b)->v;
	if (isnan(x) || isnan(y)) /* NaN first, as Go's sort.Float64s */
		return isnan(y) - isnan(x);
	return x < y ? -1 : x > y;
}

static void *zalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);
	if (!p) {
		fputs("cprof: benchstat: out of memory\n", stderr);
		exit(1);
	}
	return p;
}

/* C(n, k) as a double, by the multiplicative formula. */
static double binom(int n, int k)
{
	double r = 1;
	for (int i = 1; i <= k; i++)
		r = r * (n - k + i) / i;
	return r;
}

/*
 * P(U <= u) without ties: f(m, n, u), the number of orderings of m and n
 * values whose U is u, is f(m-1, n, u-n) + f(m, n-1, u); rows over m, kept
 * for every n <= n2 and u <= floor(u).
 */
static double cdf_noties(int n1, int n2, double u)
{
	if (u < 0)
		return 0;
	int L = (int)floor(u);
	size_t W = (size_t)L + 1;
	double *prev = zalloc((size_t)(n2 + 1) * W, sizeof(double));
	double *cur = zalloc((size_t)(n2 + 1) * W, sizeof(double));
	for (int n = 0; n <= n2; n++)
		prev[(size_t)n * W] = 1; /* m = 0: one ordering, U = 0 */
	for (int m = 1; m <= n1; m++) {
		memset(cur, 0, sizeof(double) * (size_t)(n2 + 1) * W);
		cur[0] = 1; /* n = 0 */
		for (int n = 1; n <= n2; n++)
			for (int v = 0; v <= L; v++)
				cur[(size_t)n * W + v] = (v >= n ? prev[(size_t)n * W + v - n] : 0) + cur[(size_t)(n - 1) * W + v];
		double *t = prev;
		prev = cur;
		cur = t;
	}
	double below = 0;
	for (int v = 0; v <= L; v++)
		below += prev[(size_t)n2 * W + v];
	free(prev);
	free(cur);
	return below / binom(n1 + n2, n1);
}

/*
 * P(U1 <= u) given the tie groups (sizes t_j, twice their midranks m_j):
 * choosing a_j of each group's values for sample 1 has weight C(t_j, a_j)
 * and adds a_j*m_j to 2*R1; counted up to the bound only.
 */
static double cdf_ties(int n1, int ng, const int *gsize, const int *gmid2, double u)
{
	double lim = 2 * u + (double)n1 * (n1 + 1); /* on 2*R1 */
	if (lim < 0)
		return 0;
	int N = 0;
	for (int g = 0; g < ng; g++)
		N += gsize[g];
	int L = (int)floor(lim);
	size_t W = (size_t)L + 1;
	double *dp = zalloc((size_t)(n1 + 1) * W, sizeof(double));
	double *row = zalloc((size_t)N + 1, sizeof(double));
	dp[0] = 1;
	int cnt = 0;
	for (int g = 0; g < ng; g++) {
		int t = gsize[g], w = gmid2[g];
		for (int c = 0; c <= t; c++)
			row[c] = binom(t, c);
		int amax = cnt + t < n1 ? cnt + t : n1;
		for (int a = amax; a >= 1; a--) {
			for (int v = L; v >= 0; v--) {
				double add = 0;
				for (int c = 1; c <= t && c <= a && c * w <= v; c++)
					add += dp[(size_t)(a - c) * W + (size_t)(v - c * w)] * row[c];
				dp[(size_t)a * W + v] += add;
			}
		}
		cnt += t;
	}
	double below = 0;
	for (int v = 0; v <= L; v++)
		below += dp[(size_t)n1 * W + v];
	free(dp);
	free(row);
	return below / binom(N, n1);
}

int cprof__bs_utest(const double *x1, int n1, const double *x2, int n2, double *p, double *u1out)
{
	int N = n1 + n2;
	struct tagged *m = malloc(sizeof(*m) * (size_t)N);
	int *gsize = malloc(sizeof(int) * (size_t)N);
	int *gmid2 = malloc(sizeof(int) * (size_t)N); /* twice the midrank */
	if (!m || !gsize || !gmid2) {
		fputs("cprof: benchstat: out of memory\n", stderr);
		exit(1);
	}
	for (int i = 0; i < n1; i++)
		m[i] = (struct tagged){x1[i], 0};
	for (int i = 0; i < n2; i++)
		m[n1 + i] = (struct tagged){x2[i], 1};
	qsort(m, (size_t)N, sizeof(*m), cmp_tagged);
	int ng = 0, ties = 0;
	long long r1x2 = 0; /* twice the rank sum of sample 1 */
	double tiesum = 0;
	for (int i = 0; i < N;) {
		int j = i + 1; /* a NaN is a group of its own */
		while (j < N && m[j].v == m[i].v)
			j++;
		int t = j - i, mid2 = (i + 1) + j;
		for (int k = i; k < j; k++)
			if (m[k].s == 0)
				r1x2 += mid2;
		gsize[ng] = t;
		gmid2[ng] = mid2;
		ng++;
		if (t > 1) {
			ties = 1;
			tiesum += (double)t * t * t - t;
		}
		i = j;
	}
	free(m);
	if (ng == 1) {
		free(gsize);
		free(gmid2);
		return -1;
	}
	double U1 = r1x2 / 2.0 - n1 * (n1 + 1) / 2.0;
	double U2 = (double)n1 * n2 - U1;
	*u1out = U1;
	if ((!ties && n1 <= 50 && n2 <= 50) || (ties && n1 <= 25 && n2 <= 25)) {
		if (U1 == U2) {
			*p = 1;
		} else {
			double umin = U1 < U2 ? U1 : U2;
			*p = 2 * (ties ? cdf_ties(n1, ng, gsize, gmid2, umin) : cdf_noties(n1, n2, umin));
		}
	} else {
		double mu = (double)n1 * n2 / 2;
		double sigma = sqrt((double)n1 * n2 * ((N + 1) - tiesum / ((double)N * (N - 1))) / 12);
		double numer = U1 - mu;
		if (numer > 0)
			numer -= 0.5;
		else if (numer < 0)
			numer += 0.5;
		double z = numer / sigma;
		double c = norm_cdf(z, 0, 1);
		*p = 2 * (c < 1 - c ? c : 1 - c);
	}
	free(gsize);
	free(gmid2);
	return 0;
}

/* ---- summaries and comparisons ---- */

void cprof__bs_summarize(struct bs_arena *a, const double *x, int n, double conf, int exact, struct bs_summary *s)
{
	memset(s, 0, sizeof(*s));
	if (exact) {
		double val = x[0], mode = x[0];
		int count = 1, modecount = 1;
		for (int i = 1; i < n; i++) {
			if (x[i] == val) {
				if (++count > modecount) {
					mode = val;
					modecount = count;
				}
			} else {
				val = x[i];
				count = 1;
			}
		}
		s->center = mode;
		s->lo = x[0];
		s->hi = x[n - 1];
		if (modecount != n) {
			char lo[40], hi[40];
			cprof__bs_fmt_g(lo, sizeof(lo), x[0]);
			cprof__bs_fmt_g(hi, sizeof(hi), x[n - 1]);
			s->warn = cprof__bs_sprintf(a, "exact distribution expected, but values range from %s to %s", lo, hi);
		}
		return;
	}
	int l, r;
	cprof__bs_median_ci(n, conf, &l, &r);
	s->center = cprof__bs_quantile(x, n, 0.5);
	s->lo = l < 1 ? -INFINITY : x[l - 1];
	s->hi = r - 1 >= n ? INFINITY : x[r - 1];
	if (isinf(s->lo) || isinf(s->hi)) {
		const char *op;
		int need = median_samples(conf, &op);
		char c[40];
		cprof__bs_fmt_g(c, sizeof(c), conf);
		s->warn = cprof__bs_sprintf(a, "need %s %d samples for confidence interval at level %s", op, need, c);
	}
}

void cprof__bs_compare(struct bs_arena *a, const double *x1, int n1, const double *x2, int n2, double alpha,
		       int exact, struct bs_cmp *c)
{
	memset(c, 0, sizeof(*c));
	c->n1 = n1;
	c->n2 = n2;
	if (exact) {
		c->p = 0;
		c->alpha = 0;
		return;
	}
	c->alpha = alpha;
	double u1;
	if (cprof__bs_utest(x1, n1, x2, n2, &c->p, &u1) < 0) {
		c->p = 1;
		c->warn = "all samples are equal";
		return;
	}
	if (c->p > alpha) {
		/* 2/C(2n,n): the smallest p two samples of n can give */
		static const double minp[] = {0, 1, 0.3333333333333333, 0.1, 0.02857142857142857,
					      0.007936507936507936, 0.0021645021645021645, 0.0005827505827505828,
					      0.0001554001554001554, 4.113533525298231e-05};
		int need = 10;
		const char *op = ">";
		for (int i = 1; i < 10; i++)
			if (minp[i] <= alpha) {
				need = i;
				op = ">=";
				break;
			}
		if (n1 < need && n2 < need) {
			char al[40];
			cprof__bs_fmt_g(al, sizeof(al), alpha);
			c->warn = cprof__bs_sprintf(a, "need %s %d samples to detect a difference at alpha level %s", op,
						    need, al);
		}
	}
}

double cprof__bs_geomean(const double *x, int n)
{
	if (n == 0)
		return NAN;
	double m = 0;
	for (int i = 0; i < n; i++) {
		if (x[i] <= 0)
			return NAN;
		m += (go_log(x[i]) - m) / (i + 1);
	}
	return go_exp(m);
}

void cprof__bs_pct_range(char *out, size_t n, const struct bs_summary *s)
{
	if (isinf(s->lo) || isinf(s->hi)) {
		snprintf(out, n, "∞");
		return;
	}
	int cs = signbit(s->center) != 0;
	if (cs != (signbit(s->lo) != 0) || cs != (signbit(s->hi) != 0)) {
		snprintf(out, n, "?");
		return;
	}
	if (s->center == 0) {
		snprintf(out, n, "0%%");
		return;
	}
	double a = s->hi / s->center - 1, b = 1 - s->lo / s->center;
	double v = isnan(a) ? a : isnan(b) ? b : a > b ? a : b; /* math.Max */
	char num[64];
	cprof__bs_fmt_f(num, sizeof(num), 0, 0, 100 * v);
	snprintf(out, n, "%s%%", num);
}

void cprof__bs_delta(char *out, size_t n, const struct bs_cmp *c, double old, double new_)
{
	if (c->p > c->alpha)
		snprintf(out, n, "~");
	else if (old == new_)
		snprintf(out, n, "0.00%%");
	else if (old == 0)
		snprintf(out, n, "?");
	else {
		char num[64];
		cprof__bs_fmt_f(num, sizeof(num), 2, 1, (new_ / old - 1.0) * 100.0);
		snprintf(out, n, "%s%%", num);
	}
}

void cprof__bs_cmp_string(char *out, size_t n, const struct bs_cmp *c)
{
	char p[64] = "";
	if (c->p != 0) {
		char num[40];
		cprof__bs_fmt_f(num, sizeof(num), 3, 0, c->p);
		snprintf(p, sizeof(p), "p=%s ", num);
	}
	if (c->n1 == c->n2)
		snprintf(out, n, "%sn=%d", p, c->n1);
	else
		snprintf(out, n, "%sn=%d+%d", p, c->n1, c->n2);
}

/* ---- scaling ---- */

struct factor {
	double factor;
	const char *prefix;
	double t100, t10, t1;
};

static struct factor si[8], iec[5];
static double sigfigs[8];
static int scale_ready;

static void scale_init(void)
{
	static const char *sip[] = {"T", "G", "M", "k", "", "m", "µ", "n"};
	static const char *iecp[] = {"Ti", "Gi", "Mi", "Ki", ""};
	char b[64];
	int exp10 = 12;
	for (int i = 0; i < 8; i++, exp10 -= 3) {
		si[i].factor = pow(10, exp10);
		si[i].prefix = sip[i];
		snprintf(b, sizeof(b), "99.995e%d", exp10);
		si[i].t100 = strtod(b, NULL);
		snprintf(b, sizeof(b), "9.9995e%d", exp10);
		si[i].t10 = strtod(b, NULL);
		snprintf(b, sizeof(b), ".99995e%d", exp10);
		si[i].t1 = strtod(b, NULL);
	}
	int exp2 = 40;
	for (int i = 0; i < 5; i++, exp2 -= 10) {
		iec[i].factor = pow(2, exp2);
		iec[i].prefix = iecp[i];
		snprintf(b, sizeof(b), "0x1.8ffae147ae148p%d", 6 + exp2);
		iec[i].t100 = strtod(b, NULL);
		snprintf(b, sizeof(b), "0x1.3ffbe76c8b439p%d", 3 + exp2);
		iec[i].t10 = strtod(b, NULL);
		snprintf(b, sizeof(b), "0x1.fff972474538fp%d", -1 + exp2);
		iec[i].t1 = strtod(b, NULL);
	}
	for (int i = 0; i < 8; i++) {
		snprintf(b, sizeof(b), "9.9995e%d", -1 - i);
		sigfigs[i] = strtod(b, NULL);
	}
	scale_ready = 1;
}

struct bs_scaler cprof__bs_common_scale(const double *v, int n, int binary)
{
	if (!scale_ready)
		scale_init();
	double min = 0;
	for (int i = 0; i < n; i++) {
		double x = fabs(v[i]);
		if (x != 0 && (min == 0 || x < min))
			min = x;
	}
	if (min == 0)
		return (struct bs_scaler){3, 1, ""};
	const struct factor *f = binary ? iec : si;
	int nf = binary ? 5 : 8;
	for (int i = 0; i < nf; i++) {
		if (min >= f[i].t100)
			return (struct bs_scaler){1, f[i].factor, f[i].prefix};
		if (min >= f[i].t10)
			return (struct bs_scaler){2, f[i].factor, f[i].prefix};
		if (min >= f[i].t1)
			return (struct bs_scaler){3, f[i].factor, f[i].prefix};
	}
	const struct factor *last = &f[nf - 1];
	double val = min / last->factor;
	for (int i = 0; i < 8; i++)
		if (val >= sigfigs[i] || i == 7)
			return (struct bs_scaler){i + 3, last->factor, last->prefix};
	return (struct bs_scaler){3, 1, ""};
}

void cprof__bs_scale_format(char *out, size_t n, struct bs_scaler s, double v)
{
	double x = v / s.factor;
	if (isnan(x))
		snprintf(out, n, "NaN%s", s.prefix);
	else if (isinf(x))
		snprintf(out, n, "%sInf%s", x > 0 ? "+" : "-", s.prefix);
	else
		snprintf(out, n, "%.*f%s", s.prec, x, s.prefix);
}
