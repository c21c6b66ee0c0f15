/*
 * protoout.c - `-proto`: the profile a report is made from (merged, and
 * filtered when filters are on) written back as gzipped profile.proto, with
 * -divide_by applied to every value as pprof's printProto does. The result
 * reads back into the same reports. Encoding is src/proto's.
 */
#include <errno.h>
#include <stdlib.h>

#include "cli/report/report.h"

int cprof__report_proto(struct report *r, FILE *out)
{
	/* profile.Merge as the driver applies it; samples without frames go (applyFocus) */
	struct profile *p = cprof__report_compact(r->prof);
	if (!p)
		return -ENOMEM;
	cprof__report_drop_unlocated(p);
	double ratio = 1 / r->opt.divide_by;
	if (ratio > 0 && ratio != 1)
		for (size_t i = 0; i < p->nsample; i++)
			for (size_t j = 0; j < p->sample[i].nvalue; j++)
				p->sample[i].value[j] = (int64_t)((double)p->sample[i].value[j] * ratio);
	uint8_t *buf;
	size_t len;
	int rc = cprof__profile_encode_gz(p, &buf, &len);
	cprof__profile_free(p);
	if (rc < 0)
		return rc;
	fwrite(buf, 1, len, out);
	free(buf);
	return ferror(out) ? -EIO : 0;
}
