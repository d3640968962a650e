/* settings.c — the settings field table and the helpers that read, write, validate and patch through it.
 * Adding a mode = one row here plus the rule that enforces it in room-rules.c. */

#include "settings.h"

#include "chat-error.h"

#define FIELD(n, b, k, lo, hi, member)                                         \
  {                                                                            \
    n, b, k, lo, hi, G_STRUCT_OFFSET (GcChatSettings, member)                  \
  }

static const GcChatSettingField fields[] = {
    FIELD ("slow", GC_CHAT_SETTING_SLOW, GC_CHAT_SETTING_KIND_INT, 0, 86400,
           slow_seconds),
    FIELD ("subonly", GC_CHAT_SETTING_SUBSCRIBERS_ONLY,
           GC_CHAT_SETTING_KIND_BOOL, 0, 1, subscribers_only),
    FIELD ("emoteonly", GC_CHAT_SETTING_EMOTE_ONLY, GC_CHAT_SETTING_KIND_BOOL,
           0, 1, emote_only),
    FIELD ("uniquechat", GC_CHAT_SETTING_UNIQUE_CHAT, GC_CHAT_SETTING_KIND_BOOL,
           0, 1, unique_chat),
    /* 90 days, like the follow-age limits viewers already know. */
    FIELD ("followers", GC_CHAT_SETTING_FOLLOWERS, GC_CHAT_SETTING_KIND_INT, -1,
           129600, followers_minutes),
    FIELD ("accountage", GC_CHAT_SETTING_ACCOUNT_AGE, GC_CHAT_SETTING_KIND_INT,
           0, 525600, account_age_minutes),
    FIELD ("delay", GC_CHAT_SETTING_DELAY, GC_CHAT_SETTING_KIND_INT, 0, 6,
           delay_seconds),
    FIELD ("review", GC_CHAT_SETTING_REVIEW, GC_CHAT_SETTING_KIND_BOOL, 0, 1,
           review),
};

G_STATIC_ASSERT (sizeof (gboolean) == sizeof (gint));
G_STATIC_ASSERT (sizeof (guint) == sizeof (gint));

const GcChatSettingField *
gc_chat_setting_fields (guint *n_fields)
{
  *n_fields = G_N_ELEMENTS (fields);
  return fields;
}

const GcChatSettingField *
gc_chat_setting_field_lookup (const gchar *name)
{
  for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
    if (g_strcmp0 (fields[i].name, name) == 0)
      return &fields[i];
  return NULL;
}

gint64
gc_chat_settings_get (const GcChatSettings *settings,
                      const GcChatSettingField *field)
{
  return *(const gint *)((const guint8 *)settings + field->offset);
}

void
gc_chat_settings_set (GcChatSettings *settings, const GcChatSettingField *field,
                      gint64 value)
{
  *(gint *)((guint8 *)settings + field->offset) = (gint)value;
}

void
gc_chat_settings_init (GcChatSettings *settings)
{
  *settings = (GcChatSettings){0};
  settings->followers_minutes = -1;
}

gboolean
gc_chat_settings_patch_validate (const GcChatSettingsPatch *patch,
                                 GError **error)
{
  if (patch->mask == 0) {
    g_set_error (error, GC_CHAT_ERROR, GC_CHAT_ERROR_BAD_REQUEST,
                 "no setting to change");
    return FALSE;
  }
  for (guint i = 0; i < G_N_ELEMENTS (fields); i++) {
    gint64 v;

    if (!(patch->mask & fields[i].bit))
      continue;
    v = gc_chat_settings_get (&patch->values, &fields[i]);
    if (v < fields[i].min || v > fields[i].max) {
      g_set_error (error, GC_CHAT_ERROR, GC_CHAT_ERROR_BAD_REQUEST,
                   "%s must be between %" G_GINT64_FORMAT
                   " and %" G_GINT64_FORMAT,
                   fields[i].name, fields[i].min, fields[i].max);
      return FALSE;
    }
    /* Odd delays would make the player's buffering guesswork harder for no
     * gain; the common platforms offer exactly these steps. */
    if (fields[i].bit == GC_CHAT_SETTING_DELAY && v % 2 != 0) {
      g_set_error (error, GC_CHAT_ERROR, GC_CHAT_ERROR_BAD_REQUEST,
                   "delay must be 0, 2, 4 or 6 seconds");
      return FALSE;
    }
  }
  return TRUE;
}

guint
gc_chat_settings_apply (GcChatSettings *settings,
                        const GcChatSettingsPatch *patch)
{
  guint changed = 0;

  for (guint i = 0; i < G_N_ELEMENTS (fields); i++) {
    gint64 v;

    if (!(patch->mask & fields[i].bit))
      continue;
    v = gc_chat_settings_get (&patch->values, &fields[i]);
    if (gc_chat_settings_get (settings, &fields[i]) != v) {
      gc_chat_settings_set (settings, &fields[i], v);
      changed |= fields[i].bit;
    }
  }
  return changed;
}
