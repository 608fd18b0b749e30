/* run_fixture.c -- the Check suites' shared fixture of a run (see
 * run_fixture.h). */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <check.h>
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diag.h"
#include "graph.h"
#include "run_fixture.h"

static char workdir[PATH_MAX];

void run_fixture_enter(const char *name)
{
	const char *dir = getenv("TEST_PLUGIN_DIR");

	setenv("ASSAY_PLUGIN_PATH", dir ? dir : "tests/plugins/.libs", 1);
	snprintf(workdir, sizeof workdir, "/tmp/assay-check-%s-XXXXXX", name);
	ck_assert_ptr_nonnull(mkdtemp(workdir));
	ck_assert_int_eq(chdir(workdir), 0);
}

const char *run_fixture_dir(void)
{
	return workdir;
}

void run_fixture_leave(void)
{
	DIR *d = opendir(".");
	struct dirent *de;

	while (d && (de = readdir(d)))
		if (de->d_type == DT_REG)
			unlink(de->d_name);
	if (d)
		closedir(d);
	ck_assert_int_eq(chdir("/"), 0);
	rmdir(workdir);
}

size_t run_fixture_try(run_fixture *f, const char *text)
{
	static const session_options o = { 0 };
	FILE *out = fopen("c.toml", "w");

	ck_assert_ptr_nonnull(out);
	fprintf(out, "%s", text);
	fclose(out);
	memset(f, 0, sizeof *f);
	session_init(&f->s, &o);
	ck_assert_int_eq(session_load(&f->s, "c.toml"), 0);
	ck_assert_int_eq(session_load_plugins(&f->s), 0);
	session_prepare(&f->s);
	if (diag_count(&f->s.d) == 0)
		session_graph(&f->s);
	return diag_count(&f->s.d);
}

void run_fixture_load(run_fixture *f, const char *text)
{
	ck_assert_uint_eq(run_fixture_try(f, text), 0);
}

void run_fixture_free(run_fixture *f)
{
	run_free(f->r);
	sweeps_free(f->sw);
	reactor_free(f->re);
	session_release(&f->s);
}
