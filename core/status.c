/* status.c -- status, kind and log-level names, error strings (the ranking of states is inline in status.h). */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include "status.h"

const char *status_name(assay_status s)
{
	static const char *const names[] = { "OK", "WARNING", "CRITICAL", "UNKNOWN", "SKIPPED" };

	return (unsigned)s < sizeof names / sizeof *names ? names[s] : "UNKNOWN";
}

const char *status_kind_name(unsigned kind)
{
	switch (kind) {
	case ASSAY_KIND_CHECK: return "check";
	case ASSAY_KIND_TRIAL: return "trial";
	case ASSAY_KIND_VALIDATION: return "validation";
	default: return "node";
	}
}

const char *status_level_name(int level)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };

	return level >= 0 && level <= ASSAY_LOG_DEBUG ? names[level] : "debug";
}

const char *status_strerror(int code)
{
	switch (code) {
	case 0: return "success";
	case ASSAY_ENOMEM: return "out of memory";
	case ASSAY_EINVAL: return "invalid argument";
	case ASSAY_EEXIST: return "already registered";
	case ASSAY_EABI: return "plugin ABI version mismatch";
	case ASSAY_ESTATE: return "called at the wrong time";
	case ASSAY_EAGAIN: return "not available now";
	case ASSAY_ENEVER: return "can never be satisfied here";
	case ASSAY_ESYS: return "system call failed";
	case ASSAY_ECANCELED: return "cancelled";
	default: return "unknown error";
	}
}
