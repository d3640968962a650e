/* channel-error.h — the error domain of channels, WHIP sessions, workers and the channel API.
 * Raised by whip.c, api.c, channels.c and worker.c; http-util.c alone turns them into statuses. */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define GC_CHANNEL_ERROR (gc_channel_error_quark ())
GQuark gc_channel_error_quark (void);

typedef enum {
  GC_CHANNEL_ERROR_BAD_REQUEST,    /* malformed SDP, JSON, name or fragment */
  GC_CHANNEL_ERROR_UNAUTHORIZED,   /* missing or wrong stream key/token */
  GC_CHANNEL_ERROR_FORBIDDEN,      /* channel disabled; admin API off */
  GC_CHANNEL_ERROR_NOT_FOUND,      /* no such channel or session */
  GC_CHANNEL_ERROR_METHOD,         /* method not allowed on this resource */
  GC_CHANNEL_ERROR_NOT_ACCEPTABLE, /* an offer with nothing we can receive */
  GC_CHANNEL_ERROR_CONFLICT,       /* channel already live, or exists */
  GC_CHANNEL_ERROR_PRECONDITION,   /* If-Match does not match the ETag */
  GC_CHANNEL_ERROR_TOO_LARGE,      /* request body over the limit */
  GC_CHANNEL_ERROR_MEDIA_TYPE,     /* wrong Content-Type */
  GC_CHANNEL_ERROR_UNPROCESSABLE,  /* understood, but not possible (ICE
                                      restart the worker cannot do) */
  GC_CHANNEL_ERROR_UNAVAILABLE,    /* worker failed to start or answer */
  GC_CHANNEL_ERROR_INTERNAL,       /* anything else */
} GcChannelErrorCode;

G_END_DECLS
