/* test-h264.c — unit tests of libgccmaf's H.264 bitstream helpers (Annex B,
 * avcC) and its ID3 tag writer; the box writer's tests are in test-cmaf.c. */

#include "cmaf.h"
#include "cmaf-fixtures.h"

/* ------------------------------------------------------------------------ */
/* H.264 helpers                                                            */

static void
assert_annexb_to_avc (const guint8 *in, gsize in_size, const guint8 *expected,
                      gsize expected_size)
{
  g_autoptr (GByteArray) out = g_byte_array_new ();
  g_autoptr (GError) error = NULL;

  g_assert_true (gc_h264_annexb_to_avc (in, in_size, out, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (out->data, out->len, expected, expected_size);
}

static void
test_annexb_four_byte_start_codes (void)
{
  const guint8 in[] = {0, 0,    0,    1, 0x67, 0x42, 0, 0,    0,
                       1, 0x68, 0xce, 0, 0,    0,    1, 0x65, 0x88};
  const guint8 expected[] = {U32 (2), 0x67,    0x42, U32 (2), 0x68,
                             0xce,    U32 (2), 0x65, 0x88};

  assert_annexb_to_avc (in, sizeof in, expected, sizeof expected);
}

static void
test_annexb_three_byte_start_codes (void)
{
  const guint8 in[] = {0, 0, 1, 0x09, 0xf0, 0, 0, 1, 0x65, 0x88, 0x84};
  const guint8 expected[] = {U32 (2), 0x09, 0xf0, U32 (3), 0x65, 0x88, 0x84};

  assert_annexb_to_avc (in, sizeof in, expected, sizeof expected);
}

static void
test_annexb_strips_trailing_zeros (void)
{
  const guint8 in[] = {0, 0, 1, 0x41, 0x9a, 0, 0, 0, 0, 0, 1, 0x41, 0x9b, 0, 0};
  const guint8 expected[] = {U32 (2), 0x41, 0x9a, U32 (2), 0x41, 0x9b};

  assert_annexb_to_avc (in, sizeof in, expected, sizeof expected);
}

static void
test_annexb_skips_empty_nals (void)
{
  const guint8 in[] = {0, 0, 1, 0, 0, 1, 0x65, 0x88, 0, 0, 0, 1};
  const guint8 expected[] = {U32 (2), 0x65, 0x88};

  assert_annexb_to_avc (in, sizeof in, expected, sizeof expected);
}

static void
test_annexb_keeps_emulation_prevention (void)
{
  const guint8 in[] = {0, 0, 1, 0x65, 0, 0, 3, 1, 0x80};
  const guint8 expected[] = {U32 (6), 0x65, 0, 0, 3, 1, 0x80};

  assert_annexb_to_avc (in, sizeof in, expected, sizeof expected);
}

static void
test_annexb_without_nal_fails (void)
{
  const guint8 no_start_code[] = {0x65, 0x88, 0x84};
  const guint8 only_zeros[] = {0, 0, 0, 1, 0, 0, 0};
  g_autoptr (GByteArray) out = prefilled ();
  g_autoptr (GError) error = NULL;

  g_assert_false (
      gc_h264_annexb_to_avc (no_start_code, sizeof no_start_code, out, &error));
  g_assert_error (error, GC_CMAF_ERROR, GC_CMAF_ERROR_BITSTREAM);
  assert_untouched (out);
  g_clear_error (&error);

  g_assert_false (
      gc_h264_annexb_to_avc (only_zeros, sizeof only_zeros, out, &error));
  g_assert_error (error, GC_CMAF_ERROR, GC_CMAF_ERROR_BITSTREAM);
  assert_untouched (out);
}

static void
test_annexb_appends (void)
{
  const guint8 in[] = {0, 0, 1, 0x65, 0x88};
  const guint8 expected[] = {'k', 'e', 'e', 'p', U32 (2), 0x65, 0x88};
  g_autoptr (GByteArray) out = prefilled ();

  g_assert_true (gc_h264_annexb_to_avc (in, sizeof in, out, NULL));
  g_assert_cmpmem (out->data, out->len, expected, sizeof expected);
}

/* AUD, SPS, PPS, PPS, IDR slice. */
static const guint8 test_au[] = {
    0, 0, 0, 1,    0x09, 0xf0,                   /* AUD */
    0, 0, 0, 1,    0x67, 0x64, 0x00, 0x28, 0xac, /* SPS, High 4.0 */
    0, 0, 0, 1,    0x68, 0xee, 0x3c, 0x80,       /* PPS */
    0, 0, 1, 0x68, 0xce, 0x06,                   /* PPS */
    0, 0, 1, 0x65, 0x88, 0x84};                  /* IDR */

static void
test_avcc_from_annexb_record (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) avcc =
      gc_h264_avcc_from_annexb (test_au, sizeof test_au, &error);
  const guint8 expected[] = {
      1, 0x64, 0x00, 0x28, 0xff, 0xe1, 0,    5, 0x67, 0x64, 0x00, 0x28, 0xac,
      2, 0,    4,    0x68, 0xee, 0x3c, 0x80, 0, 3,    0x68, 0xce, 0x06};
  gsize size;
  const guint8 *data;

  g_assert_no_error (error);
  data = g_bytes_get_data (avcc, &size);
  g_assert_cmpmem (data, size, expected, sizeof expected);
}

static void
test_avcc_from_annexb_parses_back (void)
{
  g_autoptr (GBytes) avcc =
      gc_h264_avcc_from_annexb (test_au, sizeof test_au, NULL);
  guint8 profile = 0, constraints = 0xaa, level = 0;
  guint nal_length_size = 0;
  gsize size;
  const guint8 *data = g_bytes_get_data (avcc, &size);

  g_assert_true (gc_h264_avcc_parse (data, size, &profile, &constraints, &level,
                                     &nal_length_size, NULL));
  g_assert_cmpuint (profile, ==, 0x64);
  g_assert_cmpuint (constraints, ==, 0x00);
  g_assert_cmpuint (level, ==, 0x28);
  g_assert_cmpuint (nal_length_size, ==, 4);
}

static void
test_avcc_from_annexb_takes_first_sps (void)
{
  const guint8 in[] = {0,    0,    1,    0x67, 0x42, 0xc0, 0x1e, 0,    0,   1,
                       0x67, 0x4d, 0x40, 0x1f, 0,    0,    1,    0x68, 0xce};
  const guint8 expected[] = {1, 0x42, 0xc0, 0x1e, 0xff, 0xe1,
                             0, 4,    0x67, 0x42, 0xc0, 0x1e,
                             1, 0,    2,    0x68, 0xce};
  g_autoptr (GBytes) avcc = gc_h264_avcc_from_annexb (in, sizeof in, NULL);
  gsize size;
  const guint8 *data = g_bytes_get_data (avcc, &size);

  g_assert_cmpmem (data, size, expected, sizeof expected);
}

static void
assert_avcc_from_annexb_fails (const guint8 *in, gsize size,
                               GcCmafErrorCode code)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) avcc = gc_h264_avcc_from_annexb (in, size, &error);

  g_assert_null (avcc);
  g_assert_error (error, GC_CMAF_ERROR, (gint)code);
}

static void
test_avcc_from_annexb_missing_sps (void)
{
  const guint8 in[] = {0, 0, 1, 0x68, 0xce, 0, 0, 1, 0x65, 0x88};

  assert_avcc_from_annexb_fails (in, sizeof in, GC_CMAF_ERROR_CODEC_DATA);
}

static void
test_avcc_from_annexb_missing_pps (void)
{
  const guint8 in[] = {0, 0, 1, 0x67, 0x42, 0xc0, 0x1e, 0, 0, 1, 0x65, 0x88};

  assert_avcc_from_annexb_fails (in, sizeof in, GC_CMAF_ERROR_CODEC_DATA);
}

static void
test_avcc_from_annexb_short_sps (void)
{
  const guint8 in[] = {0, 0, 1, 0x67, 0x42, 0xc0, 0, 0, 1, 0x68, 0xce};

  assert_avcc_from_annexb_fails (in, sizeof in, GC_CMAF_ERROR_CODEC_DATA);
}

static void
test_avcc_from_annexb_no_nal (void)
{
  const guint8 in[] = {1, 2, 3, 4};

  assert_avcc_from_annexb_fails (in, sizeof in, GC_CMAF_ERROR_BITSTREAM);
}

static void
test_avcc_parse_fields (void)
{
  guint8 profile = 0, constraints = 0, level = 0;
  guint nal_length_size = 0;
  g_autoptr (GError) error = NULL;

  g_assert_true (gc_h264_avcc_parse (test_avcc, sizeof test_avcc, &profile,
                                     &constraints, &level, &nal_length_size,
                                     &error));
  g_assert_no_error (error);
  g_assert_cmpuint (profile, ==, 0x42);
  g_assert_cmpuint (constraints, ==, 0xc0);
  g_assert_cmpuint (level, ==, 0x1f);
  g_assert_cmpuint (nal_length_size, ==, 4);
}

static void
test_avcc_parse_two_byte_lengths (void)
{
  guint8 avcc[sizeof test_avcc];
  guint nal_length_size = 0;

  memcpy (avcc, test_avcc, sizeof avcc);
  avcc[4] = 0xfd;
  g_assert_true (gc_h264_avcc_parse (avcc, sizeof avcc, NULL, NULL, NULL,
                                     &nal_length_size, NULL));
  g_assert_cmpuint (nal_length_size, ==, 2);
}

static void
test_avcc_parse_accepts_high_profile_extension (void)
{
  guint8 avcc[sizeof test_avcc + 4];
  const guint8 ext[] = {0xfd, 0xf8, 0xf8, 0x00};

  memcpy (avcc, test_avcc, sizeof test_avcc);
  memcpy (avcc + sizeof test_avcc, ext, sizeof ext);
  g_assert_true (
      gc_h264_avcc_parse (avcc, sizeof avcc, NULL, NULL, NULL, NULL, NULL));
}

/* Breaks byte @index of the test record (or truncates at @truncate) and
 * expects the parser to refuse it without touching its outputs. */
static void
assert_avcc_rejected (gint index, guint8 value, gsize truncate)
{
  guint8 avcc[sizeof test_avcc];
  guint8 profile = 0x77;
  g_autoptr (GError) error = NULL;

  memcpy (avcc, test_avcc, sizeof avcc);
  if (index >= 0)
    avcc[index] = value;
  g_assert_false (
      gc_h264_avcc_parse (avcc, truncate, &profile, NULL, NULL, NULL, &error));
  g_assert_error (error, GC_CMAF_ERROR, GC_CMAF_ERROR_CODEC_DATA);
  g_assert_cmpuint (profile, ==, 0x77);
}

static void
test_avcc_parse_bad_version (void)
{
  assert_avcc_rejected (0, 0, sizeof test_avcc);
}

static void
test_avcc_parse_length_size_three (void)
{
  assert_avcc_rejected (4, 0xfe, sizeof test_avcc);
}

static void
test_avcc_parse_no_sps (void)
{
  assert_avcc_rejected (5, 0xe0, sizeof test_avcc);
}

static void
test_avcc_parse_sps_overruns (void)
{
  assert_avcc_rejected (7, 0x40, sizeof test_avcc);
}

static void
test_avcc_parse_truncated (void)
{
  /* Every proper prefix of a valid record is invalid. */
  for (gsize n = 0; n < sizeof test_avcc; n++)
    assert_avcc_rejected (-1, 0, n);
}

static void
test_avcc_parse_no_pps (void)
{
  assert_avcc_rejected (12, 0, 13);
}

static void
test_is_keyframe_idr (void)
{
  const guint8 au[] = {U32 (2), 0x09, 0xf0, U32 (2), 0x65, 0x88};

  g_assert_true (gc_h264_avc_is_keyframe (au, sizeof au, 4));
}

static void
test_is_keyframe_non_idr (void)
{
  const guint8 au[] = {U32 (2), 0x09, 0xf0, U32 (2), 0x41, 0x9a};

  g_assert_false (gc_h264_avc_is_keyframe (au, sizeof au, 4));
}

static void
test_is_keyframe_short_lengths (void)
{
  const guint8 au2[] = {0, 2, 0x09, 0xf0, 0, 2, 0x65, 0x88};
  const guint8 au1[] = {2, 0x09, 0xf0, 2, 0x65, 0x88};

  g_assert_true (gc_h264_avc_is_keyframe (au2, sizeof au2, 2));
  g_assert_true (gc_h264_avc_is_keyframe (au1, sizeof au1, 1));
}

static void
test_is_keyframe_malformed (void)
{
  /* An IDR, then a length that runs past the end. */
  const guint8 overrun[] = {U32 (2), 0x65, 0x88, U32 (9), 0x41};
  /* An IDR, then half a length field. */
  const guint8 cut[] = {U32 (2), 0x65, 0x88, 0, 0};
  const guint8 ok[] = {U32 (2), 0x65, 0x88};

  g_assert_false (gc_h264_avc_is_keyframe (overrun, sizeof overrun, 4));
  g_assert_false (gc_h264_avc_is_keyframe (cut, sizeof cut, 4));
  g_assert_false (gc_h264_avc_is_keyframe (ok, sizeof ok, 3));
  g_assert_false (gc_h264_avc_is_keyframe (ok, 0, 4));
}

/* ------------------------------------------------------------------------ */
/* ID3                                                                      */

static void
test_id3_txxx (void)
{
  g_autoptr (GBytes) tag = gc_id3_tag_new_txxx ("k", "v");
  const guint8 expected[] = {'I', 'D', '3', 4, 0, 0, 0, 0, 0,    14,  'T', 'X',
                             'X', 'X', 0,   0, 0, 4, 0, 0, 0x03, 'k', 0,   'v'};
  gsize size;
  const guint8 *data = g_bytes_get_data (tag, &size);

  g_assert_cmpmem (data, size, expected, sizeof expected);
}

static void
test_id3_txxx_synchsafe_sizes (void)
{
  g_autofree gchar *desc = g_strnfill (200, 'a');
  g_autoptr (GBytes) tag = gc_id3_tag_new_txxx (desc, "");
  /* frame payload 202 = 1 * 128 + 74; tag payload 212 = 1 * 128 + 84 */
  const guint8 tag_size[] = {0, 0, 0x01, 0x54};
  const guint8 frame_size[] = {0, 0, 0x01, 0x4a};
  gsize size;
  const guint8 *data = g_bytes_get_data (tag, &size);

  g_assert_cmpuint (size, ==, 222);
  g_assert_cmpmem (data + 6, 4, tag_size, 4);
  g_assert_cmpmem (data + 14, 4, frame_size, 4);
  g_assert_cmpuint (data[size - 1], ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/h264/annexb-to-avc/four-byte-start-codes",
                   test_annexb_four_byte_start_codes);
  g_test_add_func ("/h264/annexb-to-avc/three-byte-start-codes",
                   test_annexb_three_byte_start_codes);
  g_test_add_func ("/h264/annexb-to-avc/strips-trailing-zeros",
                   test_annexb_strips_trailing_zeros);
  g_test_add_func ("/h264/annexb-to-avc/skips-empty-nals",
                   test_annexb_skips_empty_nals);
  g_test_add_func ("/h264/annexb-to-avc/keeps-emulation-prevention",
                   test_annexb_keeps_emulation_prevention);
  g_test_add_func ("/h264/annexb-to-avc/without-nal-fails",
                   test_annexb_without_nal_fails);
  g_test_add_func ("/h264/annexb-to-avc/appends", test_annexb_appends);
  g_test_add_func ("/h264/avcc-from-annexb/record",
                   test_avcc_from_annexb_record);
  g_test_add_func ("/h264/avcc-from-annexb/parses-back",
                   test_avcc_from_annexb_parses_back);
  g_test_add_func ("/h264/avcc-from-annexb/takes-first-sps",
                   test_avcc_from_annexb_takes_first_sps);
  g_test_add_func ("/h264/avcc-from-annexb/missing-sps",
                   test_avcc_from_annexb_missing_sps);
  g_test_add_func ("/h264/avcc-from-annexb/missing-pps",
                   test_avcc_from_annexb_missing_pps);
  g_test_add_func ("/h264/avcc-from-annexb/short-sps",
                   test_avcc_from_annexb_short_sps);
  g_test_add_func ("/h264/avcc-from-annexb/no-nal",
                   test_avcc_from_annexb_no_nal);
  g_test_add_func ("/h264/avcc-parse/fields", test_avcc_parse_fields);
  g_test_add_func ("/h264/avcc-parse/two-byte-lengths",
                   test_avcc_parse_two_byte_lengths);
  g_test_add_func ("/h264/avcc-parse/accepts-high-profile-extension",
                   test_avcc_parse_accepts_high_profile_extension);
  g_test_add_func ("/h264/avcc-parse/bad-version", test_avcc_parse_bad_version);
  g_test_add_func ("/h264/avcc-parse/length-size-three",
                   test_avcc_parse_length_size_three);
  g_test_add_func ("/h264/avcc-parse/no-sps", test_avcc_parse_no_sps);
  g_test_add_func ("/h264/avcc-parse/sps-overruns",
                   test_avcc_parse_sps_overruns);
  g_test_add_func ("/h264/avcc-parse/truncated", test_avcc_parse_truncated);
  g_test_add_func ("/h264/avcc-parse/no-pps", test_avcc_parse_no_pps);
  g_test_add_func ("/h264/is-keyframe/idr", test_is_keyframe_idr);
  g_test_add_func ("/h264/is-keyframe/non-idr", test_is_keyframe_non_idr);
  g_test_add_func ("/h264/is-keyframe/short-lengths",
                   test_is_keyframe_short_lengths);
  g_test_add_func ("/h264/is-keyframe/malformed", test_is_keyframe_malformed);
  g_test_add_func ("/id3/txxx", test_id3_txxx);
  g_test_add_func ("/id3/txxx/synchsafe-sizes", test_id3_txxx_synchsafe_sizes);

  return g_test_run ();
}
