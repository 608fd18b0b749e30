/* http_time.c -- the response time: the server's share of what libcurl measured, without the time a transfer waited in libcurl for a connection. */
#include <time.h>

#include "http.h"

int64_t http_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* libcurl 7.88 starts the total when the transfer is added, but restarts
 * the clock of its phases (connect, TLS, first byte) each time the
 * transfer leaves its queue of transfers waiting for a connection (what
 * 8.6 reports as CURLINFO_QUEUE_TIME_T).  So the first byte's time plus
 * what followed it is the time spent out of the queue. */
double http_queue_seconds(double total, double ttfb, int64_t first_byte_ns, int64_t done_ns)
{
	double served;

	if (!first_byte_ns || done_ns < first_byte_ns)
		return 0;
	served = ttfb + (double)(done_ns - first_byte_ns) / 1e9;
	return total > served ? total - served : 0;
}
