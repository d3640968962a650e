#!/usr/bin/env python3
# test_hlscheck.py — self-test of tests/tools/hlscheck.py: a good folder passes, and
# each deliberately broken folder makes exactly the rule it breaks fire.
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
TOOLS = os.path.join(HERE, "..", "tools")
sys.path.insert(0, TOOLS)
sys.path.insert(0, HERE)

import hlscheck  # noqa: E402
from fmp4fixture import NON_SYNC, STYP, Fixture, video_sample  # noqa: E402


class FolderCase(unittest.TestCase):
    """Each test writes a fixture to its own temp dir, breaks one thing, checks."""

    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="hlscheck-")
        self.dir = self._tmp.name

    def tearDown(self):
        self._tmp.cleanup()

    def path(self, rel):
        return os.path.join(self.dir, rel)

    def edit(self, rel, old, new, count=1):
        with open(self.path(rel)) as f:
            text = f.read()
        self.assertIn(old, text, f"fixture text to replace not found in {rel}")
        text = text.replace(old, new, count)
        with open(self.path(rel), "w") as f:
            f.write(text)

    def write_playlist(self, rel, text):
        with open(self.path(rel), "w") as f:
            f.write(text)

    def check(self, live=True, media=False):
        return hlscheck.check_folder(self.dir, live=live, media=media)

    def assertFires(self, rule, live=True, media=False, only=False):
        report = self.check(live, media)
        self.assertIn(rule, report.rules(),
                      f"rule {rule} did not fire; got: {[str(v) for v in report.violations]}")
        if only:
            self.assertEqual({rule}, report.rules(), [str(v) for v in report.violations])
        return report

    def live(self, **kw):
        fx = Fixture(**kw)
        return fx

    def vod(self, **kw):
        return Fixture(vod=True, **kw)


class GoodFolders(FolderCase):
    def test_live_folder_passes_with_media(self):
        Fixture().write(self.dir)
        report = self.check(live=True, media=True)
        self.assertTrue(report.ok, [str(v) for v in report.violations])
        self.assertEqual(report.segments, 8)
        self.assertGreater(report.media_files, 60)

    def test_vod_folder_passes_with_media(self):
        self.vod().write(self.dir)
        report = self.check(live=False, media=True)
        self.assertTrue(report.ok, [str(v) for v in report.violations])

    def test_discontinuity_excuses_pdt_jump_and_tfdt_gap(self):
        fx = self.vod()
        fx.renditions[0].pdt_shift = {2: 30.0, 3: 30.0}
        fx.renditions[1].pdt_shift = {2: 30.0, 3: 30.0}
        fx.write(self.dir)
        self.edit("video_0/media.m3u8", "#EXT-X-PROGRAM-DATE-TIME:2024-01-01T00:00:34",
                  "#EXT-X-DISCONTINUITY\n#EXT-X-PROGRAM-DATE-TIME:2024-01-01T00:00:34")
        self.edit("audio_0/media.m3u8", "#EXT-X-PROGRAM-DATE-TIME:2024-01-01T00:00:34",
                  "#EXT-X-DISCONTINUITY\n#EXT-X-PROGRAM-DATE-TIME:2024-01-01T00:00:34")
        report = self.check(live=False)
        self.assertTrue(report.ok, [str(v) for v in report.violations])

    def test_cli_prints_one_ok_line_and_exits_zero(self):
        Fixture().write(self.dir)
        r = subprocess.run([sys.executable, os.path.join(TOOLS, "hlscheck.py"), self.dir, "--live", "--media"],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(len(r.stdout.strip().splitlines()), 1)
        self.assertTrue(r.stdout.startswith("hlscheck: OK"))

    def test_cli_prints_file_line_rule_message_and_exits_one(self):
        Fixture().write(self.dir)
        self.edit("video_0/media.m3u8", "#EXT-X-TARGETDURATION:2", "#EXT-X-TARGETDURATION:1")
        r = subprocess.run([sys.executable, os.path.join(TOOLS, "hlscheck.py"), self.dir],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 1)
        first = r.stdout.splitlines()[0]
        self.assertRegex(first, r"^.*video_0/media\.m3u8:\d+: targetduration: EXTINF 2\.0 rounds to 2 > ")


class AttributeLists(unittest.TestCase):
    def test_parses_all_value_forms(self):
        a = hlscheck.parse_attribute_list('A=1,B="x,y",C=0x1F,D=1.5,E=-2.5,F=640x360,G=YES')
        self.assertEqual(a["B"], ("x,y", True))
        self.assertEqual(a["F"], ("640x360", False))

    def test_rejects_broken_lists(self):
        for text in ['A="x', 'A=1,,B=2', 'A=1,', 'a=1', 'A', 'A=1,A=2', 'A= 1', 'A="x"y', 'A=',
                     'A=x"y']:
            with self.assertRaises(hlscheck.AttributeError_, msg=text):
                hlscheck.parse_attribute_list(text)

    def test_value_types(self):
        self.assertIsNotNone(hlscheck.check_value(hlscheck.RES, "640*360", False))
        self.assertIsNotNone(hlscheck.check_value(hlscheck.FLOAT, "-1.0", False))
        self.assertIsNone(hlscheck.check_value(hlscheck.SFLOAT, "-1.0", False))
        self.assertIsNotNone(hlscheck.check_value(hlscheck.INT, "1.0", False))
        self.assertIsNotNone(hlscheck.check_value(hlscheck.QSTR, "abc", False))
        self.assertIsNotNone(hlscheck.check_value(hlscheck.YES, '"YES"', True))
        self.assertIsNotNone(hlscheck.check_value(hlscheck.HEXSEQ, "0xZZ", False))

    def test_pdt_forms(self):
        self.assertIsNotNone(hlscheck.parse_pdt("2024-01-01T00:00:00.000Z"))
        self.assertIsNotNone(hlscheck.parse_pdt("2024-01-01T00:00:00.000+02:00"))
        self.assertIsNotNone(hlscheck.parse_pdt("2024-01-01T00:00:00+0200"))
        self.assertIsNone(hlscheck.parse_pdt("2024-01-01 00:00:00.000Z"))
        self.assertIsNone(hlscheck.parse_pdt("2024-01-01T00:00:00.000"))
        self.assertIsNone(hlscheck.parse_pdt("2024-13-01T00:00:00.000Z"))


class MediaPlaylistRules(FolderCase):
    V = "video_0/media.m3u8"

    def setUp(self):
        super().setUp()
        Fixture().write(self.dir)

    def test_extm3u_must_be_first(self):
        self.edit(self.V, "#EXTM3U\n", "# comment\n#EXTM3U\n")
        self.assertFires("extm3u-first")

    def test_malformed_tag(self):
        self.edit(self.V, "#EXT-X-TARGETDURATION:2", "#EXT-X-TARGETDURATION 2")
        self.assertFires("tag-syntax")

    def test_extinf_needs_comma(self):
        self.edit(self.V, "#EXTINF:2.00000,", "#EXTINF:2.00000")
        self.assertFires("tag-syntax")

    def test_media_sequence_must_be_integer(self):
        self.edit(self.V, "#EXT-X-MEDIA-SEQUENCE:0", "#EXT-X-MEDIA-SEQUENCE:-1")
        self.assertFires("tag-syntax")

    def test_discontinuity_sequence_must_be_integer(self):
        self.edit(self.V, "#EXT-X-DISCONTINUITY-SEQUENCE:0", "#EXT-X-DISCONTINUITY-SEQUENCE:0.5")
        self.assertFires("tag-syntax")

    def test_media_sequence_after_first_segment(self):
        self.edit(self.V, "seg-0.m4s\n", "seg-0.m4s\n#EXT-X-MEDIA-SEQUENCE:0\n")
        self.assertFires("sequence-placement")

    def test_unterminated_quoted_string(self):
        self.edit(self.V, 'URI="part-2.3.m4s"', 'URI="part-2.3.m4s')
        self.assertFires("attribute-syntax")

    def test_duplicate_attribute(self):
        self.edit(self.V, "CAN-BLOCK-RELOAD=YES,", "CAN-BLOCK-RELOAD=YES,CAN-BLOCK-RELOAD=YES,")
        self.assertFires("attribute-syntax")

    def test_uri_must_be_quoted(self):
        self.edit(self.V, 'URI="init-0.mp4"', "URI=init-0.mp4")
        self.assertFires("attribute-type")

    def test_enumerated_value_checked(self):
        self.edit(self.V, "INDEPENDENT=YES", "INDEPENDENT=NO")
        self.assertFires("attribute-type")

    def test_decimal_floating_point_checked(self):
        self.edit(self.V, "PART-TARGET=0.200", "PART-TARGET=0,2")
        report = self.check()
        self.assertTrue(report.rules() & {"attribute-syntax", "attribute-type"})

    def test_required_attribute(self):
        self.edit(self.V, 'DURATION=0.20000,URI="part-2.3.m4s"', 'DURATION=0.20000')
        self.assertFires("attribute-required")

    def test_unknown_attribute(self):
        self.edit(self.V, "CAN-BLOCK-RELOAD=YES", "CAN-BLOCK-RELOAD=YES,CAN-BLOK=YES")
        self.assertFires("attribute-unknown")

    def test_unknown_tag(self):
        self.edit(self.V, "#EXT-X-TARGETDURATION:2", "#EXT-X-TARGETDURATION:2\n#EXT-X-FOO:1")
        self.assertFires("tag-unknown")

    def test_tag_twice(self):
        self.edit(self.V, "#EXT-X-TARGETDURATION:2", "#EXT-X-TARGETDURATION:2\n#EXT-X-TARGETDURATION:2")
        self.assertFires("tag-once")

    def test_multivariant_tag_in_media_playlist(self):
        self.edit(self.V, "#EXT-X-TARGETDURATION:2",
                  '#EXT-X-TARGETDURATION:2\n#EXT-X-STREAM-INF:BANDWIDTH=1\nx.m3u8')
        self.assertFires("playlist-kind")

    def test_version_too_low_for_map(self):
        self.edit(self.V, "#EXT-X-VERSION:6", "#EXT-X-VERSION:5")
        r = self.assertFires("version")
        self.assertTrue(any("EXT-X-MAP" in v.message for v in r.violations))

    def test_version_missing(self):
        self.edit(self.V, "#EXT-X-VERSION:6\n", "")
        self.assertFires("version")

    def test_version_for_float_extinf(self):
        self.write_playlist("index.m3u8", "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:1.5,\nvideo_0/seg-0.m4s\n"
                            "#EXT-X-ENDLIST\n")
        report = hlscheck.check_folder(self.path("index.m3u8"))
        self.assertIn("version", report.rules())
        self.assertTrue(any("floating-point" in v.message for v in report.violations))

    def test_targetduration_missing(self):
        self.edit(self.V, "#EXT-X-TARGETDURATION:2\n", "")
        self.assertFires("targetduration")

    def test_extinf_rounds_above_target(self):
        self.edit(self.V, "#EXTINF:2.00000,\nseg-0.m4s", "#EXTINF:2.50000,\nseg-0.m4s")
        self.assertFires("targetduration")

    def test_extinf_just_below_half_is_fine(self):
        self.edit(self.V, "#EXTINF:2.00000,\nseg-0.m4s", "#EXTINF:2.49900,\nseg-0.m4s")
        self.assertNotIn("targetduration", self.check().rules())

    def test_extinf_without_uri(self):
        self.edit(self.V, "seg-1.m4s\n", "")
        self.assertFires("extinf")

    def test_segment_without_extinf(self):
        self.edit(self.V, "#EXTINF:2.00000,\nseg-0.m4s", "seg-0.m4s")
        self.assertFires("extinf")

    def test_parts_need_part_inf(self):
        self.edit(self.V, "#EXT-X-PART-INF:PART-TARGET=0.200\n", "")
        self.assertFires("part-inf")

    def test_part_longer_than_part_target(self):
        self.edit(self.V, 'DURATION=0.20000,URI="part-3.4.m4s"', 'DURATION=0.20200,URI="part-3.4.m4s"')
        self.assertFires("part-duration")

    def test_part_within_1ms_of_target_is_fine(self):
        self.edit(self.V, 'DURATION=0.20000,URI="part-3.4.m4s"', 'DURATION=0.20090,URI="part-3.4.m4s"')
        self.assertNotIn("part-duration", self.check().rules())

    def test_short_part_in_the_middle(self):
        self.edit(self.V, 'DURATION=0.20000,URI="part-3.4.m4s"', 'DURATION=0.16000,URI="part-3.4.m4s"')
        self.assertFires("part-duration-min")

    def test_short_independent_part_is_fine(self):
        self.edit(self.V, 'DURATION=0.20000,URI="part-3.4.m4s"', 'DURATION=0.16000,URI="part-3.4.m4s",INDEPENDENT=YES')
        self.assertNotIn("part-duration-min", self.check().rules())

    def test_short_last_part_is_fine(self):
        self.edit(self.V, 'DURATION=0.20000,URI="part-3.9.m4s"', 'DURATION=0.10000,URI="part-3.9.m4s"')
        self.edit(self.V, "#EXTINF:2.00000,\nseg-3.m4s", "#EXTINF:1.90000,\nseg-3.m4s")
        rules = self.check().rules()
        self.assertNotIn("part-duration-min", rules)
        self.assertNotIn("part-sum", rules)

    def test_parts_must_sum_to_extinf(self):
        self.edit(self.V, "#EXTINF:2.00000,\nseg-3.m4s", "#EXTINF:1.95000,\nseg-3.m4s")
        self.assertFires("part-sum")

    def test_blocking_reload_required_with_parts(self):
        self.edit(self.V, "CAN-BLOCK-RELOAD=YES,", "")
        self.assertFires("server-control")

    def test_server_control_required_with_parts(self):
        self.edit(self.V, "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=0.6,CAN-SKIP-UNTIL=12.0\n", "")
        self.assertFires("server-control")

    def test_part_hold_back_required(self):
        self.edit(self.V, "PART-HOLD-BACK=0.6,", "")
        self.assertFires("server-control")

    def test_part_hold_back_below_rfc_minimum(self):
        self.edit(self.V, "PART-HOLD-BACK=0.6", "PART-HOLD-BACK=0.3")
        self.assertFires("server-control")

    def test_part_hold_back_below_glasscast_policy(self):
        self.edit(self.V, "PART-HOLD-BACK=0.6", "PART-HOLD-BACK=0.5")
        r = self.assertFires("policy-part-hold-back", only=True)
        self.assertIn("3x", r.violations[0].message)

    def test_can_skip_until_too_small(self):
        self.edit(self.V, "CAN-SKIP-UNTIL=12.0", "CAN-SKIP-UNTIL=6.0")
        self.assertFires("server-control")

    def test_hold_back_too_small(self):
        self.edit(self.V, "CAN-SKIP-UNTIL=12.0", "CAN-SKIP-UNTIL=12.0,HOLD-BACK=4.0")
        self.assertFires("server-control")

    def test_parts_of_old_segments_must_go(self):
        fx = Fixture()
        fx.parts_window = 4
        fx.write(self.dir)
        r = self.assertFires("part-window")
        self.assertTrue(any("segment 0 " in v.message for v in r.violations))

    def test_preload_hint_missing(self):
        self.edit(self.V, '#EXT-X-PRELOAD-HINT:TYPE=PART,URI="part-4.2.m4s"\n', "")
        self.assertFires("preload-hint")

    def test_two_preload_hints(self):
        self.edit(self.V, '#EXT-X-PRELOAD-HINT:TYPE=PART,URI="part-4.2.m4s"\n',
                  '#EXT-X-PRELOAD-HINT:TYPE=PART,URI="part-4.2.m4s"\n#EXT-X-PRELOAD-HINT:TYPE=PART,URI="part-4.3.m4s"\n')
        self.assertFires("preload-hint")

    def test_preload_hint_after_endlist(self):
        self.edit(self.V, '#EXT-X-PRELOAD-HINT:TYPE=PART,URI="part-4.2.m4s"\n',
                  '#EXT-X-PRELOAD-HINT:TYPE=PART,URI="part-4.2.m4s"\n#EXT-X-ENDLIST\n')
        self.assertFires("preload-hint", live=False)

    def test_preload_hint_names_listed_part(self):
        self.edit(self.V, 'URI="part-4.2.m4s"', 'URI="part-4.1.m4s"')
        self.assertFires("preload-hint")

    def test_preload_hint_may_name_next_segment(self):
        self.edit(self.V, 'URI="part-4.2.m4s"', 'URI="part-5.0.m4s"')
        report = self.check(live=True)
        self.assertNotIn("layout-hint", report.rules(), [str(v) for v in report.violations])

    def test_preload_hint_skips_a_part(self):
        self.edit(self.V, 'URI="part-4.2.m4s"', 'URI="part-4.3.m4s"')
        self.assertFires("layout-hint", only=True)

    def test_pdt_missing(self):
        self.edit(self.V, "#EXT-X-PROGRAM-DATE-TIME:2024-01-01T00:00:04.000Z\n", "")
        self.assertFires("pdt-missing")

    def test_pdt_not_iso8601(self):
        self.edit(self.V, "2024-01-01T00:00:04.000Z", "2024-01-01 00:00:04.000")
        self.assertFires("pdt-format")

    def test_pdt_jump(self):
        self.edit(self.V, "2024-01-01T00:00:04.000Z", "2024-01-01T00:00:04.060Z")
        self.assertFires("pdt-continuity")

    def test_pdt_small_jitter_is_fine(self):
        self.edit(self.V, "2024-01-01T00:00:04.000Z", "2024-01-01T00:00:04.040Z")
        self.assertNotIn("pdt-continuity", self.check().rules())

    def test_map_missing(self):
        self.edit(self.V, '#EXT-X-MAP:URI="init-0.mp4"\n', "")
        self.assertFires("map")

    def test_init_file_missing(self):
        os.unlink(self.path("video_0/init-0.mp4"))
        self.assertFires("uri-exists")

    def test_segment_file_missing(self):
        os.unlink(self.path("video_0/seg-1.m4s"))
        self.assertFires("uri-exists", only=True)

    def test_part_file_missing(self):
        os.unlink(self.path("audio_0/part-4.1.m4s"))
        r = self.assertFires("uri-exists", only=True)
        self.assertIn("audio_0/media.m3u8", r.violations[0].file)

    def test_absolute_uri(self):
        self.edit(self.V, "seg-1.m4s", "/seg-1.m4s")
        self.assertFires("layout-relative-uri")

    def test_live_playlist_must_keep_three_target_durations(self):
        Fixture(complete=2, in_progress=2, media_sequence=5).write(self.dir)
        self.assertFires("live-window")

    def test_vod_needs_endlist(self):
        self.vod().write(self.dir)
        self.edit(self.V, "#EXT-X-ENDLIST\n", "")
        self.assertFires("playlist-type", live=False)

    def test_parts_after_eos(self):
        self.vod().write(self.dir)
        self.edit(self.V, "#EXTINF:2.00000,\nseg-3.m4s",
                  "#EXT-X-PART-INF:PART-TARGET=0.2\n#EXT-X-PART:DURATION=0.2,URI=\"part-3.0.m4s\"\n#EXTINF:2.00000,\nseg-3.m4s")
        self.assertFires("layout-endlist-parts", live=False)

    def test_bom(self):
        with open(self.path(self.V), "rb") as f:
            data = f.read()
        with open(self.path(self.V), "wb") as f:
            f.write(b"\xef\xbb\xbf" + data)
        self.assertFires("encoding")


class MultivariantRules(FolderCase):
    I = "index.m3u8"

    def setUp(self):
        super().setUp()
        Fixture().write(self.dir)

    def test_stream_inf_without_uri(self):
        self.edit(self.I, "video_0/media.m3u8\n", "")
        self.assertFires("stream-inf")

    def test_stream_inf_needs_bandwidth(self):
        self.edit(self.I, "BANDWIDTH=2000000,", "")
        self.assertFires("attribute-required")

    def test_stream_inf_needs_codecs(self):
        self.edit(self.I, 'CODECS="avc1.42C01E,mp4a.40.2",', "")
        self.assertFires("policy-codecs")

    def test_codecs_must_name_audio_when_audio_group_used(self):
        self.edit(self.I, 'CODECS="avc1.42C01E,mp4a.40.2"', 'CODECS="avc1.42C01E"')
        self.assertFires("codecs")

    def test_codecs_entries_checked(self):
        self.edit(self.I, 'CODECS="avc1.42C01E,', 'CODECS="h264,')
        self.assertFires("codecs")

    def test_audio_group_must_exist(self):
        self.edit(self.I, 'AUDIO="audio"', 'AUDIO="aac"')
        self.assertFires("group")

    def test_media_needs_type_group_name(self):
        self.edit(self.I, 'NAME="audio_0",', "")
        self.assertFires("attribute-required")

    def test_audio_media_needs_uri(self):
        self.edit(self.I, ',URI="audio_0/media.m3u8"', "")
        self.assertFires("policy-media-uri")

    def test_default_needs_autoselect(self):
        self.edit(self.I, "AUTOSELECT=YES", "AUTOSELECT=NO")
        self.assertFires("media-tag")

    def test_two_defaults_in_group(self):
        self.edit(self.I, "#EXT-X-STREAM-INF",
                  '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="other",DEFAULT=YES,URI="audio_0/media.m3u8"\n'
                  "#EXT-X-STREAM-INF")
        self.assertFires("media-tag")

    def test_resolution_syntax(self):
        self.edit(self.I, "RESOLUTION=640x360", "RESOLUTION=640X360")
        self.assertFires("attribute-type")

    def test_frame_rate_syntax(self):
        self.edit(self.I, "FRAME-RATE=30.000", "FRAME-RATE=30fps")
        self.assertFires("attribute-type")

    def test_frame_rate_three_decimals(self):
        self.edit(self.I, "FRAME-RATE=30.000", "FRAME-RATE=29.9700")
        self.assertFires("frame-rate")

    def test_media_playlist_missing(self):
        os.unlink(self.path("audio_0/media.m3u8"))
        self.assertFires("uri-exists")

    def test_media_playlists_are_checked_too(self):
        self.edit("audio_0/media.m3u8", "#EXT-X-TARGETDURATION:2", "#EXT-X-TARGETDURATION:1")
        r = self.assertFires("targetduration")
        self.assertTrue(all("audio_0" in v.file for v in r.violations))

    def test_media_tag_in_multivariant_is_flagged(self):
        self.edit(self.I, "#EXT-X-INDEPENDENT-SEGMENTS", "#EXT-X-INDEPENDENT-SEGMENTS\n#EXT-X-TARGETDURATION:2")
        self.assertFires("playlist-kind")

    def test_renditions_out_of_step(self):
        self.edit("audio_0/media.m3u8", "2024-01-01T00:00:04.000Z", "2024-01-01T00:00:04.021Z")
        self.assertFires("layout-renditions-in-step")

    def test_finished_renditions_hold_the_same_segments(self):
        fx = self.vod()
        fx.renditions[1].add_segment(1)   # audio gets a fifth segment, video keeps four
        fx.complete = 5
        fx.write(self.dir)
        r = self.assertFires("layout-renditions-in-step", live=False)
        self.assertTrue(any("segments 0..3" in v.message for v in r.violations), r.violations)

    def test_bandwidth_below_peak_when_finished(self):
        self.vod().write(self.dir)
        self.edit(self.I, "BANDWIDTH=2000000,AVERAGE-BANDWIDTH=1500000", "BANDWIDTH=2000,AVERAGE-BANDWIDTH=1500")
        self.assertFires("bandwidth", live=False)


class MediaFileRules(FolderCase):
    """--media: look inside the fMP4 files."""

    def test_segment_first_sample_not_sync(self):
        fx = Fixture()
        fx.renditions[0].segments[1][0][0]["flags"] = NON_SYNC
        fx.write(self.dir)
        r = self.assertFires("media-sync", media=True)
        self.assertTrue(any("seg-1.m4s" in v.message for v in r.violations))

    def test_segment_flagged_sync_but_no_idr(self):
        fx = Fixture()
        fx.renditions[0].segments[2][0][0]["data"] = video_sample(idr=False)
        fx.write(self.dir)
        self.assertFires("media-idr", media=True)

    def test_independent_part_without_sync_sample(self):
        fx = Fixture()
        fx.write(self.dir)
        self.edit("video_0/media.m3u8", 'URI="part-3.5.m4s"', 'URI="part-3.5.m4s",INDEPENDENT=YES')
        self.assertFires("media-independent", media=True)

    def test_tfdt_gap_between_segments(self):
        fx = self.vod()
        fx.renditions[0].tfdt_shift = {2: 3001, 3: 3001}
        fx.write(self.dir)
        r = self.assertFires("media-tfdt", live=False, media=True)
        self.assertTrue(any("seg-2.m4s" in v.message for v in r.violations))

    def test_tfdt_jitter_within_a_sample_is_fine(self):
        fx = self.vod()
        fx.renditions[0].tfdt_shift = {2: 2999, 3: 2999}
        fx.write(self.dir)
        self.assertNotIn("media-tfdt", self.check(live=False, media=True).rules())

    def test_tfdt_gap_across_discontinuity_is_fine(self):
        fx = self.vod()
        fx.renditions[0].tfdt_shift = {2: 90000, 3: 90000}
        fx.write(self.dir)
        self.edit("video_0/media.m3u8", "#EXT-X-PROGRAM-DATE-TIME:2024-01-01T00:00:04",
                  "#EXT-X-DISCONTINUITY\n#EXT-X-PROGRAM-DATE-TIME:2024-01-01T00:00:04")
        self.assertNotIn("media-tfdt", self.check(live=False, media=True).rules())

    def test_truncated_segment(self):
        Fixture().write(self.dir)
        p = self.path("video_0/seg-2.m4s")
        with open(p, "rb") as f:
            data = f.read()
        with open(p, "wb") as f:
            f.write(data[:-5])
        self.assertFires("media-boxes", media=True)

    def test_garbage_init(self):
        Fixture().write(self.dir)
        with open(self.path("audio_0/init-0.mp4"), "wb") as f:
            f.write(b"\0\0\0\x10moov\0\0\0\0\0\0")
        self.assertFires("media-init", media=True)

    def test_extinf_disagrees_with_samples(self):
        fx = self.vod()
        for s in fx.renditions[1].segments[1][9]:
            s["dur"] = 21
        fx.write(self.dir)
        self.edit("audio_0/media.m3u8", "#EXTINF:2.01000,", "#EXTINF:2.00000,")
        self.assertFires("media-extinf", live=False, media=True)

    def test_part_duration_disagrees_with_samples(self):
        Fixture().write(self.dir)
        self.edit("video_0/media.m3u8", 'DURATION=0.20000,URI="part-3.9.m4s"', 'DURATION=0.19000,URI="part-3.9.m4s"')
        self.edit("video_0/media.m3u8", "#EXTINF:2.00000,\nseg-3.m4s", "#EXTINF:1.99000,\nseg-3.m4s")
        self.assertFires("media-part-duration", media=True)

    def test_codecs_must_match_init(self):
        Fixture().write(self.dir)
        self.edit("index.m3u8", "avc1.42C01E", "avc1.64001F")
        self.assertFires("codecs", media=True)

    def test_resolution_must_match_init(self):
        Fixture().write(self.dir)
        self.edit("index.m3u8", "RESOLUTION=640x360", "RESOLUTION=1280x720")
        self.assertFires("resolution", media=True)

    def test_frame_rate_must_match_samples(self):
        Fixture().write(self.dir)
        self.edit("index.m3u8", "FRAME-RATE=30.000", "FRAME-RATE=25.000")
        self.assertFires("frame-rate", media=True)

    def test_segment_must_be_its_parts(self):
        fx = Fixture()
        fx.write(self.dir)
        # Rewrite seg-3 with one sample fewer than its parts hold.
        import fmp4fixture as f4
        r = fx.renditions[0]
        parts = [list(p) for p in r.segments[3]]
        parts[-1] = parts[-1][:-1]
        data = f4.STYP
        tfdt = 3 * 60 * 3000
        seq = 100
        for p in parts:
            data += f4.fragment(1, seq, tfdt, p)
            seq += 1
            tfdt += sum(s["dur"] for s in p)
        with open(self.path("video_0/seg-3.m4s"), "wb") as f:
            f.write(data)
        self.assertFires("layout-segment-parts", media=True)

    def test_segment_must_start_with_styp(self):
        Fixture().write(self.dir)
        p = self.path("audio_0/seg-1.m4s")
        with open(p, "rb") as f:
            data = f.read()
        with open(p, "wb") as f:
            f.write(data[len(STYP):])
        self.assertFires("layout-styp", media=True)

    def test_renditions_start_at_different_media_times(self):
        fx = self.vod()
        fx.renditions[1].tfdt_shift = {0: 100, 1: 100, 2: 100, 3: 100}   # 100 ms later, > one 20 ms frame
        fx.write(self.dir)
        self.assertFires("layout-renditions-in-step", live=False, media=True)

    def test_audio_may_start_late_in_first_segment_only(self):
        fx = self.vod()
        fx.renditions[1].tfdt_shift = {0: 100}   # the audio's media begins 100 ms after the video's
        fx.write(self.dir)
        report = self.check(live=False, media=True)
        self.assertNotIn("layout-renditions-in-step", report.rules(), [str(v) for v in report.violations])

    def test_audio_starting_late_in_a_later_segment_fires(self):
        fx = self.vod()
        fx.renditions[1].tfdt_shift = {1: 100}
        fx.write(self.dir)
        self.assertFires("layout-renditions-in-step", live=False, media=True)

    def test_mfhd_sequence_must_increase(self):
        fx = Fixture()
        fx.write(self.dir)
        import fmp4fixture as f4
        r = fx.renditions[1]
        data = f4.STYP
        tfdt = 1 * 100 * 20
        for p in r.segments[1]:
            data += f4.fragment(1, 7, tfdt, p)
            tfdt += sum(s["dur"] for s in p)
        with open(self.path("audio_0/seg-1.m4s"), "wb") as f:
            f.write(data)
        self.assertFires("media-mfhd", media=True)


if __name__ == "__main__":
    unittest.main(verbosity=1)
