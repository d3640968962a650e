/* origin-error.h — the error domain of the origin and of glasscastd's HTTP layer.
 * Every failure a request can meet is one of these codes; http-util.c maps them to statuses. */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define GC_ORIGIN_ERROR (gc_origin_error_quark ())
GQuark gc_origin_error_quark (void);

typedef enum {
  GC_ORIGIN_ERROR_BAD_REQUEST,   /* malformed query or path */
  GC_ORIGIN_ERROR_NOT_FOUND,     /* no such channel, rendition or file */
  GC_ORIGIN_ERROR_FORBIDDEN,     /* path escapes the media folder */
  GC_ORIGIN_ERROR_METHOD,        /* method not allowed */
  GC_ORIGIN_ERROR_TOO_MANY_HELD, /* per-client limit of held requests */
  GC_ORIGIN_ERROR_UNAVAILABLE,   /* not available in time, or overloaded */
  GC_ORIGIN_ERROR_INTERNAL,      /* unreadable file, broken playlist */
} GcOriginErrorCode;

G_END_DECLS
