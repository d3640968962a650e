/* hls-query.c — parses the LL-HLS delivery directives of a playlist request.
 * Strict on purpose: the query is part of every edge cache key, so only exact, canonical values are honoured. */

#include "hls-query.h"

#include <string.h>

#include "origin-error.h"

static gboolean
bad (GError **error, const gchar *name, const gchar *why)
{
  g_set_error (error, GC_ORIGIN_ERROR, GC_ORIGIN_ERROR_BAD_REQUEST, "%s %s",
               name, why);
  return FALSE;
}

/* Decimal digits only: no sign, no spaces, no hex, within range. */
static gboolean
parse_index (const gchar *name, const gchar *value, gint64 *out, GError **error)
{
  guint64 v;

  if (value[0] == '\0')
    return bad (error, name, "is empty");
  for (const gchar *p = value; *p != '\0'; p++) {
    if (!g_ascii_isdigit (*p))
      return bad (error, name, "is not a decimal integer");
  }
  if (strlen (value) > 16 ||
      !g_ascii_string_to_unsigned (value, 10, 0, GC_HLS_QUERY_MAX_VALUE, &v,
                                   NULL))
    return bad (error, name, "is out of range");
  *out = (gint64)v;
  return TRUE;
}

gboolean
gc_hls_query_parse (const gchar *query, GcHlsQuery *out, GError **error)
{
  g_auto (GStrv) pairs = NULL;
  gboolean have_skip = FALSE;

  g_return_val_if_fail (out != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  out->msn = -1;
  out->part = -1;
  out->skip = GC_PLAYLIST_SKIP_NONE;
  if (query == NULL || query[0] == '\0')
    return TRUE;

  pairs = g_strsplit (query, "&", -1);
  for (guint i = 0; pairs[i] != NULL; i++) {
    const gchar *eq = strchr (pairs[i], '=');
    g_autofree gchar *raw_name =
        eq ? g_strndup (pairs[i], eq - pairs[i]) : g_strdup (pairs[i]);
    g_autofree gchar *name = g_uri_unescape_string (raw_name, NULL);
    g_autofree gchar *value = NULL;

    if (name == NULL)
      return bad (error, "query", "has a malformed escape");
    if (!g_str_has_prefix (name, "_HLS_"))
      continue;
    value = g_uri_unescape_string (eq ? eq + 1 : "", NULL);
    if (value == NULL)
      return bad (error, name, "has a malformed escape");

    if (strcmp (name, "_HLS_msn") == 0) {
      if (out->msn >= 0)
        return bad (error, name, "is repeated");
      if (!parse_index (name, value, &out->msn, error))
        return FALSE;
    } else if (strcmp (name, "_HLS_part") == 0) {
      if (out->part >= 0)
        return bad (error, name, "is repeated");
      if (!parse_index (name, value, &out->part, error))
        return FALSE;
    } else if (strcmp (name, "_HLS_skip") == 0) {
      if (have_skip)
        return bad (error, name, "is repeated");
      have_skip = TRUE;
      if (strcmp (value, "YES") == 0)
        out->skip = GC_PLAYLIST_SKIP_YES;
      else if (strcmp (value, "v2") == 0)
        out->skip = GC_PLAYLIST_SKIP_V2;
      else
        return bad (error, name, "must be YES or v2");
    }
    /* Other _HLS_ names are reserved for future directives: ignored. */
  }

  if (out->part >= 0 && out->msn < 0)
    return bad (error, "_HLS_part", "requires _HLS_msn");
  return TRUE;
}

gboolean
gc_hls_query_is_blocking (const GcHlsQuery *query)
{
  g_return_val_if_fail (query != NULL, FALSE);
  return query->msn >= 0;
}
