/* test-http-util.c — unit tests of the one GError -> HTTP status mapping (orchestrator/http-util.c).
 * Every origin error code has its status and its stable JSON code. */

#include <gio/gio.h>

#include "channel-error.h"
#include "http-util.h"
#include "origin-error.h"

static void
test_origin_codes (void)
{
  static const struct {
    GcOriginErrorCode code;
    guint status;
    const gchar *name;
  } cases[] = {
      {GC_ORIGIN_ERROR_BAD_REQUEST, 400, "bad_request"},
      {GC_ORIGIN_ERROR_NOT_FOUND, 404, "not_found"},
      {GC_ORIGIN_ERROR_FORBIDDEN, 403, "forbidden"},
      {GC_ORIGIN_ERROR_METHOD, 405, "method_not_allowed"},
      {GC_ORIGIN_ERROR_TOO_MANY_HELD, 429, "too_many_held_requests"},
      {GC_ORIGIN_ERROR_UNAVAILABLE, 503, "unavailable"},
      {GC_ORIGIN_ERROR_INTERNAL, 500, "internal"},
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autoptr (GError) e =
        g_error_new_literal (GC_ORIGIN_ERROR, cases[i].code, "x");

    g_assert_cmpuint (gc_http_error_to_status (e), ==, cases[i].status);
    g_assert_cmpstr (gc_http_error_code (e), ==, cases[i].name);
  }
}

static void
test_foreign_errors (void)
{
  g_autoptr (GError) missing =
      g_error_new_literal (G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "x");
  g_autoptr (GError) denied =
      g_error_new_literal (G_FILE_ERROR, G_FILE_ERROR_ACCES, "x");
  g_autoptr (GError) other =
      g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED, "x");

  g_assert_cmpuint (gc_http_error_to_status (missing), ==, 404);
  g_assert_cmpstr (gc_http_error_code (missing), ==, "not_found");
  g_assert_cmpuint (gc_http_error_to_status (denied), ==, 403);
  g_assert_cmpuint (gc_http_error_to_status (other), ==, 500);
  g_assert_cmpstr (gc_http_error_code (other), ==, "internal");
}

/* WHIP (RFC 9725) and the channel API. */
static void
test_channel_codes (void)
{
  static const struct {
    GcChannelErrorCode code;
    guint status;
    const gchar *name;
  } cases[] = {
      {GC_CHANNEL_ERROR_BAD_REQUEST, 400, "bad_request"},
      {GC_CHANNEL_ERROR_UNAUTHORIZED, 401, "unauthorized"},
      {GC_CHANNEL_ERROR_FORBIDDEN, 403, "forbidden"},
      {GC_CHANNEL_ERROR_NOT_FOUND, 404, "not_found"},
      {GC_CHANNEL_ERROR_METHOD, 405, "method_not_allowed"},
      {GC_CHANNEL_ERROR_NOT_ACCEPTABLE, 406, "unsupported_codecs"},
      {GC_CHANNEL_ERROR_CONFLICT, 409, "conflict"},
      {GC_CHANNEL_ERROR_PRECONDITION, 412, "precondition_failed"},
      {GC_CHANNEL_ERROR_TOO_LARGE, 413, "too_large"},
      {GC_CHANNEL_ERROR_MEDIA_TYPE, 415, "unsupported_media_type"},
      {GC_CHANNEL_ERROR_UNPROCESSABLE, 422, "unprocessable"},
      {GC_CHANNEL_ERROR_UNAVAILABLE, 503, "unavailable"},
      {GC_CHANNEL_ERROR_INTERNAL, 500, "internal"},
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autoptr (GError) e =
        g_error_new_literal (GC_CHANNEL_ERROR, cases[i].code, "x");

    g_assert_cmpuint (gc_http_error_to_status (e), ==, cases[i].status);
    g_assert_cmpstr (gc_http_error_code (e), ==, cases[i].name);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/origin/http/error-status/origin-codes", test_origin_codes);
  g_test_add_func ("/origin/http/error-status/foreign-errors",
                   test_foreign_errors);
  g_test_add_func ("/origin/http/error-status/channel-codes",
                   test_channel_codes);
  return g_test_run ();
}
