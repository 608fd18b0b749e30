/* check_nodekey.c -- Check suite for core/nodekey.c and core/blake2s.c:
 * BLAKE2s against RFC 7693's and Python's vectors; the same definition
 * gives the same keys; each kind of change (an option, an interpolated
 * env value, a timeout, the runner's default timeout, a dependency's
 * command, an item) changes the node's key and its dependents' and no
 * other's; what does not change a node (description, its place in the
 * file) changes nothing; the key file is made 0600 and kept, a damaged or
 * readable one refused; another key gives other keys. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blake2s.h"
#include "nodekey.h"
#include "session.h"

static char workdir[] = "/tmp/assay-check-nodekey-XXXXXX";

static void setup(void)
{
	const char *dir = getenv("TEST_PLUGIN_DIR");

	setenv("ASSAY_PLUGIN_PATH", dir ? dir : "tests/plugins/.libs", 1);
	ck_assert_ptr_nonnull(mkdtemp(workdir));
	ck_assert_int_eq(chdir(workdir), 0);
}

static void teardown(void)
{
	unlink("c.toml");
	unlink("key");
	unlink("secret.txt");
	ck_assert_int_eq(chdir("/"), 0);
	rmdir(workdir);
	strcpy(workdir, "/tmp/assay-check-nodekey-XXXXXX");
}

static void hex(const uint8_t *d, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
}

START_TEST(blake2s_vectors)
{
	uint8_t key[32], out[32], data[256];
	char text[65];
	blake2s b;
	size_t i;

	/* RFC 7693, appendix B: BLAKE2s-256("abc"). */
	blake2s_init(&b, 32, NULL, 0);
	blake2s_update(&b, "abc", 3);
	blake2s_final(&b, out);
	hex(out, 32, text);
	ck_assert_str_eq(text, "508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982");
	/* Keyed, 16 bytes out, 200 bytes fed one at a time:
	 * hashlib.blake2s(bytes(range(200)), key=bytes(range(32)), digest_size=16). */
	for (i = 0; i < 32; i++)
		key[i] = (uint8_t)i;
	for (i = 0; i < 200; i++)
		data[i] = (uint8_t)i;
	blake2s_init(&b, 16, key, 32);
	for (i = 0; i < 200; i++)
		blake2s_update(&b, data + i, 1);
	blake2s_final(&b, out);
	hex(out, 16, text);
	ck_assert_str_eq(text, "42a6f8ff590af21b512e9e088257aa34");
	/* The empty message, keyed: one block, the key's. */
	blake2s_init(&b, 32, key, 32);
	blake2s_final(&b, out);
	hex(out, 32, text);
	ck_assert_str_eq(text, "48a8997da407876b3d79c0d92325ad3b89cbb754d86ab71aee047ad345fd2c49");
}
END_TEST

typedef struct keys {
	session s;
	nodekeys k;
} keys;

static const uint8_t key_a[NODEKEY_KEY_SIZE] = { 1, 2, 3 };
static const uint8_t key_b[NODEKEY_KEY_SIZE] = { 3, 2, 1 };

static void compute(keys *t, const char *text, const uint8_t *key)
{
	static const session_options o = { 0 };
	FILE *out = fopen("c.toml", "w");

	ck_assert_ptr_nonnull(out);
	fprintf(out, "[plugins]\nload = [\"probe\"]\n%s", text);
	fclose(out);
	session_init(&t->s, &o);
	ck_assert_int_eq(session_open(&t->s, "c.toml"), 0);
	ck_assert_int_eq(nodekeys_compute(&t->k, &t->s.p, &t->s.g, key), 0);
}

static void release(keys *t)
{
	nodekeys_release(&t->k);
	session_release(&t->s);
}

static journal_key key_of(const keys *t, const char *id)
{
	size_t i;

	for (i = 0; i < t->s.p.n_nodes; i++)
		if (strcmp(t->s.p.nodes[i].id, id) == 0)
			return t->k.nodes[i];
	ck_abort_msg("no node %s", id);
	return (journal_key){ 0, 0 };
}

/* a <- b <- c, and d alone. */
#define CHAIN(a_opts, runner)                                   \
	runner "[check.a]\ntype = \"probe\"\n" a_opts           \
	       "[check.b]\ntype = \"probe\"\nafter = [\"a\"]\n" \
	       "[check.c]\ntype = \"probe\"\nafter = [\"b\"]\n" \
	       "[check.d]\ntype = \"probe\"\n"

/* Which of a, b, c, d have other keys in `changed` than in base. */
static void expect_changed(const char *base, const char *changed, const char *which)
{
	static const char *const ids[] = { "a", "b", "c", "d" };
	keys x, y;
	size_t i;

	compute(&x, base, key_a);
	compute(&y, changed, key_a);
	for (i = 0; i < 4; i++) {
		bool differs = nodekey_cmp(key_of(&x, ids[i]), key_of(&y, ids[i])) != 0;

		ck_assert_msg(differs == (strchr(which, ids[i][0]) != NULL), "%s: %s", ids[i],
			      differs ? "changed" : "did not change");
	}
	release(&x);
	release(&y);
}

START_TEST(same_definition_same_key)
{
	expect_changed(CHAIN("status = 1\n", ""), CHAIN("status = 1\n", ""), "");
	/* Neither a description nor the order of keys or tables matters. */
	expect_changed(CHAIN("status = 1\nmessage = \"m\"\n", ""),
		       CHAIN("message = \"m\"\nstatus = 1\ndescription = \"why\"\n", ""), "");
	expect_changed(
		CHAIN("", ""),
		"[check.d]\ntype = \"probe\"\n[check.c]\ntype = \"probe\"\nafter = [\"b\"]\n"
		"[check.b]\ntype = \"probe\"\nafter = [\"a\"]\n[check.a]\ntype = \"probe\"\n",
		"");
	/* The runner's default timeout, written out, is the same timeout. */
	expect_changed(CHAIN("", ""), CHAIN("timeout = \"60s\"\n", ""), "");
}
END_TEST

START_TEST(a_change_reruns_it_and_its_dependents)
{
	expect_changed(CHAIN("status = 1\n", ""), CHAIN("status = 2\n", ""), "abc");
	expect_changed(CHAIN("", ""), CHAIN("message = \"x\"\n", ""), "abc");
	expect_changed(CHAIN("", ""), CHAIN("timeout = \"5s\"\n", ""), "abc");
	expect_changed(CHAIN("", ""), CHAIN("retries = 2\n", ""), "abc");
	expect_changed(CHAIN("", ""), CHAIN("skip = \"not today\"\n", ""), "abc");
	/* The runner's default applies to every node without its own. */
	expect_changed(CHAIN("timeout = \"5s\"\n", ""),
		       CHAIN("timeout = \"5s\"\n", "[runner]\ntimeout = \"10s\"\n"), "bcd");
	/* b's own change: a stays, c follows. */
	expect_changed(CHAIN("", ""),
		       "[check.a]\ntype = \"probe\"\n"
		       "[check.b]\ntype = \"probe\"\nafter = [\"a\"]\nstatus = 2\n"
		       "[check.c]\ntype = \"probe\"\nafter = [\"b\"]\n"
		       "[check.d]\ntype = \"probe\"\n",
		       "bc");
}
END_TEST

START_TEST(interpolated_values_count)
{
	setenv("NODEKEY_TEST", "one", 1);
	{
		keys x, y;

		compute(&x, CHAIN("message = \"${env:NODEKEY_TEST}\"\n", ""), key_a);
		setenv("NODEKEY_TEST", "two", 1);
		compute(&y, CHAIN("message = \"${env:NODEKEY_TEST}\"\n", ""), key_a);
		ck_assert_int_ne(nodekey_cmp(key_of(&x, "a"), key_of(&y, "a")), 0);
		ck_assert_int_ne(nodekey_cmp(key_of(&x, "c"), key_of(&y, "c")), 0);
		ck_assert_int_eq(nodekey_cmp(key_of(&x, "d"), key_of(&y, "d")), 0);
		release(&x);
		release(&y);
	}
}
END_TEST

START_TEST(items_and_trials)
{
	keys x, y;
	size_t v;

	compute(&x,
		"[validation.v]\ntype = \"probe\"\nitems = { list = [\"p\", \"q\", \"r\"] }\n"
		"[check.after]\ntype = \"probe\"\nafter = [\"v\"]\n"
		"[trial.t]\ntype = \"probe\"\nmatrix = { x = [1, 2] }\n",
		key_a);
	compute(&y,
		"[validation.v]\ntype = \"probe\"\nitems = { list = [\"p\", \"Q\", \"r\"] }\n"
		"[check.after]\ntype = \"probe\"\nafter = [\"v\"]\n"
		"[trial.t]\ntype = \"probe\"\nmatrix = { x = [1, 2, 3] }\n",
		key_a);
	for (v = 0; strcmp(x.s.p.nodes[v].id, "v") != 0; v++)
		;
	/* One item changed: its key, the validation's and its dependent's. */
	ck_assert_int_eq(nodekey_cmp(nodekeys_item(&x.k, v, 0), nodekeys_item(&y.k, v, 0)), 0);
	ck_assert_int_ne(nodekey_cmp(nodekeys_item(&x.k, v, 1), nodekeys_item(&y.k, v, 1)), 0);
	ck_assert_int_eq(nodekey_cmp(nodekeys_item(&x.k, v, 2), nodekeys_item(&y.k, v, 2)), 0);
	ck_assert_int_ne(nodekey_cmp(nodekeys_item(&x.k, v, 0), nodekeys_item(&x.k, v, 2)), 0);
	ck_assert_int_ne(nodekey_cmp(key_of(&x, "v"), key_of(&y, "v")), 0);
	ck_assert_int_ne(nodekey_cmp(key_of(&x, "after"), key_of(&y, "after")), 0);
	/* A trial is its parameters: another point in the matrix is a new
	 * trial, and the others keep their keys. */
	ck_assert_int_eq(nodekey_cmp(key_of(&x, "t[x=1]"), key_of(&y, "t[x=1]")), 0);
	ck_assert_int_eq(nodekey_cmp(key_of(&x, "t[x=2]"), key_of(&y, "t[x=2]")), 0);
	ck_assert_int_ne(nodekey_cmp(key_of(&x, "t[x=1]"), key_of(&x, "t[x=2]")), 0);
	release(&x);
	release(&y);
}
END_TEST

START_TEST(another_key_other_keys)
{
	keys x, y;
	char h[NODEKEY_HEX_SIZE];
	journal_key back;

	compute(&x, CHAIN("", ""), key_a);
	compute(&y, CHAIN("", ""), key_b);
	ck_assert_int_ne(nodekey_cmp(key_of(&x, "a"), key_of(&y, "a")), 0);
	ck_assert_int_ne(nodekey_cmp(key_of(&x, "d"), key_of(&y, "d")), 0);
	/* Two nodes of one definition are two executions. */
	ck_assert_int_ne(nodekey_cmp(key_of(&x, "a"), key_of(&x, "d")), 0);
	ck_assert_int_ne(nodekey_cmp(key_of(&x, "a"), key_of(&x, "b")), 0);
	ck_assert_int_eq(nodekey_parse(nodekey_hex(key_of(&x, "c"), h), &back), 0);
	ck_assert_int_eq(nodekey_cmp(back, key_of(&x, "c")), 0);
	ck_assert_int_eq(nodekey_parse("xyz", &back), -1);
	release(&x);
	release(&y);
}
END_TEST

START_TEST(key_file)
{
	uint8_t k1[NODEKEY_KEY_SIZE], k2[NODEKEY_KEY_SIZE], zero[NODEKEY_KEY_SIZE] = { 0 };
	char why[4096];
	struct stat st;
	int fd;

	ck_assert_int_eq(nodekey_load(k1, ".", why, sizeof why), 0);
	ck_assert_int_eq(stat("key", &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	ck_assert_int_eq(st.st_size, NODEKEY_KEY_SIZE);
	ck_assert_int_ne(memcmp(k1, zero, sizeof zero), 0);
	/* Kept: the next run reads the same key. */
	ck_assert_int_eq(nodekey_load(k2, ".", why, sizeof why), 0);
	ck_assert_int_eq(memcmp(k1, k2, sizeof k1), 0);
	/* Readable by others: refused, with the fix. */
	ck_assert_int_eq(chmod("key", 0644), 0);
	ck_assert_int_eq(nodekey_load(k2, ".", why, sizeof why), -1);
	ck_assert_ptr_nonnull(strstr(why, "mode 0644 lets others read it (chmod 600 ./key)"));
	/* Damaged: refused, never replaced silently. */
	ck_assert_int_eq(unlink("key"), 0);
	ck_assert_int_ge(fd = open("key", O_WRONLY | O_CREAT, 0600), 0);
	ck_assert_int_eq(write(fd, "short", 5), 5);
	close(fd);
	ck_assert_int_eq(nodekey_load(k2, ".", why, sizeof why), -1);
	ck_assert_ptr_nonnull(strstr(why, "./key: is 5 bytes, not 32"));
	/* A directory that cannot be written: the error names the file. */
	ck_assert_int_eq(unlink("key"), 0);
	if (geteuid() != 0) {
		ck_assert_int_eq(chmod(".", 0500), 0);
		ck_assert_int_eq(nodekey_load(k2, ".", why, sizeof why), -1);
		ck_assert_ptr_nonnull(strstr(why, "cannot create: Permission denied"));
		ck_assert_int_eq(chmod(".", 0700), 0);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("nodekey");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, blake2s_vectors);
	tcase_add_test(tc, same_definition_same_key);
	tcase_add_test(tc, a_change_reruns_it_and_its_dependents);
	tcase_add_test(tc, interpolated_values_count);
	tcase_add_test(tc, items_and_trials);
	tcase_add_test(tc, another_key_other_keys);
	tcase_add_test(tc, key_file);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
