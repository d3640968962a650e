/* chat-node.c — a glasscastd stand-in for chat tests and the fan-out benchmark: a SoupServer on 127.0.0.1
 * upgrades /chat/<room> and hands the socket to a GcChatService, the way glasscastd will embed the chat.
 * Identity comes from the query string (?user=&roles=&created=&followed=): tests only, never in production. */

#include <libsoup/soup.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chat.h"

typedef struct {
  GcChatService *service;
  SoupServer *soup;
} Node;

static GcChatRoles
parse_roles (const gchar *list)
{
  g_auto (GStrv) names = g_strsplit (list ? list : "", ",", -1);
  GcChatRoles roles = 0;

  for (guint i = 0; names[i] != NULL; i++) {
    if (g_str_equal (names[i], "broadcaster"))
      roles |= GC_CHAT_ROLE_BROADCASTER;
    else if (g_str_equal (names[i], "moderator"))
      roles |= GC_CHAT_ROLE_MODERATOR;
    else if (g_str_equal (names[i], "vip"))
      roles |= GC_CHAT_ROLE_VIP;
    else if (g_str_equal (names[i], "subscriber"))
      roles |= GC_CHAT_ROLE_SUBSCRIBER;
  }
  return roles;
}

typedef struct {
  Node *node;
  gchar *room;
  GcChatIdentity *identity;
  GSocket *socket;
} Upgrade;

static void
upgrade_free (gpointer data)
{
  Upgrade *u = data;

  g_free (u->room);
  gc_chat_identity_unref (u->identity);
  g_clear_object (&u->socket);
  g_free (u);
}

static void
upgrade_closure_free (gpointer data, GClosure *closure)
{
  upgrade_free (data);
}

/* The 101 is on the wire: take the socket from libsoup and give it to the
 * chat hub. libsoup's stream is closed; our dup of the fd lives on. */
static void
on_wrote_informational (SoupServerMessage *msg, gpointer user_data)
{
  Upgrade *u = user_data;
  g_autoptr (GIOStream) stream = NULL;
  int fd;

  if (soup_server_message_get_status (msg) != SOUP_STATUS_SWITCHING_PROTOCOLS)
    return;
  fd = dup (g_socket_get_fd (u->socket));
  stream = soup_server_message_steal_connection (msg);
  g_io_stream_close (stream, NULL, NULL);
  if (fd >= 0)
    gc_chat_service_adopt_connection (u->node->service, fd, u->room,
                                      u->identity, NULL);
}

static void
on_chat (SoupServer *server, SoupServerMessage *msg, const char *path,
         GHashTable *query, gpointer user_data)
{
  Node *node = user_data;
  const gchar *room = path + strlen ("/chat/");
  const gchar *login = query ? g_hash_table_lookup (query, "user") : NULL;
  const gchar *roles = query ? g_hash_table_lookup (query, "roles") : NULL;
  const gchar *created = query ? g_hash_table_lookup (query, "created") : NULL;
  const gchar *followed =
      query ? g_hash_table_lookup (query, "followed") : NULL;
  gint64 now = g_get_real_time () / 1000;
  Upgrade *u;

  if (!gc_chat_room_name_is_valid (room)) {
    soup_server_message_set_status (msg, SOUP_STATUS_NOT_FOUND, NULL);
    return;
  }
  /* No extensions offered back: permessage-deflate stays off. */
  if (!soup_websocket_server_process_handshake (msg, NULL, NULL, NULL, NULL))
    return;
  u = g_new0 (Upgrade, 1);
  u->node = node;
  u->room = g_strdup (room);
  u->socket = g_object_ref (soup_server_message_get_socket (msg));
  u->identity = gc_chat_identity_new (
      login, NULL, parse_roles (roles),
      created ? g_ascii_strtoll (created, NULL, 10) : now - 86400000LL * 365,
      followed ? g_ascii_strtoll (followed, NULL, 10) : now - 86400000LL,
      soup_server_message_get_remote_host (msg));
  g_signal_connect_data (msg, "wrote-informational",
                         G_CALLBACK (on_wrote_informational), u,
                         upgrade_closure_free, 0);
}

static void
on_stats (SoupServer *server, SoupServerMessage *msg, const char *path,
          GHashTable *query, gpointer user_data)
{
  Node *node = user_data;
  GcChatServiceStats s;
  g_autofree gchar *body = NULL;

  gc_chat_service_get_stats (node->service, &s);
  body =
      g_strdup_printf ("{\"connections\":%" G_GUINT64_FORMAT
                       ",\"frames_sent\":%" G_GUINT64_FORMAT
                       ",\"slow_dropped\":%" G_GUINT64_FORMAT
                       ",\"broadcasts_dropped\":%" G_GUINT64_FORMAT
                       ",\"accepted\":%" G_GUINT64_FORMAT
                       ",\"redis_up\":%s,\"redis_backlog\":%u}",
                       s.hub.connections, s.hub.frames_sent, s.hub.slow_dropped,
                       s.hub.broadcasts_dropped, s.messages_accepted,
                       s.redis_up ? "true" : "false", s.redis_backlog);
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_COPY,
                                    body, strlen (body));
}

static gboolean
on_stdin_hup (GIOChannel *source, GIOCondition condition, gpointer data)
{
  /* The test or benchmark that started us is gone: so are we. */
  g_main_loop_quit (data);
  return G_SOURCE_REMOVE;
}

int
main (int argc, char **argv)
{
  g_autofree gchar *redis = NULL;
  g_autofree gchar *node_id = NULL;
  g_autofree gchar *archive = NULL;
  gint threads = 1;
  gint idle = 75;
  gint queue_kb = 256;
  gint inbound = 10;
  gint rate = 20;
  GOptionEntry entries[] = {
      {"redis", 0, 0, G_OPTION_ARG_STRING, &redis, "Redis address", "ADDR"},
      {"node-id", 0, 0, G_OPTION_ARG_STRING, &node_id, "node id", "ID"},
      {"archive", 0, 0, G_OPTION_ARG_FILENAME, &archive, "SQLite file", "F"},
      {"threads", 0, 0, G_OPTION_ARG_INT, &threads, "hub threads", "N"},
      {"idle-timeout", 0, 0, G_OPTION_ARG_INT, &idle, "seconds", "S"},
      {"queue-kb", 0, 0, G_OPTION_ARG_INT, &queue_kb, "send queue", "KB"},
      {"inbound", 0, 0, G_OPTION_ARG_INT, &inbound, "frames/s per conn", "N"},
      {"rate", 0, 0, G_OPTION_ARG_INT, &rate, "messages/30 s per user", "N"},
      {NULL},
  };
  g_autoptr (GOptionContext) opts = g_option_context_new ("- chat test node");
  g_autoptr (GError) error = NULL;
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr (GIOChannel) in = NULL;
  GcChatConfig config;
  Node node = {0};
  GSList *uris;
  struct stat st;
  struct rlimit rl;
  g_autoptr (GSocket) listener = NULL;
  g_autoptr (GSocketAddress) any = NULL;

  /* Every viewer is a file descriptor: take all the kernel allows. */
  if (getrlimit (RLIMIT_NOFILE, &rl) == 0) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit (RLIMIT_NOFILE, &rl);
  }
  g_option_context_add_main_entries (opts, entries, NULL);
  if (!g_option_context_parse (opts, &argc, &argv, &error)) {
    g_printerr ("%s\n", error->message);
    return 2;
  }
  gc_chat_config_init (&config);
  config.redis_address = redis;
  config.node_id = node_id;
  config.archive_path = archive;
  config.presence_interval_ms = 1000;
  config.hub.threads = (guint)threads;
  config.hub.idle_timeout_seconds = (guint)idle;
  config.hub.send_queue_bytes = (gsize)queue_kb * 1024;
  config.hub.inbound_per_second = (guint)inbound;
  config.limits.rate_messages = (guint)rate;
  node.service = gc_chat_service_new (&config, NULL, &error);
  if (node.service == NULL) {
    g_printerr ("%s\n", error->message);
    return 1;
  }
  node.soup = soup_server_new ("server-header", "chat-node", NULL);
  soup_server_add_handler (node.soup, "/chat/", on_chat, &node, NULL);
  soup_server_add_handler (node.soup, "/stats", on_stats, &node, NULL);
  /* Our own listening socket: GSocketListener's backlog of 10 resets
   * connections when thousands of viewers arrive at once (the benchmark). */
  listener = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                           G_SOCKET_PROTOCOL_TCP, &error);
  any = g_inet_socket_address_new_from_string ("127.0.0.1", 0);
  g_socket_set_listen_backlog (listener, 4096);
  if (listener == NULL || !g_socket_bind (listener, any, TRUE, &error) ||
      !g_socket_listen (listener, &error) ||
      !soup_server_listen_socket (node.soup, listener, 0, &error)) {
    g_printerr ("%s\n", error->message);
    return 1;
  }
  uris = soup_server_get_uris (node.soup);
  printf ("PORT %d\n", g_uri_get_port (uris->data));
  fflush (stdout);
  g_slist_free_full (uris, (GDestroyNotify)g_uri_unref);

  /* Started with a pipe on stdin: its end is our parent's end. */
  if (fstat (0, &st) == 0 && S_ISFIFO (st.st_mode)) {
    in = g_io_channel_unix_new (0);
    g_io_add_watch (in, G_IO_HUP | G_IO_ERR | G_IO_IN, on_stdin_hup, loop);
  }
  g_main_loop_run (loop);

  soup_server_disconnect (node.soup);
  g_object_unref (node.soup);
  gc_chat_service_free (node.service);
  return 0;
}
