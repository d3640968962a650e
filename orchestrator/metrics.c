/* metrics.c — request counters by status class, bytes out, aborted requests.
 * Plain integers owned by the main context: every HTTP callback runs there, so no atomics are needed. */

#include "metrics.h"

struct _GcMetrics {
  guint64 requests[6]; /* index: status / 100 (0 for anything odd) */
  guint64 bytes_out;
  guint64 aborted;
};

GcMetrics *
gc_metrics_new (void)
{
  return g_new0 (GcMetrics, 1);
}

void
gc_metrics_free (GcMetrics *metrics)
{
  g_free (metrics);
}

void
gc_metrics_count_request (GcMetrics *metrics, guint status, guint64 bytes)
{
  guint cls = status / 100;

  g_return_if_fail (metrics != NULL);

  if (cls < 1 || cls > 5)
    cls = 0;
  metrics->requests[cls]++;
  metrics->bytes_out += bytes;
}

void
gc_metrics_count_aborted (GcMetrics *metrics)
{
  g_return_if_fail (metrics != NULL);
  metrics->aborted++;
}

void
gc_metrics_append (GcMetrics *metrics, GString *out)
{
  static const gchar *const classes[] = {"other", "1xx", "2xx",
                                         "3xx",   "4xx", "5xx"};

  g_return_if_fail (metrics != NULL);
  g_return_if_fail (out != NULL);

  g_string_append (out, "# HELP glasscast_http_requests_total HTTP requests "
                        "answered, by status class.\n"
                        "# TYPE glasscast_http_requests_total counter\n");
  for (guint i = 1; i < G_N_ELEMENTS (classes); i++)
    g_string_append_printf (
        out,
        "glasscast_http_requests_total{class=\"%s\"} %" G_GUINT64_FORMAT "\n",
        classes[i], metrics->requests[i]);
  g_string_append_printf (
      out,
      "# HELP glasscast_http_requests_aborted_total Requests whose client went "
      "away before the answer.\n"
      "# TYPE glasscast_http_requests_aborted_total counter\n"
      "glasscast_http_requests_aborted_total %" G_GUINT64_FORMAT "\n"
      "# HELP glasscast_http_bytes_out_total Response body bytes sent.\n"
      "# TYPE glasscast_http_bytes_out_total counter\n"
      "glasscast_http_bytes_out_total %" G_GUINT64_FORMAT "\n",
      metrics->aborted, metrics->bytes_out);
}
