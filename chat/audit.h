/* audit.h — the record every moderation action leaves, and the sink glasscastd plugs in to keep them.
 * Written once, by the node where the action was taken (other nodes only apply it). */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  const gchar *room;
  const gchar *actor;  /* login of the moderator (or "system") */
  const gchar *action; /* wire name: "ban", "timeout", "delete", ... */
  const gchar *target; /* (nullable) login, message id, term or address */
  const gchar *reason; /* (nullable) */
  const gchar *detail; /* (nullable) JSON of the full action */
  gint64 ts_ms;
} GcChatAuditRecord;

/* Called on the main context; @record is only valid during the call. */
typedef void (*GcChatAuditFunc) (const GcChatAuditRecord *record,
                                 gpointer user_data);

G_END_DECLS
