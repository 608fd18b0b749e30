/* run_fixture.h -- what the Check suites of the run share: a plan loaded
 * from TOML text through the session (plugins from the build tree, the
 * test plugins included), in a fresh working directory of its own. */
#ifndef ASSAY_TESTS_RUN_FIXTURE_H
#define ASSAY_TESTS_RUN_FIXTURE_H

#include "reactor.h"
#include "run.h"
#include "session.h"
#include "sweep.h"

typedef struct run_fixture {
	session s;
	reactor *re;
	run *r;
	const run_result *res;
	sweeps *sw;               /* when a test makes a tracker */
	double wall;              /* when a test times the run: its seconds */
} run_fixture;

/* A Check fixture's setup: the plugin search path, and the working
 * directory a new /tmp/assay-check-NAME-XXXXXX. */
void run_fixture_enter(const char *name);

/* The working directory run_fixture_enter() made. */
const char *run_fixture_dir(void);

/* Its teardown: the working directory removed with what the test left
 * in it (files only), and / the working directory again. */
void run_fixture_leave(void);

/* text written to c.toml, loaded, its plugins loaded, prepared and (when
 * that found no error) graphed: the number of errors. */
size_t run_fixture_try(run_fixture *f, const char *text);

/* run_fixture_try() of a text with no error. */
void run_fixture_load(run_fixture *f, const char *text);

/* The run, the tracker, the reactor and the session, released. */
void run_fixture_free(run_fixture *f);

#endif /* ASSAY_TESTS_RUN_FIXTURE_H */
