/* config.h — glasscastd's settings: defaults, the INI file (GKeyFile), command-line overrides.
 * Every key is documented in examples/glasscast.ini. */

#pragma once

#include <gio/gio.h>

#include "origin.h"

G_BEGIN_DECLS

/* One [channel:NAME] group. */
typedef struct {
  gchar *name;
  gchar *stream_key_hash; /* (nullable) gc_secret_hash() form; NULL: nobody
                             can publish */
  gchar *pipeline;        /* (nullable) NULL: [worker] pipeline */
  gchar *owner;           /* (nullable) username of the creator account that
                             owns it (its broadcaster in chat) */
  gboolean enabled;
} GcChannelConfig;

/* [chat]: the chat service glasscastd embeds (chat/). */
typedef struct {
  gchar *redis;        /* (nullable) "unix:/path" or "host:port" shared by
                            every node; NULL: glasscastd starts its own
                            redis-server (one node) */
  gchar *redis_server; /* the program started when redis is unset */
  gchar *node_id;      /* (nullable) NULL: random per start */
  gchar *archive;      /* (nullable) SQLite file; NULL: data-dir/chat.db */
  guint hub_threads;   /* epoll threads owning the viewers' sockets */
  gsize send_queue_bytes;
  guint presence_interval_ms;
} GcConfigChat;

/* [accounts]: sign-up, sign-in, sessions. */
typedef struct {
  gchar *database;     /* (nullable) NULL: data-dir/accounts.db */
  gchar *secret_file;  /* (nullable) 32 bytes signing session tokens;
                           NULL: "session-secret" beside the database. Nodes
                           sharing accounts share this file. */
  guint session_ttl_s; /* lifetime of a session token */
} GcConfigAccounts;

/* [webrtc]: what workers tell ICE, and the Link headers of WHIP answers. */
typedef struct {
  gchar *stun_server;     /* (nullable) "stun:host:port", comma-separated */
  gchar *turn_server;     /* (nullable) "turn:host:port?transport=udp" ... */
  gchar *turn_username;   /* (nullable) */
  gchar *turn_credential; /* (nullable) a secret: never logged */
  gchar *ice_address;     /* (nullable) the only local address ICE uses */
  gchar *public_address;  /* (nullable) 1:1 NAT: advertised instead */
  guint udp_port_min;     /* 0: any port */
  guint udp_port_max;
} GcWebrtcConfig;

/* [worker]: the channel worker processes. */
typedef struct {
  gchar *program;          /* (nullable) NULL: glasscast-worker beside us */
  gchar *pipeline;         /* default gst-launch description */
  guint answer_timeout_ms; /* offer -> answer */
  guint heartbeat_timeout_ms;
  guint stop_timeout_ms; /* "stop" -> SIGKILL */
} GcWorkerConfig;

typedef struct {
  gchar *listen;           /* host:port; port 0 lets the kernel choose */
  gchar *data_dir;         /* durable state */
  gchar *media_dir;        /* LL-HLS folders, one per channel (tmpfs) */
  gchar *log_level;        /* error, warning, info, debug */
  gchar *admin_token_hash; /* (nullable) NULL: admin API refused */
  gchar *plugin_path;      /* (nullable) prepended to workers'
                              GST_PLUGIN_PATH */
  gchar *web_dir;          /* the pages' folder (orchestrator/web) */
  gchar *hlsjs_path;       /* hls.js builds (node_modules/hls.js/dist) */
  GcOriginLimits origin;
  GcWebrtcConfig webrtc;
  GcWorkerConfig worker;
  GcConfigChat chat;
  GcConfigAccounts accounts;
  GPtrArray *channels; /* GcChannelConfig, in file order */
} GcConfig;

/* The pipeline workers run unless configured otherwise; {location} becomes
 * the channel's folder under media-dir. chatstamp stamps capture times and
 * puts the room's chat events ({redis}, {chat-events}: '' without Redis)
 * into the video rendition as emsg; audio needs none, as llhlssink gives
 * segment N of every rendition the video's program date time. audiorate:
 * WebRTC audio timestamps jitter by 10-15 ms around the RTP clock
 * (jitterbuffer, RTCP sync); it makes them contiguous (resyncing only
 * beyond 40 ms) so the packager does not see timestamp jumps. */
#define GC_CONFIG_DEFAULT_PIPELINE                                             \
  "whipserversrc name=src "                                                    \
  "src.video_0 ! queue ! "                                                     \
  "chatstamp redis-url={redis} redis-channel={chat-events} ! "                 \
  "llhlssink name=sink location={location} "                                   \
  "src.audio_0 ! queue ! opusdec ! audioconvert ! audioresample ! "            \
  "audiorate tolerance=40000000 skip-to-first=true ! "                         \
  "avenc_aac ! aacparse ! sink."

/* Channel names: 1 to 64 of [A-Za-z0-9_-]; they become folder names, URL
 * path segments and metric labels. */
gboolean gc_config_channel_name_is_valid (const gchar *name);

void gc_channel_config_free (GcChannelConfig *channel);

/* Returns: (transfer full): a configuration holding the defaults. */
GcConfig *gc_config_new (void);
void gc_config_free (GcConfig *config);

/* Reads @path over the values already in @config. Unknown keys in known
 * groups are errors (typos must not pass silently). */
gboolean gc_config_load_file (GcConfig *config, const gchar *path,
                              GError **error);

/* Parses "host:port" ("127.0.0.1:8080", "[::1]:0", "localhost:8080").
 * Returns: (transfer full) (nullable): the address. */
GSocketAddress *gc_config_parse_listen (const gchar *listen, GError **error);

/* Parses a size with an optional K, M or G suffix (powers of 1024). */
gboolean gc_config_parse_size (const gchar *text, guint64 *out);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GcConfig, gc_config_free)

G_END_DECLS
