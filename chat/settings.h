/* settings.h — a room's chat modes (slow, subscriber-only, emote-only, unique, followers, delay, review).
 * One static field table drives validation, the JSON protocol and the Redis hash, so the three never drift. */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  guint slow_seconds;        /* 0: off; per-user interval, up to 1 day */
  gboolean subscribers_only; /* subscribers (and VIPs) only */
  gboolean emote_only;       /* text must be :emote: tokens only */
  gboolean unique_chat;      /* no repeat of the same normalised text */
  gint followers_minutes;    /* -1: off; 0: any follower; else follow age */
  guint account_age_minutes; /* 0: off; accounts younger may not post */
  guint delay_seconds;       /* 0, 2, 4 or 6: non-moderators held that long */
  gboolean review; /* blocked-term hits held for review, not refused */
} GcChatSettings;

typedef enum {
  GC_CHAT_SETTING_SLOW = 1 << 0,
  GC_CHAT_SETTING_SUBSCRIBERS_ONLY = 1 << 1,
  GC_CHAT_SETTING_EMOTE_ONLY = 1 << 2,
  GC_CHAT_SETTING_UNIQUE_CHAT = 1 << 3,
  GC_CHAT_SETTING_FOLLOWERS = 1 << 4,
  GC_CHAT_SETTING_ACCOUNT_AGE = 1 << 5,
  GC_CHAT_SETTING_DELAY = 1 << 6,
  GC_CHAT_SETTING_REVIEW = 1 << 7,
} GcChatSettingMask;

/* A partial update: only the fields whose bit is in @mask change. */
typedef struct {
  guint mask; /* GcChatSettingMask bits */
  GcChatSettings values;
} GcChatSettingsPatch;

typedef enum {
  GC_CHAT_SETTING_KIND_BOOL,
  GC_CHAT_SETTING_KIND_INT,
} GcChatSettingKind;

/* One row of the field table. */
typedef struct {
  const gchar *name; /* JSON member and Redis hash field */
  GcChatSettingMask bit;
  GcChatSettingKind kind;
  gint64 min, max;
  gsize offset; /* in GcChatSettings; gboolean, guint and gint are all int */
} GcChatSettingField;

/* Returns: the field table, *n_fields entries. */
const GcChatSettingField *gc_chat_setting_fields (guint *n_fields);

/* Returns: (nullable): the field named @name. */
const GcChatSettingField *gc_chat_setting_field_lookup (const gchar *name);

gint64 gc_chat_settings_get (const GcChatSettings *settings,
                             const GcChatSettingField *field);
void gc_chat_settings_set (GcChatSettings *settings,
                           const GcChatSettingField *field, gint64 value);

/* Everything off. */
void gc_chat_settings_init (GcChatSettings *settings);

/* Checks every field of @patch named by its mask against the table's range
 * and the delay's allowed values. */
gboolean gc_chat_settings_patch_validate (const GcChatSettingsPatch *patch,
                                          GError **error);

/* Returns: the bits that actually changed. */
guint gc_chat_settings_apply (GcChatSettings *settings,
                              const GcChatSettingsPatch *patch);

G_END_DECLS
