/* http_plugin.c -- the http plugin's entry point: libcurl set up, [plugins.http] read, the `http` node type registered. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "http.h"

static const char *const http_options[] = {
	"url", "method", "headers", "body", "body_file", "query", "follow_redirects",
	"connect_timeout", "ca_file", "client_cert", "client_key", "insecure", "expect",
	"response_time", "rate_limit", "circuit_breaker", NULL
};

static const char *const http_plugin_keys[] = { "rate_limit", "circuit_breaker", NULL };

/* [plugins.http]: defaults every node can override.  Returns the number
 * of errors reported. */
static int read_config(http_plugin *pl, assay_plugin *plugin)
{
	const assay_host *h = pl->host;
	const assay_value *cfg = h->plugin_config(plugin);
	int errors = 0;

	for (size_t i = 0; cfg && i < h->value_len(cfg); i++) {
		const char *key = NULL;
		const assay_value *v = h->value_at(cfg, i, &key);

		if (h->check_key(v, "[plugins.http]", http_plugin_keys) < 0)
			errors++;
		else if (strcmp(key, "rate_limit") == 0)
			errors += !http_prepare_rate(pl, v, &pl->rate_limit);
		else
			errors += !http_prepare_breaker(pl, v, &pl->circuit_breaker);
	}
	return errors;
}

static void http_plugin_free(void *data)
{
	http_plugin *pl = data;

	if (!pl)
		return;
	http_multi_release(&pl->multi);
	free(pl);
	curl_global_cleanup();
}

ASSAY_EXPORT
int assay_plugin_init(const assay_host *host, assay_plugin *plugin)
{
	static const assay_plugin_info info = {
		.abi_version = ASSAY_ABI_VERSION,
		.abi_minor = ASSAY_ABI_MINOR,
		.name = "http",
		.version = "1.0.0",
		.description = "HTTP(S) checks with libcurl: status, headers, body and JSON assertions, rate limit, circuit breaker",
	};
	const curl_version_info_data *cv;
	http_plugin *pl;
	int rc = host->declare(plugin, &info);

	if (rc < 0)
		return rc;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		host->plugin_log(plugin, ASSAY_LOG_ERROR, "cannot initialise libcurl");
		return ASSAY_ESYS;
	}
	if (!(pl = calloc(1, sizeof *pl))) {
		host->plugin_log(plugin, ASSAY_LOG_ERROR, "cannot initialise: out of memory");
		curl_global_cleanup();
		return ASSAY_ENOMEM;
	}
	pl->host = host;
	http_multi_init(&pl->multi);
	cv = curl_version_info(CURLVERSION_NOW);
	pl->have_http2 = cv && (cv->features & CURL_VERSION_HTTP2);
	snprintf(pl->user_agent, sizeof pl->user_agent, "assay-http/%s libcurl/%s", info.version,
		 cv && cv->version ? cv->version : "?");
	if (read_config(pl, plugin) > 0) {
		http_plugin_free(pl);
		return ASSAY_EINVAL;
	}
	pl->type = (assay_node_type){
		.name = "http",
		.kinds = ASSAY_KIND_CHECK | ASSAY_KIND_TRIAL | ASSAY_KIND_VALIDATION,
		.description = "request a URL and check status, headers, body and JSON; metrics time_total, ttfb, size",
		.options = http_options,
		.prepare = http_prepare,
		.run = http_run,
		.cancel = http_cancel,
		.release = http_release,
		.data = pl,
		/* Frees the type struct too: the host's last use of it. */
		.free_data = http_plugin_free,
	};
	rc = host->register_node_type(plugin, &pl->type);
	if (rc < 0) {
		host->plugin_log(plugin, ASSAY_LOG_ERROR, "cannot register node type `http`: %s",
				 host->strerror(rc));
		http_plugin_free(pl);
		return rc;
	}
	return 0;
}
