/* origin-hold.c — requests the origin holds: blocking playlist reloads and preload-hint parts.
 * Each held request has a deadline, a per-client quota, and dies cleanly with its connection. */

#include "origin-private.h"

#include <errno.h>
#include <gio/gio.h>
#include <string.h>
#include <sys/socket.h>

#include "http-util.h"
#include "origin-error.h"

static void
client_count_add (GcOrigin *origin, const gchar *client, gint delta)
{
  guint n =
      GPOINTER_TO_UINT (g_hash_table_lookup (origin->held_per_client, client));

  n += delta;
  if (n == 0)
    g_hash_table_remove (origin->held_per_client, client);
  else
    g_hash_table_insert (origin->held_per_client, g_strdup (client),
                         GUINT_TO_POINTER (n));
}

/* Forgets @held. When @answered, its response is ready and the message is
 * resumed; otherwise its connection is gone and nothing is sent. */
static void
held_release (GcOriginHeld *held, gboolean answered)
{
  GcOrigin *origin = held->origin;

  g_queue_unlink (&held->rendition->held, &held->link);
  g_clear_handle_id (&held->timeout_id, g_source_remove);
  g_clear_signal_handler (&held->finished_id, held->msg);
  g_clear_signal_handler (&held->disconnected_id, held->msg);
  if (held->hangup_source != NULL) {
    g_source_destroy (held->hangup_source);
    g_clear_pointer (&held->hangup_source, g_source_unref);
  }
  client_count_add (origin, held->client, -1);
  origin->n_held--;
  if (answered)
    soup_server_message_unpause (held->msg);
  else
    origin->held_abandoned++;
  g_object_unref (held->msg);
  g_free (held->file);
  g_free (held->client);
  g_free (held);
}

static void
held_fail (GcOriginHeld *held, const GError *error)
{
  gc_http_reply_error (held->msg, error);
  held_release (held, TRUE);
}

static gboolean
on_timeout (gpointer user_data)
{
  GcOriginHeld *held = user_data;
  g_autoptr (GError) error = NULL;

  held->timeout_id = 0;
  held->origin->held_timeouts++;
  error = g_error_new (GC_ORIGIN_ERROR, GC_ORIGIN_ERROR_UNAVAILABLE,
                       held->kind == GC_ORIGIN_HELD_PART
                           ? "part did not appear within three target "
                             "durations"
                           : "playlist did not reach the requested part "
                             "within three target durations");
  held_fail (held, error);
  return G_SOURCE_REMOVE;
}

static void
on_gone (SoupServerMessage *msg, gpointer user_data)
{
  held_release (user_data, FALSE);
}

/* libsoup does not read from a connection whose message is paused, so it
 * would only learn of a client hanging up when writing the answer. Watching
 * the socket ourselves frees the slot (and the client's quota) at once. */
static gboolean
on_socket_event (GSocket *socket, GIOCondition condition, gpointer user_data)
{
  GcOriginHeld *held = user_data;
  gchar byte;
  gssize n;

  if (!(condition & (G_IO_HUP | G_IO_ERR))) {
    n = recv (g_socket_get_fd (socket), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n > 0) {
      /* A pipelined request: not a hang-up, and libsoup will read it after
       * this answer; stop watching so as not to spin. */
      g_clear_pointer (&held->hangup_source, g_source_unref);
      return G_SOURCE_REMOVE;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
      return G_SOURCE_CONTINUE;
  }
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_DEBUG, "MESSAGE",
                    "client %s hung up while held", held->client);
  g_clear_pointer (&held->hangup_source, g_source_unref);
  held_release (held, FALSE);
  return G_SOURCE_REMOVE;
}

gboolean
gc_origin_hold (GcOrigin *origin, GcOriginRendition *rendition,
                SoupServerMessage *msg, GcOriginHeldKind kind,
                const GcHlsQuery *query, const gchar *file, GError **error)
{
  GcOriginHeld *held;
  const gchar *client = soup_server_message_get_remote_host (msg);
  guint per_client;
  guint timeout_ms;
  GSocket *socket;

  if (client == NULL)
    client = "unknown";
  per_client =
      GPOINTER_TO_UINT (g_hash_table_lookup (origin->held_per_client, client));
  if (per_client >= origin->limits.max_held_per_client) {
    origin->held_rejected++;
    g_set_error (error, GC_ORIGIN_ERROR, GC_ORIGIN_ERROR_TOO_MANY_HELD,
                 "too many held requests from this address (limit %u)",
                 origin->limits.max_held_per_client);
    return FALSE;
  }
  if (origin->n_held >= origin->limits.max_held_total) {
    origin->held_rejected++;
    g_set_error (error, GC_ORIGIN_ERROR, GC_ORIGIN_ERROR_UNAVAILABLE,
                 "too many held requests");
    return FALSE;
  }

  held = g_new0 (GcOriginHeld, 1);
  held->origin = origin;
  held->rendition = rendition;
  held->link.data = held;
  held->msg = g_object_ref (msg);
  held->kind = kind;
  if (query != NULL)
    held->query = *query;
  held->file = g_strdup (file);
  held->client = g_strdup (client);
  g_queue_push_tail_link (&rendition->held, &held->link);
  client_count_add (origin, client, +1);
  origin->n_held++;
  origin->held_total++;

  /* RFC 8216bis 6.2.5.2: 503 when not available within three target
   * durations. */
  timeout_ms = 3000 * gc_origin_rendition_target_duration (rendition);
  held->timeout_id = g_timeout_add (timeout_ms, on_timeout, held);
  held->finished_id =
      g_signal_connect (msg, "finished", G_CALLBACK (on_gone), held);
  held->disconnected_id =
      g_signal_connect (msg, "disconnected", G_CALLBACK (on_gone), held);
  socket = soup_server_message_get_socket (msg);
  if (socket != NULL) {
    held->hangup_source =
        g_socket_create_source (socket, G_IO_IN | G_IO_HUP | G_IO_ERR, NULL);
    g_source_set_callback (held->hangup_source, G_SOURCE_FUNC (on_socket_event),
                           held, NULL);
    g_source_attach (held->hangup_source, NULL);
  }
  soup_server_message_pause (msg);
  return TRUE;
}

static void
held_try (GcOriginHeld *held, const gchar *file)
{
  GcOriginRendition *rendition = held->rendition;

  if (held->kind == GC_ORIGIN_HELD_PLAYLIST) {
    if (file != NULL || rendition->playlist == NULL)
      return;
    if (!gc_playlist_satisfies (rendition->playlist, held->query.msn,
                                held->query.part))
      return;
    gc_origin_reply_playlist (held->origin, rendition, held->msg, &held->query);
    held_release (held, TRUE);
    return;
  }

  if (file == NULL || strcmp (file, held->file) == 0) {
    g_autoptr (GError) error = NULL;
    g_autoptr (GBytes) bytes = NULL;

    /* On a playlist update, a part that was never written (the segment
     * ended first) is behind the live edge: it will not come. */
    if (file == NULL && gc_origin_part_is_upcoming (rendition, held->file))
      return;
    bytes = gc_origin_rendition_read_file (rendition, held->file, &error);
    if (bytes == NULL) {
      if (file == NULL &&
          g_error_matches (error, GC_ORIGIN_ERROR, GC_ORIGIN_ERROR_NOT_FOUND))
        g_prefix_error (&error, "part skipped by the writer: ");
      held_fail (held, error);
      return;
    }
    gc_origin_reply_media (held->msg, held->file, bytes);
    held_release (held, TRUE);
  }
}

/* Called when @file appeared in the rendition folder, or with NULL when its
 * playlist changed. */
void
gc_origin_held_wake (GcOriginRendition *rendition, const gchar *file)
{
  GList *l = rendition->held.head;

  while (l != NULL) {
    GcOriginHeld *held = l->data;

    l = l->next;
    held_try (held, file);
  }
}

void
gc_origin_held_fail_all (GcOriginRendition *rendition, const GError *error)
{
  while (rendition->held.head != NULL)
    held_fail (rendition->held.head->data, error);
}
