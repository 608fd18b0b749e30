/* report_mask.c -- the run's secrets masked in what a report shows that
 * comes from the plan rather than from a plugin: a trial's id and
 * parameters built from a secret matrix value (`tok = ["${env:TOKEN}"]`),
 * a validation's items, and the reasons the run writes that name them
 * ("target 0.9 reached by s[tok=...]").  Messages and details are masked
 * as plugins hand them over; these are not, so they are here, once, for
 * every format.  A plan without secrets pays one test. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <stdlib.h>
#include <string.h>

#include "mask.h"
#include "report.h"

typedef struct masker {
	report *rep;
	const char *const *secrets;
	size_t n_secrets;
	int rc;
} masker;

/* p, freed with the report; false when out of memory (p is freed). */
static bool masker_keep(masker *m, void *p)
{
	report *rep = m->rep;

	if (rep->n_owned == rep->cap_owned) {
		size_t cap = rep->cap_owned ? 2 * rep->cap_owned : 16;
		void **grown = realloc(rep->owned, cap * sizeof *grown);

		if (!grown) {
			free(p);
			m->rc = ASSAY_ENOMEM;
			return false;
		}
		rep->owned = grown;
		rep->cap_owned = cap;
	}
	rep->owned[rep->n_owned++] = p;
	return true;
}

/* s, or a masked copy of it when a secret occurs in it. */
static const char *masker_text(masker *m, const char *s)
{
	char *out;

	if (!s || m->rc)
		return s;
	if (!(out = mask_text(s, strlen(s), m->secrets, m->n_secrets, 0, NULL))) {
		m->rc = ASSAY_ENOMEM;
		return s;
	}
	if (strcmp(out, s) == 0) {
		free(out);
		return s;
	}
	return masker_keep(m, out) ? out : s;
}

/* params, or a copy with each value masked when one holds a secret
 * (the plan's array is shared by the reports and the run: not touched). */
static const assay_param *masker_params(masker *m, const assay_param *params, size_t n)
{
	assay_param *copy;
	size_t i, j;

	for (i = 0; i < n; i++)
		if (masker_text(m, params[i].value) != params[i].value)
			break;
	if (i == n || m->rc)
		return params;
	if (!(copy = malloc(n * sizeof *copy)) || !masker_keep(m, copy))
		return params;
	for (j = 0; j < n; j++) {
		copy[j].name = params[j].name;
		copy[j].value = masker_text(m, params[j].value);
	}
	return copy;
}

static void masker_result(masker *m, assay_result *r)
{
	r->id = masker_text(m, r->id);
	r->item = masker_text(m, r->item);
	r->message = masker_text(m, r->message);
	r->skip_reason = masker_text(m, r->skip_reason);
	if (r->n_params)
		r->params = masker_params(m, r->params, r->n_params);
}

int report_mask(report *rep, const plan *p, size_t n_results)
{
	masker m = { rep, (const char *const *)p->values.secrets, p->values.n_secrets, 0 };
	size_t i, j;

	if (!m.n_secrets)
		return 0;
	for (i = 0; i < n_results; i++)
		masker_result(&m, &rep->results[i]);
	for (i = 0; i < rep->r.n_sweeps; i++) {
		assay_sweep *s = &rep->sweeps[i];

		s->best = masker_text(&m, s->best);
		s->stopped = masker_text(&m, s->stopped);
		for (j = 0; j < s->n_params; j++)
			((assay_param *)s->params)[j].value = masker_text(&m, s->params[j].value);
	}
	return m.rc;
}
