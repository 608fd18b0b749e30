/* check_registry.c -- Check suite for core/registry.c: loading real
 * test-only modules (tests/plugins/), the file checks, ABI refusal,
 * duplicate names, a failing init, and the host's built-in reporters. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <check.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "builtin.h"
#include "diag.h"
#include "host.h"
#include "registry.h"

static const char *plugin_dir(void)
{
	const char *dir = getenv("TEST_PLUGIN_DIR");

	return dir ? dir : "tests/plugins/.libs";
}

static diag d;
static registry r;
static char tmp[] = "/tmp/assay-check-registry-XXXXXX";

static void setup(void)
{
	memset(&d, 0, sizeof d);
	ck_assert_int_eq(registry_init(&r, host_table(), &d), 0);
	ck_assert_int_eq(registry_add_dirs(&r, plugin_dir()), 0);
	ck_assert_ptr_nonnull(mkdtemp(tmp));
}

static void teardown(void)
{
	char cmd[256];

	registry_release(&r);
	diag_release(&d);
	snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
	ck_assert_int_eq(system(cmd), 0);
	strcpy(tmp, "/tmp/assay-check-registry-XXXXXX");
}

/* A private copy of a test plugin, so its mode and owner can change. */
static char *copy_plugin(const char *name, mode_t mode)
{
	static char dst[512];
	char src[512], cmd[1200];

	snprintf(src, sizeof src, "%s/%s.so", plugin_dir(), name);
	snprintf(dst, sizeof dst, "%s/%s.so", tmp, name);
	snprintf(cmd, sizeof cmd, "cp %s %s", src, dst);
	ck_assert_int_eq(system(cmd), 0);
	ck_assert_int_eq(chmod(dst, mode), 0);
	return dst;
}

START_TEST(test_load_good)
{
	const reg_entry *e;

	ck_assert_int_eq(registry_load(&r, "good", NULL, NULL), 0);
	ck_assert_uint_eq(diag_count(&d), 0);
	ck_assert_uint_eq(r.n_plugins, 1);
	ck_assert_str_eq(r.plugins[0]->name, "good");
	ck_assert_str_eq(r.plugins[0]->version, "1.2.3");
	ck_assert_str_eq(r.plugins[0]->description, "test plugin that behaves");
	ck_assert_ptr_nonnull(strstr(r.plugins[0]->path, "good.so"));
	e = registry_lookup(&r, REG_NODE, "good");
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(e->u.node->kinds, ASSAY_KIND_CHECK | ASSAY_KIND_TRIAL);
	ck_assert_ptr_nonnull(registry_lookup(&r, REG_RESOURCE, "slot"));
	ck_assert_ptr_nonnull(registry_lookup(&r, REG_REPORTER, "count"));
	ck_assert_ptr_null(registry_lookup(&r, REG_NODE, "slot"));
	/* Loading again is a no-op, not a duplicate. */
	ck_assert_int_eq(registry_load(&r, "good", NULL, NULL), 0);
	ck_assert_uint_eq(r.n_plugins, 1);
	ck_assert_uint_eq(diag_count(&d), 0);
}
END_TEST

START_TEST(test_abi_mismatch)
{
	char want[128];

	ck_assert_int_eq(registry_load(&r, "abi2", NULL, NULL), ASSAY_EABI);
	ck_assert_uint_eq(diag_count(&d), 1);
	snprintf(want, sizeof want, "abi2.so is built for assay plugin ABI %d, but this assay has ABI %d",
		 ASSAY_ABI_VERSION + 1, ASSAY_ABI_VERSION);
	ck_assert_msg(strstr(d.lines[0], want), "%s", d.lines[0]);
	ck_assert_uint_eq(r.n_plugins, 0);
}
END_TEST

/* A plugin built for a later minor of this ABI may use what that minor
 * added: refused, naming both versions.  One built for this minor loads
 * and is remembered with it. */
START_TEST(test_abi_minor)
{
	char want[160];

	ck_assert_int_eq(registry_load(&r, "minor", NULL, NULL), ASSAY_EABI);
	ck_assert_uint_eq(diag_count(&d), 1);
	snprintf(want, sizeof want, "minor.so is built for assay plugin ABI %d.%d, but this assay has ABI %d.%d",
		 ASSAY_ABI_VERSION, ASSAY_ABI_MINOR + 1, ASSAY_ABI_VERSION, ASSAY_ABI_MINOR);
	ck_assert_msg(strstr(d.lines[0], want), "%s", d.lines[0]);
	ck_assert_uint_eq(r.n_plugins, 0);
	ck_assert_int_eq(registry_load(&r, "good", NULL, NULL), 0);
	ck_assert_uint_eq(r.plugins[0]->abi_minor, ASSAY_ABI_MINOR);
	ck_assert_uint_eq(host_table()->abi_minor, ASSAY_ABI_MINOR);
}
END_TEST

START_TEST(test_duplicate_type)
{
	ck_assert_int_eq(registry_load(&r, "good", NULL, NULL), 0);
	ck_assert_int_eq(registry_load(&r, "dup", NULL, NULL), ASSAY_EEXIST);
	ck_assert_uint_eq(diag_count(&d), 2);
	ck_assert_msg(strstr(d.lines[0], "node type `good` of ") && strstr(d.lines[0], "dup.so") &&
		      strstr(d.lines[0], "is already registered by ") && strstr(d.lines[0], "good.so"),
		      "%s", d.lines[0]);
	ck_assert_msg(strstr(d.lines[1], "plugin `dup`") && strstr(d.lines[1], "failed to initialise"),
		      "%s", d.lines[1]);
	/* good's type is still good's. */
	ck_assert_str_eq(registry_lookup(&r, REG_NODE, "good")->owner->name, "good");
	ck_assert_uint_eq(r.n_plugins, 1);
}
END_TEST

START_TEST(test_failing_init_unregisters)
{
	char mark[600];

	snprintf(mark, sizeof mark, "%s/freed", tmp);
	setenv("FAILINIT_MARK", mark, 1);
	ck_assert_int_eq(registry_load(&r, "failinit", NULL, NULL), ASSAY_ESYS);
	unsetenv("FAILINIT_MARK");
	ck_assert_ptr_null(registry_lookup(&r, REG_NODE, "doomed"));
	ck_assert_uint_eq(r.n_entries[REG_NODE], 0);
	ck_assert_uint_eq(r.n_plugins, 0);
	/* Its free_data ran: the plugin's data was handed back. */
	ck_assert_int_eq(access(mark, F_OK), 0);
	ck_assert_msg(strstr(d.lines[0], "plugin `failinit`") &&
		      strstr(d.lines[0], "failed to initialise: system call failed"), "%s", d.lines[0]);
}
END_TEST

START_TEST(test_world_writable_refused)
{
	char *path = copy_plugin("good", 0666);

	ck_assert_int_lt(registry_load(&r, path, NULL, NULL), 0);
	ck_assert_msg(strstr(d.lines[0], "refusing to load plugin") &&
		      strstr(d.lines[0], "it is world-writable") &&
		      strstr(d.lines[0], "--allow-insecure-plugins"), "%s", d.lines[0]);
	ck_assert_str_eq(registry_check_file(path, false), "it is world-writable");
	chmod(path, 0664);
	ck_assert_str_eq(registry_check_file(path, false), "it is group-writable");
	chmod(path, 0755);
	ck_assert_ptr_null(registry_check_file(path, false));
}
END_TEST

START_TEST(test_allow_insecure)
{
	char *path = copy_plugin("good", 0666);

	r.allow_insecure = true;
	ck_assert_int_eq(registry_load(&r, path, NULL, NULL), 0);
	ck_assert_uint_eq(r.n_plugins, 1);
}
END_TEST

START_TEST(test_foreign_owner_refused)
{
	struct passwd *nobody = getpwnam("nobody");
	char *path = copy_plugin("good", 0755);

	if (geteuid() != 0 || !nobody)
		return; /* only root can give a file away; CI runs as root */
	ck_assert_int_eq(chown(path, nobody->pw_uid, nobody->pw_gid), 0);
	ck_assert_str_eq(registry_check_file(path, false),
			 "it is owned by another user (neither root nor the user running assay)");
	ck_assert_int_lt(registry_load(&r, path, NULL, NULL), 0);
}
END_TEST

/* A file of contents at tmp/name, mode 0644. */
static const char *write_plugin_file(const char *name, const char *contents, size_t len)
{
	static char path[600];
	int fd;

	snprintf(path, sizeof path, "%s/%s", tmp, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, contents, len), (ssize_t)len);
	close(fd);
	return path;
}

/* The error for a file that is there but no plugin says what is wrong
 * with it, never libltdl's "file not found". */
static void assert_load_error(const char *path, const char *want)
{
	size_t before = d.n;

	ck_assert_int_lt(registry_load(&r, path, NULL, NULL), 0);
	ck_assert_uint_eq(d.n, before + 1);
	ck_assert_msg(strstr(d.lines[before], "cannot load plugin") && strstr(d.lines[before], want) &&
		      !strstr(d.lines[before], "file not found"), "%s", d.lines[before]);
}

START_TEST(test_not_a_plugin)
{
	char cmd[700];

	assert_load_error(write_plugin_file("junk.so", "not elf", 7),
			  "not a shared object (the file has no ELF header)");
	assert_load_error(write_plugin_file("empty.so", "", 0),
			  "the file is empty, not a shared object");
	/* An ELF file the loader refuses: the loader's own reason. */
	snprintf(cmd, sizeof cmd, "cp /bin/true %s/exe.so", tmp);
	ck_assert_int_eq(system(cmd), 0);
	snprintf(cmd, sizeof cmd, "%s/exe.so", tmp);
	assert_load_error(cmd, "exe.so: ");
	/* A directory is not a regular file. */
	ck_assert_str_eq(registry_check_file(tmp, false), "it is not a regular file");
}
END_TEST

START_TEST(test_not_found)
{
	ck_assert_int_lt(registry_load(&r, "nosuch", NULL, NULL), 0);
	ck_assert_msg(strstr(d.lines[0], "plugin `nosuch` not found (looked for nosuch.so in ") &&
		      strstr(d.lines[0], plugin_dir()), "%s", d.lines[0]);
}
END_TEST

START_TEST(test_search_order)
{
	char *copy = copy_plugin("good", 0755);
	registry r2;
	diag d2 = DIAG_INIT;
	char *found;

	(void)copy;
	ck_assert_int_eq(registry_init(&r2, host_table(), &d2), 0);
	/* Empty entries are skipped; the first directory holding it wins. */
	ck_assert_int_eq(registry_add_dirs(&r2, tmp), 0);
	ck_assert_int_eq(registry_add_dirs(&r2, "::"), 0);
	ck_assert_int_eq(registry_add_dirs(&r2, plugin_dir()), 0);
	ck_assert_uint_eq(r2.n_dirs, 2);
	found = registry_find(&r2, "good");
	ck_assert_ptr_nonnull(found);
	ck_assert_int_eq(strncmp(found, tmp, strlen(tmp)), 0);
	free(found);
	found = registry_find(&r2, "abi2");
	ck_assert_ptr_nonnull(found);
	ck_assert_int_eq(strncmp(found, plugin_dir(), strlen(plugin_dir())), 0);
	free(found);
	registry_release(&r2);
	diag_release(&d2);
}
END_TEST

START_TEST(test_discover)
{
	char **paths;
	size_t n, i;
	bool good = false, dup = false;

	ck_assert_int_eq(registry_discover(&r, &paths, &n), 0);
	ck_assert_uint_ge(n, 4);
	for (i = 0; i < n; i++) {
		good |= strstr(paths[i], "/good.so") != NULL;
		dup |= strstr(paths[i], "/dup.so") != NULL;
		free(paths[i]);
	}
	free(paths);
	ck_assert(good && dup);
}
END_TEST

START_TEST(test_registration_only_during_init)
{
	static const assay_node_type late = {
		.name = "late", .kinds = ASSAY_KIND_CHECK,
	};

	ck_assert_int_eq(registry_load(&r, "good", NULL, NULL), 0);
	/* After init, the plugin handle no longer registers anything. */
	ck_assert_int_eq(registry_register(r.plugins[0], REG_NODE, "late", &late), ASSAY_ESTATE);
	ck_assert_int_eq(host_table()->abi_version, ASSAY_ABI_VERSION);
	ck_assert_str_eq(host_table()->strerror(ASSAY_EABI), "plugin ABI version mismatch");
	ck_assert_str_eq(host_table()->status_name(ASSAY_CRITICAL), "CRITICAL");
}
END_TEST

/* The host's reporters are registered at init, under its own entry, not
 * among the plugins loaded. */
START_TEST(test_builtin_reporters)
{
	const reg_entry *e = registry_lookup(&r, REG_REPORTER, "human");
	char names[64];

	ck_assert_ptr_nonnull(e);
	ck_assert_ptr_eq(e->owner, &r.builtin);
	ck_assert_ptr_eq(e->u.reporter, &report_human);
	ck_assert_ptr_eq(registry_lookup(&r, REG_REPORTER, "json")->u.reporter, &report_json);
	ck_assert_ptr_eq(registry_lookup(&r, REG_REPORTER, "csv")->u.reporter, &report_csv);
	ck_assert_str_eq(r.builtin.name, "assay");
	ck_assert_str_eq(r.builtin.path, BUILTIN_PATH);
	ck_assert_uint_eq(r.n_plugins, 0);
	ck_assert_uint_eq(r.n_entries[REG_NODE], 0);
	ck_assert_uint_eq(diag_count(&d), 0);
	ck_assert_int_eq(registry_load(&r, "good", NULL, NULL), 0);
	ck_assert_str_eq(registry_names(&r, REG_REPORTER, names, sizeof names), "human, json, csv, count");
	/* Cut to the buffer, never past it. */
	ck_assert_str_eq(registry_names(&r, REG_REPORTER, names, 8), "human, ");
}
END_TEST

/* A plugin's reporter replaces the built-in one of its name, for as long
 * as it is registered; it does not replace another plugin's. */
START_TEST(test_plugin_replaces_builtin)
{
	static const assay_reporter mine = { .name = "human", .write = NULL };
	char path[] = "mine.so", other_path[] = "other.so", name[] = "mine", names[64];
	assay_plugin p = { .path = path, .name = name, .reg = &r, .initialising = true };
	assay_plugin other = p;

	other.path = other_path;
	ck_assert_int_eq(registry_register(&p, REG_REPORTER, "human", &mine), 0);
	ck_assert_ptr_eq(registry_lookup(&r, REG_REPORTER, "human")->u.reporter, &mine);
	ck_assert_str_eq(registry_names(&r, REG_REPORTER, names, sizeof names), "human, json, csv");
	ck_assert_int_eq(registry_register(&other, REG_REPORTER, "human", &mine), ASSAY_EEXIST);
	ck_assert_msg(strstr(d.lines[0], "reporter `human` of other.so is already registered by mine.so"),
		      "%s", d.lines[0]);
	ck_assert_int_eq(registry_unregister(&p, REG_REPORTER, "human"), 0);
	ck_assert_ptr_eq(registry_lookup(&r, REG_REPORTER, "human")->u.reporter, &report_human);
}
END_TEST

/* Commands: unique across plugins and against assay's own, each with
 * its free_data called when it is unregistered. */
static int freed_commands;

static void command_free(void *data)
{
	freed_commands++;
}

static int command_main(int argc, char **argv, FILE *out, void *data)
{
	return 0;
}

START_TEST(test_commands)
{
	static const assay_command gpus = { .name = "gpus", .usage = "[FILE]", .description = "d",
					    .main = command_main, .free_data = command_free };
	static const assay_command run_again = { .name = "run", .main = command_main };
	char path[] = "mine.so", other_path[] = "other.so", name[] = "mine";
	assay_plugin p = { .path = path, .name = name, .reg = &r, .initialising = true,
			   .abi_minor = 1 };
	assay_plugin other = p;

	other.path = other_path;
	freed_commands = 0;
	ck_assert_int_eq(registry_register(&p, REG_COMMAND, "gpus", &gpus), 0);
	ck_assert_ptr_eq(registry_lookup(&r, REG_COMMAND, "gpus")->u.command, &gpus);
	ck_assert_int_eq(registry_register(&other, REG_COMMAND, "gpus", &gpus), ASSAY_EEXIST);
	ck_assert_msg(strstr(d.lines[0], "command `gpus` of other.so is already registered by mine.so"),
		      "%s", d.lines[0]);
	ck_assert_int_eq(registry_register(&other, REG_COMMAND, "run", &run_again), ASSAY_EEXIST);
	ck_assert_msg(strstr(d.lines[1], "command `run` of other.so is one of assay's own"), "%s",
		      d.lines[1]);
	ck_assert_int_eq(registry_unregister(&p, REG_COMMAND, "gpus"), 0);
	ck_assert_int_eq(freed_commands, 1);
	ck_assert_ptr_null(registry_lookup(&r, REG_COMMAND, "gpus"));
	/* Through the host table, which checks the struct first. */
	ck_assert_int_eq(host_table()->register_command(&p, &(assay_command){ .name = "x" }),
			 ASSAY_EINVAL);
}
END_TEST

/* A plugin built for ABI 3.0 registered a shorter resource type: the
 * registry reads no further than it wrote, and hands out a copy whose
 * 3.1 members are NULL.  One built for 3.1 is kept as it is. */
static int res_try(assay_task *t, void *req, void *data, void **grant, uint32_t *retry_ms)
{
	return 0;
}

static void res_release(void *grant, void *data)
{
}

static void res_describe(void *req, void *data, char *buf, size_t size)
{
}

START_TEST(test_resource_of_an_older_minor)
{
	/* describe_wait set here stands for whatever follows a 3.0
	 * plugin's shorter struct in its memory: never read. */
	static const assay_resource_type old = { .name = "old", .try_acquire = res_try,
						 .release = res_release,
						 .describe_wait = res_describe };
	static const assay_resource_type cur = { .name = "cur", .try_acquire = res_try,
						 .release = res_release,
						 .describe_wait = res_describe };
	char path[] = "old.so", name[] = "old";
	assay_plugin p30 = { .path = path, .name = name, .reg = &r, .initialising = true,
			     .abi_minor = 0 };
	assay_plugin p31 = p30;
	const assay_resource_type *got;

	p31.abi_minor = 1;
	ck_assert_int_eq(registry_register(&p30, REG_RESOURCE, "old", &old), 0);
	got = registry_lookup(&r, REG_RESOURCE, "old")->u.resource;
	ck_assert_ptr_ne(got, &old);
	ck_assert_ptr_eq(got->try_acquire, res_try);
	ck_assert_ptr_null(got->describe_wait);
	ck_assert_int_eq(registry_register(&p31, REG_RESOURCE, "cur", &cur), 0);
	ck_assert_ptr_eq(registry_lookup(&r, REG_RESOURCE, "cur")->u.resource, &cur);
	ck_assert_int_eq(registry_unregister(&p30, REG_RESOURCE, "old"), 0);
	ck_assert_int_eq(registry_unregister(&p31, REG_RESOURCE, "cur"), 0);
}
END_TEST

/* host->check_file: the loader's rule, with the registry's
 * --allow-insecure-plugins. */
START_TEST(test_check_file_for_plugins)
{
	char lib[512], missing[512];
	FILE *f;

	snprintf(lib, sizeof lib, "%s/lib.so", tmp);
	snprintf(missing, sizeof missing, "%s/none.so", tmp);
	ck_assert_ptr_nonnull(f = fopen(lib, "w"));
	fclose(f);
	ck_assert_int_eq(chmod(lib, 0644), 0);
	ck_assert_ptr_null(host_table()->check_file(lib));
	ck_assert_int_eq(chmod(lib, 0666), 0);
	ck_assert_str_eq(host_table()->check_file(lib), registry_check_file(lib, false));
	r.allow_insecure = true;
	ck_assert_ptr_null(host_table()->check_file(lib));
	r.allow_insecure = false;
	ck_assert_ptr_nonnull(host_table()->check_file(missing));
}
END_TEST

static Suite *registry_suite(void)
{
	Suite *s = suite_create("registry");
	TCase *tc = tcase_create("loader");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_load_good);
	tcase_add_test(tc, test_abi_mismatch);
	tcase_add_test(tc, test_abi_minor);
	tcase_add_test(tc, test_duplicate_type);
	tcase_add_test(tc, test_failing_init_unregisters);
	tcase_add_test(tc, test_world_writable_refused);
	tcase_add_test(tc, test_allow_insecure);
	tcase_add_test(tc, test_foreign_owner_refused);
	tcase_add_test(tc, test_not_a_plugin);
	tcase_add_test(tc, test_not_found);
	tcase_add_test(tc, test_search_order);
	tcase_add_test(tc, test_discover);
	tcase_add_test(tc, test_registration_only_during_init);
	tcase_add_test(tc, test_builtin_reporters);
	tcase_add_test(tc, test_plugin_replaces_builtin);
	tcase_add_test(tc, test_commands);
	tcase_add_test(tc, test_resource_of_an_older_minor);
	tcase_add_test(tc, test_check_file_for_plugins);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(registry_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
