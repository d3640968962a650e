/* metrics.h — glasscastd's HTTP counters and their Prometheus text exposition.
 * Components append their own families; this file owns the request and byte counters. */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _GcMetrics GcMetrics;

GcMetrics *gc_metrics_new (void);
void gc_metrics_free (GcMetrics *metrics);

/* Counts one answered request (@status) that sent @bytes of body. */
void gc_metrics_count_request (GcMetrics *metrics, guint status, guint64 bytes);

/* Counts one request whose connection died before its answer was sent. */
void gc_metrics_count_aborted (GcMetrics *metrics);

/* Appends the counters in Prometheus text format to @out. */
void gc_metrics_append (GcMetrics *metrics, GString *out);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GcMetrics, gc_metrics_free)

G_END_DECLS
