/* room-private.h — the GcChatRoom struct, shared by room.c (state) and room-rules.c (checks).
 * Everything here belongs to the main context. */

#pragma once

#include "room.h"

typedef struct {
  GcChatRoles roles;    /* from the identity last seen */
  GPtrArray *addresses; /* gchar*, most recent last, at most 4 */
} KnownUser;

typedef struct {
  gint64 last_ms;   /* slow-mode clock: last accepted message */
  gdouble tokens;   /* rate limit token bucket */
  gint64 tokens_ms; /* when tokens was computed */
} UserClock;

typedef struct {
  GcChatRoles granted;
  GcChatRoles revoked;
} Grant;

typedef struct {
  gchar *text; /* normalised; also the key in unique_seen */
  gint64 ts_ms;
} UniqueEntry;

typedef struct {
  GcChatMessage *msg;
  gchar *term;
} Held;

struct _GcChatRoom {
  gchar *name;
  GcChatLimits limits;
  GcChatSettings settings;

  GHashTable *bans;         /* login -> NULL (set) */
  GHashTable *address_bans; /* address -> NULL (set) */
  GHashTable *timeouts;     /* login -> gint64* until_ms */
  GHashTable *grants;       /* login -> Grant* */
  GHashTable *known;        /* login -> KnownUser* */
  GHashTable *clocks;       /* login -> UserClock* */
  GHashTable *term_specs;   /* canonical term -> GINT_TO_POINTER (hold) */
  GcChatTerms *terms;       /* compiled from term_specs; NULL: none */

  GHashTable *unique_seen; /* normalised text -> UniqueEntry* (in queue) */
  GQueue unique_queue;     /* UniqueEntry*, oldest first */

  GQueue history; /* GcChatMessage*, oldest first */
  GQueue held;    /* Held*, oldest first */
};

UserClock *gc_chat_room_clock (GcChatRoom *room, const gchar *login,
                               gboolean create);
void gc_chat_room_refill (GcChatRoom *room, UserClock *clock, gdouble capacity,
                          gint64 now_ms);
