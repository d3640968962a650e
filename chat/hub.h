/* hub.h — the chat hub: WebSocket connections of chat rooms, served by epoll loops on threads of their own.
 * glasscastd does the HTTP upgrade (libsoup) and hands the socket over; the hub then owns it. */

#pragma once

#include <glib.h>

#include "identity.h"

G_BEGIN_DECLS

typedef struct _GcChatHub GcChatHub;

typedef struct {
  gsize max_message_bytes;      /* largest client message; default 16 KiB */
  gsize send_queue_bytes;       /* per connection; default 256 KiB. Beyond,
                                 the slow consumer is dropped (1008) */
  guint threads;                /* epoll loops; connections are spread over
                                 them; default 1 */
  guint ping_interval_seconds;  /* server pings; default 30, 0: none */
  guint idle_timeout_seconds;   /* nothing received for that long: closed;
                                  default 75, 0: never */
  guint inbound_per_second;     /* client frames per second, burst 2x;
                                  beyond: closed (1008). Default 10 */
  guint max_pending_broadcasts; /* per loop; beyond, new broadcasts are
                                   dropped and counted. Default 256 */
} GcChatHubConfig;

void gc_chat_hub_config_init (GcChatHubConfig *config);

/* Called on the main context given to gc_chat_hub_new(), in the order
 * things happened on each connection: opened, then text..., then closed. */
typedef struct {
  void (*opened) (GcChatHub *hub, guint64 conn, const gchar *room,
                  GcChatIdentity *identity, gpointer user_data);
  /* One whole text message, valid UTF-8, not NUL-terminated in general. */
  void (*text) (GcChatHub *hub, guint64 conn, const gchar *room,
                GcChatIdentity *identity, const gchar *text, gsize len,
                gpointer user_data);
  void (*closed) (GcChatHub *hub, guint64 conn, const gchar *room,
                  GcChatIdentity *identity, guint16 code, gpointer user_data);
} GcChatHubCallbacks;

typedef struct {
  guint64 connections; /* open now */
  guint64 accepted;    /* adopted since start */
  guint64 frames_sent; /* deliveries: one frame to one connection */
  guint64 bytes_sent;
  guint64 frames_received;    /* client messages */
  guint64 slow_dropped;       /* connections closed for a full send queue */
  guint64 broadcasts_dropped; /* frames shed by an overloaded loop */
  guint64 queued_bytes;       /* waiting in send queues now */
} GcChatHubStats;

/* Starts the hub's threads. @context: (nullable): where callbacks run
 * (NULL: the global default context).
 * Returns: (transfer full) (nullable): the hub, or NULL with @error when
 * epoll or the threads cannot be created. */
GcChatHub *gc_chat_hub_new (const GcChatHubConfig *config,
                            GMainContext *context,
                            const GcChatHubCallbacks *callbacks,
                            gpointer user_data, GError **error);

/* Stops the threads and closes every connection (no callbacks after this
 * returns). Call from the callbacks' context. */
void gc_chat_hub_free (GcChatHub *hub);

/* Takes over @fd, an upgraded WebSocket (the 101 response already sent,
 * no extension negotiated), as a member of @room. @initial_bytes:
 * (nullable): bytes the HTTP server read past the request, if any.
 * Thread-safe. Returns: the connection id (never 0). */
guint64 gc_chat_hub_adopt_connection (GcChatHub *hub, int fd, const gchar *room,
                                      GcChatIdentity *identity,
                                      GBytes *initial_bytes);

/* Queues @frame (a whole encoded WebSocket frame, see gc_ws_frame_encode)
 * to every connection of @room. The same buffer is shared by all of them:
 * nothing is copied per connection. Thread-safe. */
void gc_chat_hub_broadcast (GcChatHub *hub, const gchar *room, GBytes *frame);

/* Queues @frame to one connection. Thread-safe; ignored if it is gone. */
void gc_chat_hub_send (GcChatHub *hub, guint64 conn, GBytes *frame);

/* Sends a close frame and closes. Thread-safe. */
void gc_chat_hub_close (GcChatHub *hub, guint64 conn, guint16 code,
                        const gchar *reason);

/* Thread-safe, approximate while traffic flows. */
void gc_chat_hub_get_stats (GcChatHub *hub, GcChatHubStats *stats);

G_END_DECLS
