/* toml-parse.c -- benchmark driver: parses one TOML file with core/toml.c
 * and prints "SECONDS PEAK_RSS_KB VALUES" for tests/bench/toml. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#include "toml.h"

static size_t count_values(const toml_value *v)
{
	size_t i, n = 1;

	switch (toml_value_type(v)) {
	case TOML_TABLE:
		for (i = 0; i < toml_table_len(v); i++)
			n += count_values(toml_table_at(v, i, NULL, NULL));
		break;
	case TOML_ARRAY:
		for (i = 0; i < toml_array_len(v); i++)
			n += count_values(toml_array_at(v, i));
		break;
	default:
		break;
	}
	return n;
}

int main(int argc, char **argv)
{
	struct timespec t0, t1;
	struct rusage ru;
	toml_error err;
	toml_doc *doc;
	double seconds;
	size_t values;

	if (argc != 2) {
		fprintf(stderr, "usage: toml-parse FILE\n");
		return 64;
	}
	/* Timed like tomllib.load(): reading the file plus parsing it. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	doc = toml_parse_file(argv[1], &err);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (!doc) {
		fprintf(stderr, "%s:%u:%u: %s\n", argv[1], err.pos.line,
			err.pos.column, err.message);
		return 1;
	}
	/* Peak RSS is taken while the tree is still alive. */
	getrusage(RUSAGE_SELF, &ru);
	values = count_values(toml_doc_root(doc));
	toml_doc_free(doc);
	seconds = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("%.6f %ld %zu\n", seconds, ru.ru_maxrss, values);
	return 0;
}
