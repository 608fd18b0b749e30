/* journal_int.h -- what the journal's files share (journal.c writes,
 * journal_record.c encodes and decodes, journal_scan.c walks,
 * journal_index.c indexes, journal_load.c reads, journal_compact.c
 * rewrites, journal_file.c maps and replaces): the file's layout, a
 * record's encoding, the checksum.
 *
 * The file: a header, then records, each framed and checksummed:
 *
 *   header  "ASSAYJNL" | u32 format | u32 n | config hash, assay version
 *           (strings, n bytes in all) | u32 CRC-32C of all before it
 *   record  u32 n | u32 CRC-32C of (n, body) | body (n bytes: u8 type, fields)
 *
 * Integers in the frame and header are little-endian; in a body, unsigned
 * numbers are LEB128 varints, signed ones zigzag varints, doubles their 8
 * IEEE bytes little-endian, a string varint(length + 1) then its bytes
 * (0: NULL, so that NULL and "" stay apart).  The header's first 16 bytes
 * and its two strings keep their place in every format, so that a journal
 * of another format can still say which assay wrote it.
 *
 * Why CRC-32C: it catches every burst error up to 32 bits and every odd
 * number of flipped bits, it is what ext4, iSCSI and LevelDB's log use for
 * the same job, and x86-64 computes it in hardware (SSE 4.2; a table
 * elsewhere, journal_crc.c): a fraction of what writing a record costs. */
#ifndef ASSAY_JOURNAL_INT_H
#define ASSAY_JOURNAL_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "arena.h"
#include "journal.h"

#define JOURNAL_MAGIC "ASSAYJNL"
#define JOURNAL_MAGIC_SIZE 8
#define JOURNAL_FRAME_SIZE 8 /* a record's length and checksum */
/* No record is larger: a length past it is corruption, not a record. */
#define JOURNAL_RECORD_MAX (64u << 20)

/* A record's first body byte. */
enum journal_type {
	JOURNAL_REC_RUN = 1, /* the run record (journal_run_info) */
	JOURNAL_REC_START,   /* key, item, attempt */
	JOURNAL_REC_CHILD,   /* key, item, attempt, pgid, start ticks */
	JOURNAL_REC_END,     /* key, item, attempt, result */
	JOURNAL_REC_FINAL,   /* key, item, result */
	JOURNAL_REC_RUN_END, /* end, stopped */
	JOURNAL_REC_MAX = JOURNAL_REC_RUN_END
};

/* CRC-32C (Castagnoli) of n bytes, continuing from crc (0 to start). */
uint32_t journal_crc32c(uint32_t crc, const void *data, size_t n);
/* The same from the table alone (what journal_crc32c falls back to). */
uint32_t journal_crc32c_portable(uint32_t crc, const void *data, size_t n);

/* How many times j's file was synced so far (tests: the policy kept). */
unsigned long journal_syncs(journal *j);

/* --- encoding ---------------------------------------------------------------
 *
 * A writer fills buf[0 .. cap) and counts past it: after an overflow, len
 * is the size the record needs, so that the caller encodes again into a
 * buffer that large (one code path for measuring and writing). */
typedef struct journal_writer {
	uint8_t *buf;
	size_t len, cap;
} journal_writer;

void journal_put_u8(journal_writer *w, unsigned v);
void journal_put_uint(journal_writer *w, uint64_t v);
void journal_put_int(journal_writer *w, int64_t v);
void journal_put_double(journal_writer *w, double v);
void journal_put_str(journal_writer *w, const char *s);
void journal_put_key(journal_writer *w, journal_key key);
void journal_put_result(journal_writer *w, const run_result *res);

/* Start a record of type t: room for its frame, then the type. */
void journal_record_begin(journal_writer *w, enum journal_type t);
/* Fill the frame in; the record's size, or 0 when it overflowed w. */
size_t journal_record_finish(journal_writer *w);

/* The header of a journal of config_hash; its size, or 0 when it overflowed w. */
size_t journal_header_encode(journal_writer *w, const char *config_hash, const char *version);

/* --- decoding --------------------------------------------------------------
 *
 * A reader walks [at, end); any read past the end sets bad and answers 0,
 * so that a decoder reads on and tests bad once. */
typedef struct journal_reader {
	const uint8_t *at, *end;
	bool bad;
} journal_reader;

/* Where decoded strings and arrays go: n zeroed bytes, NULL when out of
 * memory (which sets the reader bad as well). */
typedef void *(*journal_alloc_fn)(void *arg, size_t n);

unsigned journal_get_u8(journal_reader *r);
uint64_t journal_get_uint(journal_reader *r);
int64_t journal_get_int(journal_reader *r);
double journal_get_double(journal_reader *r);
/* A string: *len its length; a pointer into the record (not terminated),
 * NULL for a NULL string. */
const char *journal_get_bytes(journal_reader *r, size_t *len);
char *journal_get_str(journal_reader *r, journal_alloc_fn alloc, void *arg);
journal_key journal_get_key(journal_reader *r);
/* A result: its strings and arrays from alloc; res zeroed first. */
void journal_get_result(journal_reader *r, run_result *res, journal_alloc_fn alloc, void *arg);

/* What a header says. */
typedef struct journal_header {
	unsigned format;
	const char *config_hash, *version; /* into the file, not terminated */
	size_t config_hash_len, version_len;
	size_t size;                       /* its bytes; the first record follows */
} journal_header;

/* Decode the header at [data, data + size): 0; -1 when it is not a
 * journal's header (or a torn one), with why. */
int journal_header_decode(journal_header *h, const uint8_t *data, size_t size, char *why,
			  size_t why_size);

/* --- walking a file --------------------------------------------------------- */

/* How a walk ended. */
typedef struct journal_scan {
	size_t good_end;  /* the end of the last sound record */
	size_t dropped;   /* bytes after it */
	bool torn;        /* the record there runs past the end of the file */
	const char *what; /* else why it is not sound ("bad checksum") */
} journal_scan;

/* A sound record: its type, body (after the type byte), and offset. */
typedef int (*journal_record_fn)(void *arg, enum journal_type t, const uint8_t *body,
				 size_t n, size_t offset);

/* Walk the records of data[from .. size), calling fn (when not NULL) for
 * each sound one; a torn or corrupt record ends the walk, as does fn
 * answering non-zero (then that record is counted corrupt: "cannot be
 * decoded").  Never fails. */
void journal_scan_records(journal_scan *s, const uint8_t *data, size_t size, size_t from,
			  journal_record_fn fn, void *arg);

/* A reader of the body (after its type) of the sound record at data[off ..). */
journal_reader journal_record_at(const uint8_t *data, uint64_t off);

/* The note for a walk that dropped something, into note[0 .. size). */
void journal_scan_note(const journal_scan *s, const char *path, char *note, size_t size);

/* The file at path mapped read-only: *data NULL and *size 0 for an empty
 * one.  0; 1 when there is none; -1 with why. */
int journal_map(const char *path, const uint8_t **data, size_t *size, char *why,
		size_t why_size);
void journal_unmap(const uint8_t *data, size_t size);

/* Whether a journal's header is of this format and config: 0 with *body
 * at its first record; -1 with a note saying why not. */
int journal_header_check(const uint8_t *data, size_t size, const char *path,
			 const char *config_hash, size_t *body, char *note, size_t note_size);

/* Write all of buf to fd (a new file's: EINTR and short writes retried):
 * 0, or -1 with errno. */
int journal_write_all(int fd, const void *buf, size_t n);

/* Make a temporary file beside path ("path.XXXXXX", mode 0600), after
 * removing any such that a killed run left: its fd, with its name in
 * tmp; -1 with why. */
int journal_temp(const char *path, char *tmp, size_t tmp_size, char *why, size_t why_size);

/* Put the temporary file tmp (fd, written) in place of path: sync it
 * (unless sync is JOURNAL_SYNC_NEVER), rename, sync the directory.  On
 * failure tmp is removed; -1 with why.  fd stays open either way. */
int journal_replace(int fd, const char *tmp, const char *path, journal_sync sync, char *why,
		    size_t why_size);

/* --- the index of a journal (journal_index.c) --------------------------------
 *
 * What one walk of a journal's records finds, for load and compaction:
 * the runs, the last final record of each key, the starts still without
 * an end. */

/* What every slot of a table starts with. */
typedef struct journal_entry {
	journal_key key;
	uint64_t off; /* its record's offset; 0: an empty slot (the header is there) */
} journal_entry;

/* A key's last final record. */
typedef struct journal_slot {
	journal_entry e;
	uint32_t run; /* the run that wrote it: its index in runs */
	uint32_t res; /* its result's index in results, once decoded */
} journal_slot;

/* journal_slot.res of a final whose result would not decode. */
#define JOURNAL_NO_RESULT UINT32_MAX

/* A start without an end yet: the last of its key. */
typedef struct journal_pending {
	journal_entry e;    /* the start record's */
	uint64_t child_off; /* its child record's, or 0 */
	uint64_t start_min, start_max;
	uint32_t item, attempt, run;
	pid_t pgid;
} journal_pending;

typedef struct journal_table {
	void *slots;
	size_t cap, n; /* cap a power of two, or 0 */
} journal_table;

typedef struct journal_index {
	arena mem;             /* the runs' strings, the results' */
	journal_run *runs;
	size_t n_runs, runs_cap;
	uint64_t *run_offs;    /* the run and run-end records' offsets */
	size_t n_run_offs, run_offs_cap;
	journal_table finals;  /* of journal_slot */
	journal_table pending; /* of journal_pending */
	run_result *results;   /* journal_load's: the finals', decoded */
	size_t n_results;
	journal_orphan *orphans;
	size_t n_orphans;
	bool oom;              /* a record was cut short for want of memory */
} journal_index;

/* Walk data[body .. size) into ix (zeroed first): 0, with how the walk
 * ended in scan; -1 when out of memory. */
int journal_index_build(journal_index *ix, const uint8_t *data, size_t size, size_t body,
			journal_scan *scan);
/* The last final record of key, or NULL. */
journal_slot *journal_index_find(const journal_index *ix, journal_key key);
/* Each pending start as an orphan, in the order they started: 0, or -1
 * when out of memory. */
int journal_index_orphans(journal_index *ix);
void journal_index_release(journal_index *ix);

#endif /* ASSAY_JOURNAL_INT_H */
