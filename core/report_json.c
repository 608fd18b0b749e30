/* report_json.c -- the json report: the run's totals, each sweep's best
 * trial and counts, then every node with its status, message, metrics,
 * attempts and times, a trial's sweep, parameters, objective, seed,
 * directory and whether it was pruned; valid UTF-8 whatever the commands
 * printed. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "builtin.h"
#include "status.h"
#include "text.h"

/* RFC 3339 in UTC with milliseconds, or null for "never". */
static cJSON *json_time(double t)
{
	char buf[TEXT_TIME_SIZE];

	return text_time(t, buf) ? cJSON_CreateString(buf) : cJSON_CreateNull();
}

/* A string as valid UTF-8: cJSON escapes control characters but passes
 * any byte >= 0x80 through, and a command's Latin-1 would make a file
 * that JSON readers refuse. */
static void add_text(cJSON *o, const char *key, const char *s)
{
	char *valid = text_utf8(s);

	cJSON_AddItemToObject(o, key, valid ? cJSON_CreateString(valid) : cJSON_CreateNull());
	free(valid);
}

/* JSON has no NaN or infinity: such values become null. */
static cJSON *json_number(double v)
{
	return isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull();
}

/* Every attempt of an execution that took more than one. */
static void add_history(cJSON *o, const assay_result *res)
{
	cJSON *history;
	size_t i;

	if (res->n_history < 2 || !(history = cJSON_AddArrayToObject(o, "history")))
		return;
	for (i = 0; i < res->n_history; i++) {
		const assay_attempt *a = res->history[i];
		cJSON *ja = cJSON_CreateObject();

		if (!ja)
			return;
		cJSON_AddItemToObject(ja, "start", json_time(a->start));
		cJSON_AddItemToObject(ja, "end", json_time(a->end));
		cJSON_AddNumberToObject(ja, "duration_seconds", a->duration);
		cJSON_AddStringToObject(ja, "status", status_name(a->status));
		add_text(ja, "message", a->message);
		cJSON_AddItemToArray(history, ja);
	}
}

static void add_metrics(cJSON *o, const assay_result *res)
{
	cJSON *metrics = cJSON_AddArrayToObject(o, "metrics");
	size_t i;

	for (i = 0; metrics && i < res->n_metrics; i++) {
		const assay_metric *m = &res->metrics[i];
		cJSON *jm = cJSON_CreateObject();

		if (!jm)
			break;
		add_text(jm, "name", m->name);
		cJSON_AddItemToObject(jm, "value", json_number(m->value));
		add_text(jm, "unit", m->unit ? m->unit : "");
		if (m->warn)
			add_text(jm, "warn", m->warn);
		if (m->crit)
			add_text(jm, "crit", m->crit);
		if (m->flags & ASSAY_METRIC_MIN)
			cJSON_AddItemToObject(jm, "min", json_number(m->min));
		if (m->flags & ASSAY_METRIC_MAX)
			cJSON_AddItemToObject(jm, "max", json_number(m->max));
		cJSON_AddItemToArray(metrics, jm);
	}
}

/* A trial's sweep, its parameters as an object of texts in matrix key
 * order, and its objective: the metric, the goal, and the value and
 * unit it reported (null and "" when it did not). */
static void add_trial(cJSON *o, const assay_result *res)
{
	const assay_objective *obj = res->objective;
	cJSON *params, *jo;
	size_t i;

	if (res->sweep)
		add_text(o, "sweep", res->sweep);
	if (res->n_params && (params = cJSON_AddObjectToObject(o, "params")))
		for (i = 0; i < res->n_params; i++)
			add_text(params, res->params[i].name, res->params[i].value);
	if (!obj || !(jo = cJSON_AddObjectToObject(o, "objective")))
		return;
	add_text(jo, "metric", obj->metric);
	cJSON_AddStringToObject(jo, "goal", obj->maximise ? "max" : "min");
	cJSON_AddItemToObject(jo, "value", obj->reported ? json_number(obj->value) : cJSON_CreateNull());
	add_text(jo, "unit", obj->reported ? obj->unit : "");
}

/* "devices": what the last attempt held, in grant order; omitted when
 * it held none, as most nodes do. */
static void add_devices(cJSON *o, const assay_result *res)
{
	cJSON *devices;
	size_t i;

	if (!res->n_devices || !(devices = cJSON_AddArrayToObject(o, "devices")))
		return;
	for (i = 0; i < res->n_devices; i++) {
		char *valid = text_utf8(res->devices[i]);

		cJSON_AddItemToArray(devices, valid ? cJSON_CreateString(valid) : cJSON_CreateNull());
		free(valid);
	}
}

static cJSON *json_result(const assay_result *res, bool is_item)
{
	cJSON *o = cJSON_CreateObject();
	size_t i;

	if (!o)
		return NULL;
	add_text(o, is_item ? "item" : "id", res->id);
	if (!is_item) {
		cJSON_AddStringToObject(o, "kind", status_kind_name(res->kind));
		add_text(o, "type", res->type ? res->type : "");
		if (res->group)
			add_text(o, "group", res->group);
	}
	cJSON_AddStringToObject(o, "status", status_name(res->status));
	add_text(o, "message", res->message);
	if (res->details)
		add_text(o, "details", res->details);
	if (res->skip_reason)
		add_text(o, "skip_reason", res->skip_reason);
	else
		cJSON_AddNullToObject(o, "skip_reason");
	cJSON_AddNumberToObject(o, "attempts", res->attempts);
	add_history(o, res);
	add_devices(o, res);
	cJSON_AddItemToObject(o, "start", json_time(res->start));
	cJSON_AddItemToObject(o, "end", json_time(res->end));
	cJSON_AddNumberToObject(o, "duration_seconds", res->duration);
	if (res->resumed) {
		cJSON_AddBoolToObject(o, "resumed", true);
		add_text(o, "resumed_from", res->resumed_from ? res->resumed_from : "");
	}
	add_metrics(o, res);
	if (!is_item && res->kind == ASSAY_KIND_TRIAL) {
		add_trial(o, res);
		cJSON_AddBoolToObject(o, "best", res->best);
		cJSON_AddNumberToObject(o, "seed", res->seed);
		cJSON_AddBoolToObject(o, "pruned", res->pruned);
		if (res->pruned)
			cJSON_AddNumberToObject(o, "pruned_step", (double)res->pruned_step);
		if (res->trial_dir)
			add_text(o, "trial_dir", res->trial_dir);
	}
	if (!is_item && res->kind == ASSAY_KIND_VALIDATION) {
		cJSON *items = cJSON_AddArrayToObject(o, "items");

		for (i = 0; items && i < res->n_items; i++)
			cJSON_AddItemToArray(items, json_result(res->items[i], true));
	}
	return o;
}

/* One sweep: its best trial ("best": null when none qualified), the best
 * point's parameters and value (the mean of its repeats, their spread),
 * the counts, and why it stopped launching trials (null: it did not). */
static cJSON *json_sweep(const assay_sweep *sw)
{
	cJSON *o = cJSON_CreateObject(), *params;
	size_t i;

	if (!o)
		return NULL;
	add_text(o, "id", sw->id);
	if (sw->metric) {
		add_text(o, "metric", sw->metric);
		cJSON_AddStringToObject(o, "goal", sw->maximise ? "max" : "min");
	} else {
		cJSON_AddNullToObject(o, "metric");
		cJSON_AddNullToObject(o, "goal");
	}
	if (sw->best)
		add_text(o, "best", sw->best);
	else
		cJSON_AddNullToObject(o, "best");
	if ((params = cJSON_AddObjectToObject(o, "params")))
		for (i = 0; i < sw->n_params; i++)
			add_text(params, sw->params[i].name, sw->params[i].value);
	cJSON_AddItemToObject(o, "value", sw->best ? json_number(sw->value) : cJSON_CreateNull());
	cJSON_AddItemToObject(o, "spread", sw->best ? json_number(sw->spread) : cJSON_CreateNull());
	cJSON_AddNumberToObject(o, "repeats", sw->best ? sw->repeats : 0);
	cJSON_AddNumberToObject(o, "trials", (double)sw->trials);
	cJSON_AddNumberToObject(o, "ok", (double)sw->ok);
	cJSON_AddNumberToObject(o, "failed", (double)sw->failed);
	cJSON_AddNumberToObject(o, "pruned", (double)sw->pruned);
	cJSON_AddNumberToObject(o, "skipped", (double)sw->skipped);
	if (sw->stopped)
		add_text(o, "stopped", sw->stopped);
	else
		cJSON_AddNullToObject(o, "stopped");
	return o;
}

static int json_write(FILE *out, const assay_report *r, void *data)
{
	cJSON *root = cJSON_CreateObject(), *counts, *nodes, *sweeps, *critical;
	char *text;
	size_t i;
	int s, rc = 0;

	if (!root)
		return ASSAY_ENOMEM;
	add_text(root, "config", r->config_path ? r->config_path : "");
	if (r->run_id)
		add_text(root, "run_id", r->run_id);
	cJSON_AddStringToObject(root, "status", status_name(r->worst));
	cJSON_AddItemToObject(root, "start", json_time(r->start));
	cJSON_AddItemToObject(root, "end", json_time(r->end));
	cJSON_AddNumberToObject(root, "wall_seconds", r->wall);
	cJSON_AddNumberToObject(root, "critical_path_seconds", r->critical_path);
	critical = cJSON_AddArrayToObject(root, "critical_path");
	for (i = 0; critical && i < r->n_critical; i++)
		cJSON_AddItemToArray(critical, cJSON_CreateString(r->critical[i]));
	cJSON_AddBoolToObject(root, "interrupted", r->interrupted);
	counts = cJSON_AddObjectToObject(root, "counts");
	for (s = 0; counts && s <= ASSAY_SKIPPED; s++)
		cJSON_AddNumberToObject(counts, status_name((assay_status)s), (double)r->counts[s]);
	cJSON_AddNumberToObject(root, "total", (double)r->n_results);
	sweeps = cJSON_AddArrayToObject(root, "sweeps");
	for (i = 0; sweeps && i < r->n_sweeps; i++)
		cJSON_AddItemToArray(sweeps, json_sweep(r->sweeps[i]));
	nodes = cJSON_AddArrayToObject(root, "nodes");
	for (i = 0; nodes && i < r->n_results; i++)
		cJSON_AddItemToArray(nodes, json_result(r->results[i], false));
	text = cJSON_Print(root);
	if (!text || fprintf(out, "%s\n", text) < 0)
		rc = text ? ASSAY_ESYS : ASSAY_ENOMEM;
	cJSON_free(text);
	cJSON_Delete(root);
	return rc;
}

const assay_reporter report_json = {
	.name = "json",
	.description = "every node with status, message, metrics, attempts and times",
	.write = json_write,
};
