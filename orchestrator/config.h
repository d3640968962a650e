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
  gboolean playback_token; /* playback=token: /live/ needs a playback token
                              (orchestrator/playback.h) */
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

/* [billing]: Stripe and the ledger (billing/, orchestrator/billing-http.h).
 * Secrets live in files (or the environment), never in the INI. */
typedef struct {
  gchar *stripe_api_base; /* https://api.stripe.com; tests: the fake */
  /* (nullable) else $GLASSCAST_STRIPE_API_KEY */
  gchar *stripe_secret_key_file;
  /* (nullable) one whsec_ a line (rotation); else
   * $GLASSCAST_STRIPE_WEBHOOK_SECRETS */
  gchar *webhook_secrets_file;
  gchar *database;           /* (nullable) NULL: data-dir/billing.db */
  gchar *platform_share;     /* "15%": the platform's part of a payment */
  guint past_due_grace_days; /* access kept while a renewal is unpaid */
  /* A channel's monthly subscription, in minor units of @currency (the
   * same for every channel for now). */
  guint subscription_price;
  gchar *currency; /* ISO 4217, "usd": subscriptions and payouts */
  gchar *country;  /* creators' Express accounts: "US" */
} GcConfigBilling;

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
  /* Playback tokens (orchestrator/playback.h): secret files of at least
   * 32 bytes, shared by every node and edge; NULL: data-dir/
   * playback-token-secret, created on first start. The old one is still
   * accepted while rotating. */
  gchar *playback_secret_file;
  gchar *playback_old_secret_file; /* (nullable) */
  guint playback_token_ttl_s;      /* lifetime of an issued token */
  GcOriginLimits origin;
  GcWebrtcConfig webrtc;
  GcWorkerConfig worker;
  GcConfigChat chat;
  GcConfigAccounts accounts;
  GcConfigBilling billing;
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
