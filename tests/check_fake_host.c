/* check_fake_host.c -- Check suite for what the fake host offers a plugin's tests beyond the exec suite's: a [plugins.NAME] table and resource types. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <check.h>
#include <dlfcn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "fake_host.h"

/* tests/plugins/probe.so: `slot` resources, as many as [plugins.probe]
 * slots says. */
static int (*probe_init)(const assay_host *, assay_plugin *);

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void teardown(void)
{
	fake_host_reset();
}

static const assay_resource_type *load_probe(const char *config)
{
	const assay_resource_type *slot;

	fake_set_config(config);
	ck_assert_int_eq(probe_init(fake_host(), fake_plugin()), 0);
	slot = fake_resource_type("slot");
	ck_assert_ptr_nonnull(slot);
	return slot;
}

static void *prepare_request(const assay_resource_type *type, const char *toml)
{
	void *req = NULL;

	ck_assert_int_eq(type->prepare(fake_parse(toml), type->data, &req), 0);
	return req;
}

/* The plugin reads its [plugins.probe] table: two slots, so a node that
 * asks for both waits while another holds one. */
START_TEST(test_plugin_config_sizes_the_resource)
{
	const assay_resource_type *slot = load_probe("[plugins.other]\nslots = 9\n"
						     "[plugins.probe]\nslots = 2\n");
	assay_task *a = fake_task("a", ASSAY_KIND_CHECK, NULL, NULL, -1);
	assay_task *b = fake_task("b", ASSAY_KIND_CHECK, NULL, NULL, -1);
	void *one = prepare_request(slot, "slot = 1"), *two = prepare_request(slot, "slot = 2");
	void *grant_a, *grant_b;
	unsigned tries;

	ck_assert_int_eq(fake_acquire(a, slot, one, 0, &grant_a, &tries), 0);
	ck_assert_uint_eq(tries, 1);
	ck_assert_int_eq(fake_acquire(b, slot, two, 30, &grant_b, &tries), ASSAY_EAGAIN);
	ck_assert_uint_eq(tries, 1); /* nothing came back: never asked again */
	fake_release(slot, grant_a);
	ck_assert_int_eq(fake_acquire(b, slot, two, 0, &grant_b, &tries), 0);
	fake_release(slot, grant_b);
}
END_TEST

START_TEST(test_no_plugin_table)
{
	const assay_resource_type *slot = load_probe("[runner]\njobs = 2\n");
	assay_task *a = fake_task("a", ASSAY_KIND_CHECK, NULL, NULL, -1);
	void *two = prepare_request(slot, "slot = 2"), *grant;
	unsigned tries;

	/* without [plugins.probe], one slot */
	ck_assert_int_eq(fake_acquire(a, slot, two, 20, &grant, &tries), ASSAY_EAGAIN);
}
END_TEST

typedef struct give_back {
	const assay_resource_type *type;
	void *grant;
} give_back;

static void give_back_now(void *arg)
{
	give_back *g = arg;

	fake_release(g->type, g->grant);
}

/* A waiting acquire asks again as soon as a grant comes back, here from
 * a reactor timer, as from another node's end. */
START_TEST(test_release_wakes_a_waiting_acquire)
{
	const assay_resource_type *slot = load_probe("[plugins.probe]\nslots = 1\n");
	assay_task *a = fake_task("a", ASSAY_KIND_CHECK, NULL, NULL, -1);
	assay_task *b = fake_task("b", ASSAY_KIND_CHECK, NULL, NULL, -1);
	void *one = prepare_request(slot, "slot = 1"), *grant_b;
	give_back g = { slot, NULL };
	unsigned tries;
	int64_t t0;

	ck_assert_int_eq(fake_acquire(a, slot, one, 0, &g.grant, &tries), 0);
	ck_assert_int_eq(fake_host()->timer_start(50, give_back_now, &g, NULL), 0);
	t0 = now_ms();
	ck_assert_int_eq(fake_acquire(b, slot, one, 5000, &grant_b, &tries), 0);
	ck_assert_int_ge(now_ms() - t0, 45);
	ck_assert_uint_eq(tries, 2);
	fake_release(slot, grant_b);
}
END_TEST

/* A resource held outside this process: the type answers "not now" and
 * asks to be asked again after retry_ms, as a GPU's lock file would. */
static atomic_int door_knocks;

static int door_prepare(const assay_value *request, void *data, void **req)
{
	*req = NULL;
	return 0;
}

static int door_try_acquire(assay_task *task, void *req, void *data, void **grant,
			    uint32_t *retry_ms)
{
	if (atomic_fetch_add(&door_knocks, 1) < 2) {
		*retry_ms = 20;
		return ASSAY_EAGAIN;
	}
	*grant = NULL;
	return fake_host()->setenv(task, "DOOR", "open");
}

static void door_release(void *grant, void *data)
{
}

static const assay_resource_type door_type = {
	.name = "door",
	.prepare = door_prepare,
	.try_acquire = door_try_acquire,
	.release = door_release,
};

static int door_init(const assay_host *host, assay_plugin *plugin)
{
	static const assay_plugin_info info = { ASSAY_ABI_VERSION, "door", "1", "a door",
						ASSAY_ABI_MINOR };
	int rc = host->declare(plugin, &info);

	return rc < 0 ? rc : host->register_resource_type(plugin, &door_type);
}

START_TEST(test_retry_ms_asks_again)
{
	assay_task *t = fake_task("t", ASSAY_KIND_CHECK, NULL, NULL, -1);
	void *grant;
	unsigned tries;
	int64_t t0;

	ck_assert_int_eq(door_init(fake_host(), fake_plugin()), 0);
	ck_assert_ptr_eq(fake_resource_type("door"), &door_type);
	ck_assert_int_eq(door_init(fake_host(), fake_plugin()), ASSAY_EEXIST);
	atomic_store(&door_knocks, 0);
	t0 = now_ms();
	ck_assert_int_eq(fake_acquire(t, &door_type, NULL, 5000, &grant, &tries), 0);
	ck_assert_int_ge(now_ms() - t0, 40);
	ck_assert_uint_eq(tries, 3);
	ck_assert_ptr_nonnull(fake_host()->environ(t));
	fake_release(&door_type, grant);
}
END_TEST

static Suite *fake_host_suite(void)
{
	Suite *s = suite_create("fake_host");
	TCase *tc = tcase_create("resources");

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_plugin_config_sizes_the_resource);
	tcase_add_test(tc, test_no_plugin_table);
	tcase_add_test(tc, test_release_wakes_a_waiting_acquire);
	tcase_add_test(tc, test_retry_ms_asks_again);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	const char *dir = getenv("TEST_PLUGIN_DIR");
	char so[4096];
	void *handle;
	int failed;

	snprintf(so, sizeof so, "%s/probe.so", dir ? dir : "tests/plugins/.libs");
	if (!(handle = dlopen(so, RTLD_NOW | RTLD_LOCAL))) {
		fprintf(stderr, "check_fake_host: %s (set TEST_PLUGIN_DIR)\n", dlerror());
		return 1;
	}
	*(void **)&probe_init = dlsym(handle, "assay_plugin_init");
	if (!probe_init) {
		fprintf(stderr, "check_fake_host: %s: no assay_plugin_init\n", so);
		return 1;
	}
	SRunner *sr = srunner_create(fake_host_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	dlclose(handle);
	return failed ? 1 : 0;
}
