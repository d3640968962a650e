/* vectors.h — what the billing known-answer tests share: a Python script (python3's hmac, independent of our
 * C) prints one vector per line, tab-separated; hex fields decode to bytes. */

#pragma once

#include <glib.h>

/* Runs @python @script and returns its output's non-empty lines, each
 * split at tabs, every line checked to have @n_fields fields. Aborts the
 * test program when the script fails. */
GPtrArray *test_vectors_run (const gchar *python, const gchar *script,
                             guint n_fields);

/* Decodes an even-length hex string (aborts the test on anything else). */
GBytes *test_vectors_from_hex (const gchar *hex);
