/* check_fake_host.c -- Check suite for what the fake host offers a plugin's tests beyond the exec suite's: a [plugins.NAME] table and resource types. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <check.h>
#include <dlfcn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
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

/* ABI 3.1 in the fake: a gate with two devices that records them, says
 * why it waits, and refuses -- with a message, or without -- as the
 * test asks; a command; check_file. */
static atomic_int gate_mode; /* 0: grant two devices, 1: not now, 2: refuse saying why, 3: refuse */

static int gate_try_acquire(assay_task *task, void *req, void *data, void **grant,
			    uint32_t *retry_ms)
{
	const assay_host *h = fake_host();

	switch (atomic_load(&gate_mode)) {
	case 0:
		h->set_message(task, "granted: not the node's message");
		*grant = NULL;
		h->task_add_device(task, "GPU-1111");
		return h->task_add_device(task, "GPU-2222");
	case 1:
		h->set_message(task, "not now: not the node's message either");
		*retry_ms = 5;
		return ASSAY_EAGAIN;
	case 2:
		h->set_message(task, "no GPU here: %s", "libnvidia-ml.so.1 not found");
		return ASSAY_ESYS;
	default:
		return ASSAY_ENEVER;
	}
}

static void gate_describe(void *req, void *data, char *buf, size_t size)
{
	snprintf(buf, size, "2 GPUs: 2 of 2 leased by pid 4242");
}

static const assay_resource_type gate_type = {
	.name = "gate",
	.prepare = door_prepare,
	.try_acquire = gate_try_acquire,
	.release = door_release,
	.describe_wait = gate_describe,
};

static int gate_main(int argc, char **argv, FILE *out, void *data)
{
	return 0;
}

static int gate_freed;

static void gate_free(void *data)
{
	gate_freed++;
}

static const assay_command gate_command = { .name = "gates", .usage = "[FILE]",
					    .description = "list the gates", .main = gate_main,
					    .free_data = gate_free };
static const assay_command run_command = { .name = "run", .main = gate_main };

START_TEST(test_abi31_devices_waits_refusals)
{
	const assay_host *h = fake_host();
	static const assay_plugin_info info = { ASSAY_ABI_VERSION, "gate", "1", "a gate",
						ASSAY_ABI_MINOR };
	assay_task *t = fake_task("t", ASSAY_KIND_TRIAL, NULL, NULL, -1);
	void *grant;
	unsigned tries;

	ck_assert_int_eq(h->declare(fake_plugin(), &info), 0);
	ck_assert_int_eq(h->register_resource_type(fake_plugin(), &gate_type), 0);
	atomic_store(&gate_mode, 0);
	ck_assert_int_eq(fake_acquire(t, &gate_type, NULL, 0, &grant, &tries), 0);
	ck_assert_uint_eq(fake_task_device_count(t), 2);
	ck_assert_str_eq(fake_task_device(t, 0), "GPU-1111");
	ck_assert_str_eq(fake_task_device(t, 1), "GPU-2222");
	ck_assert_ptr_null(fake_task_device(t, 2));
	ck_assert_str_eq(fake_task_message(t), "");
	fake_task_clear_devices(t);
	ck_assert_uint_eq(fake_task_device_count(t), 0);

	atomic_store(&gate_mode, 1);
	ck_assert_int_eq(fake_acquire(t, &gate_type, NULL, 20, &grant, &tries), ASSAY_EAGAIN);
	ck_assert_uint_ge(tries, 2);
	ck_assert_str_eq(fake_task_wait_text(t), "2 GPUs: 2 of 2 leased by pid 4242");
	ck_assert_str_eq(fake_task_message(t), "");

	atomic_store(&gate_mode, 2);
	ck_assert_int_eq(fake_acquire(t, &gate_type, NULL, 0, &grant, &tries), ASSAY_ESYS);
	ck_assert_int_eq(fake_task_status(t), ASSAY_UNKNOWN);
	ck_assert_str_eq(fake_task_message(t), "no GPU here: libnvidia-ml.so.1 not found");
	atomic_store(&gate_mode, 3);
	ck_assert_int_eq(fake_acquire(t, &gate_type, NULL, 0, &grant, &tries), ASSAY_ENEVER);
	ck_assert_str_eq(fake_task_message(t),
			 "cannot acquire resource `gate`: can never be satisfied here");

	ck_assert_int_eq(h->register_command(fake_plugin(), &gate_command), 0);
	ck_assert_ptr_eq(fake_command("gates"), &gate_command);
	ck_assert_int_eq(h->register_command(fake_plugin(), &gate_command), ASSAY_EEXIST);
	ck_assert_int_eq(h->register_command(fake_plugin(), &run_command), ASSAY_EEXIST);
	gate_freed = 0;
	ck_assert_int_eq(h->unregister_command(fake_plugin(), "gates"), 0);
	ck_assert_int_eq(gate_freed, 1);
	ck_assert_ptr_null(fake_command("gates"));
}
END_TEST

START_TEST(test_check_file_is_the_loaders)
{
	char dir[] = "/tmp/assay-check-fake-host-XXXXXX", path[64];
	FILE *f;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/libnvidia-ml.so.1", dir);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fclose(f);
	ck_assert_int_eq(chmod(path, 0755), 0);
	ck_assert_ptr_null(fake_host()->check_file(path));
	ck_assert_int_eq(chmod(path, 0777), 0);
	ck_assert_ptr_nonnull(fake_host()->check_file(path));
	fake_set_allow_insecure(true);
	ck_assert_ptr_null(fake_host()->check_file(path));
	fake_set_allow_insecure(false);
	unlink(path);
	rmdir(dir);
	ck_assert_ptr_nonnull(fake_host()->check_file(path));
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
	tcase_add_test(tc, test_abi31_devices_waits_refusals);
	tcase_add_test(tc, test_check_file_is_the_loaders);
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
