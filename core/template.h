/* template.h -- placeholders in a node's strings: {NAME}, {item},
 * {NAME:raw}, {{ and }}; expanded as text, or for a /bin/sh script.
 *
 * Pure string work with the lookups passed in, so that the host and the
 * plugins' fake host (tests/fake_host.c) share one set of rules. */
#ifndef ASSAY_TEMPLATE_H
#define ASSAY_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>

/* The value of placeholder `name` (a parameter, or the item for "item"),
 * or NULL when the node has none of that name. */
typedef const char *(*template_lookup)(const char *name, void *arg);

/* Sets an environment variable for the task being expanded: 0 or a
 * negative ASSAY_E* code. */
typedef int (*template_setenv)(const char *name, const char *value, void *arg);

/* Check tmpl as expansion will read it, for a node of kind (one
 * ASSAY_KIND_* bit) whose placeholders lookup knows.  Returns how many
 * places expanding would change (0: tmpl can be used as it is), or -1
 * with *msg (malloc'd, NULL when out of memory) saying what is wrong,
 * without a position: the caller reports it at the string. */
int template_check(const char *tmpl, bool shell, unsigned kind, template_lookup lookup, void *arg,
		   char **msg);

/* Expand tmpl: a malloc'd string, or NULL with *err set (ASSAY_EINVAL
 * for an unknown placeholder, ASSAY_ENOMEM, or what setenv returned).
 * As text, each placeholder becomes its value.  As a shell script
 * (shell), each placeholder but a {NAME:raw} becomes a quoted reference
 * to an environment variable that setenv sets to the value -- ASSAY_ITEM
 * for {item}, ASSAY_PARAM_NAME for {NAME} -- so that the shell never
 * parses the value, whatever it holds. */
char *template_expand(const char *tmpl, bool shell, template_lookup lookup, template_setenv setenv,
		      void *arg, int *err);

#endif /* ASSAY_TEMPLATE_H */
