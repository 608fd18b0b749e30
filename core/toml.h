/* toml.h -- TOML 1.0 parser: text to a value tree in which every key and
 * value keeps its line:column and tables keep document order.
 *
 * Ownership: a toml_doc owns every value, key and string reachable from its
 * root; all of it is released by one toml_doc_free().  Pointers handed out by
 * the getters stay valid until then.  Nothing here is thread-affine: a
 * finished document may be read from any number of threads at once.
 * What the configuration reads goes through value.h, which adds
 * interpolation and its own errors; this is the tree beneath it.
 */
#ifndef ASSAY_TOML_H
#define ASSAY_TOML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum toml_type {
	TOML_TABLE = 1,
	TOML_ARRAY,
	TOML_STRING,
	TOML_INTEGER,
	TOML_FLOAT,
	TOML_BOOLEAN,
	TOML_OFFSET_DATETIME, /* 1979-05-27T07:32:00Z, 1979-05-27 07:32:00-07:00 */
	TOML_LOCAL_DATETIME,  /* 1979-05-27T07:32:00 */
	TOML_LOCAL_DATE,      /* 1979-05-27 */
	TOML_LOCAL_TIME,      /* 07:32:00.999 */
} toml_type;

/* 1-based; column counts Unicode code points, as editors show it. */
typedef struct toml_pos {
	uint32_t line;
	uint32_t column;
} toml_pos;

/* Fields a type does not have are 0 (a local time has no date...). */
typedef struct toml_datetime {
	int year, month, day;
	int hour, minute, second;
	int nanosecond;     /* fractions finer than 1 ns are truncated */
	int offset_minutes; /* offset date-times only; Z is 0 */
} toml_datetime;

typedef struct toml_error {
	toml_pos pos;       /* 0:0 when the error has no position (I/O) */
	char message[256];  /* without file or position: "expected '=' after key `port`" */
} toml_error;

/* Deeper nesting of arrays and inline tables is an error, not a stack
 * overflow: the parser recurses once per level. */
#define TOML_MAX_DEPTH 256

typedef struct toml_doc toml_doc;
typedef struct toml_value toml_value;

/* Parse len bytes of buf (no NUL needed; never reads past buf + len).
 * Returns a document the caller frees with toml_doc_free(), or NULL with
 * *err filled in.  Every error path frees everything it allocated. */
toml_doc *toml_parse(const char *buf, size_t len, toml_error *err);

/* Read and parse the file at path.  I/O errors come back with pos 0:0 and
 * a message naming the path and strerror(errno). */
toml_doc *toml_parse_file(const char *path, toml_error *err);

/* Free the document and every value in it.  NULL is allowed. */
void toml_doc_free(toml_doc *doc);

/* The root table; never NULL for a parsed document. */
const toml_value *toml_doc_root(const toml_doc *doc);

toml_type toml_value_type(const toml_value *v);

/* Where the value starts; for a table, where it was defined: its [header],
 * the first key of a dotted key that created it, or its '{'. */
toml_pos toml_value_pos(const toml_value *v);

/* "table", "array", "string", "integer", "float", "boolean",
 * "offset date-time", "local date-time", "local date", "local time". */
const char *toml_type_name(toml_type t);

/* --- tables: keys in document order --- */

size_t toml_table_len(const toml_value *table);

/* The i-th key of table (0 <= i < len), its position in the document and its
 * value.  key and key_pos may be NULL.  Returns NULL when i is out of range
 * or table is not a table. */
const toml_value *toml_table_at(const toml_value *table, size_t i,
				const char **key, toml_pos *key_pos);

/* The byte length of the i-th key (0 when out of range): a quoted key may
 * contain U+0000 ("\u0000" = 1), which strlen() would cut short. */
size_t toml_table_key_len(const toml_value *table, size_t i);

/* The value under key in this table, or NULL. */
const toml_value *toml_table_get(const toml_value *table, const char *key);

/* Where key itself was written, or false if table has no such key. */
bool toml_table_key_pos(const toml_value *table, const char *key,
			toml_pos *pos);

/* Follow a dotted path of bare segments ("runner.jobs") through nested
 * tables; NULL if any segment is missing or not a table on the way.  Keys
 * that themselves contain '.' are reached with toml_table_get(). */
const toml_value *toml_table_get_path(const toml_value *table,
				      const char *path);

/* --- arrays --- */

size_t toml_array_len(const toml_value *array);
const toml_value *toml_array_at(const toml_value *array, size_t i);

/* --- scalars: false (and *out untouched) on a type mismatch --- */

/* The string's bytes, NUL-terminated; *len (if not NULL) counts bytes
 * without the terminator, as a TOML string may itself contain U+0000. */
const char *toml_value_string(const toml_value *v, size_t *len);
bool toml_value_int(const toml_value *v, int64_t *out);
/* Accepts floats and integers: timeout = 1 and timeout = 1.5 both read. */
bool toml_value_float(const toml_value *v, double *out);
bool toml_value_bool(const toml_value *v, bool *out);
/* Any of the four date-time types; toml_value_type() says which. */
bool toml_value_datetime(const toml_value *v, toml_datetime *out);

#endif /* ASSAY_TOML_H */
