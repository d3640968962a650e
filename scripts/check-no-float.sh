#!/usr/bin/env bash
# check-no-float.sh — fails if money code (billing/ by default, or the files and folders given) uses floating point.
# Registered as the meson test 'billing-no-float' (suite unit), so CI runs it with every build.
#
# Money is integers of minor units everywhere (billing/README.md); this is the
# check the issue asks for. Looked for, as whole words, in .c and .h files:
#   - float and double types, any spelling: float, double, gdouble, gfloat,
#     G_MAXDOUBLE, _Float64, sqlite3_column_double, json_..._double_member...
#   - <math.h>, <tgmath.h>, <float.h>, <fenv.h>, and libm and conversion
#     functions: floor, ceil, round, lround, trunc, rint, pow, sqrt, exp,
#     log, fmod, ldexp, frexp, modf, fabs, hypot, isnan, NAN, INFINITY,
#     HUGE_VAL (with their f/l variants), strtod, strtof, atof, g_ascii_strtod,
#     g_ascii_dtostr, g_ascii_formatd
#   - floating literals (1.5, .5, 1e6, 2.f) and printf conversions %f %e %g %a
# Comments are ignored (/* */ and // are blanked first, keeping line numbers,
# so prose may say "round half up"); string literals are not, because a "%f"
# in a format string is floating point too. A "//" inside a string literal
# ends the checked part of that line: billing/ has none where it matters.
set -euo pipefail
[ $# -gt 0 ] || { cd "$(dirname "$0")/.."; set -- billing; }
files=()
for arg in "$@"; do
  if [ -d "$arg" ]; then
    while IFS= read -r f; do files+=("$f"); done \
      < <(find "$arg" -type f \( -name '*.c' -o -name '*.h' \) | sort)
  elif [ -f "$arg" ]; then
    files+=("$arg")
  else
    echo "check-no-float: no such file or folder: $arg" >&2
    exit 2
  fi
done
[ ${#files[@]} -gt 0 ] || { echo "check-no-float: no C files in $*" >&2; exit 2; }

perl -e '
  my $found = 0;
  my $words = qr/\b(?:ldexp|frexp|modf|fabs|floor|ceil|round|lround|llround|
                    rint|lrint|llrint|nearbyint|trunc|pow|sqrt|cbrt|exp|exp2|
                    expm1|log|log2|log10|log1p|fmod|remainder|hypot|strtod|
                    strtof|strtold|atof|isnan|isinf|isfinite|signbit|HUGE_VAL|
                    NAN|INFINITY)[fl]?\b/x;
  for my $file (@ARGV) {
    open my $fh, "<", $file or die "$file: $!\n";
    local $/;
    my $text = <$fh>;
    close $fh;
    # Blank comments, keeping their newlines so line numbers stay right.
    $text =~ s{/\*(.*?)\*/}{my $c = $1; "  " . ("\n" x ($c =~ tr/\n//))}gse;
    $text =~ s{//[^\n]*}{}g;
    my $n = 0;
    for my $line (split /\n/, $text, -1) {
      $n++;
      # Code is checked with string literals emptied; the strings
      # themselves only for printf conversions.
      (my $code = $line) =~ s/\x27(?:[^\x27\\]|\\.)*\x27/\x27\x27/g;
      my @strings = $code =~ /"((?:[^"\\]|\\.)*)"/g;
      $code =~ s/"(?:[^"\\]|\\.)*"/""/g;
      my @hits;
      push @hits, $1 while $code =~ /(\b\w*(?:float|double)\w*\b)/gi;
      push @hits, $1 while $code =~ /($words)/g;
      push @hits, $1 while $code =~ /\b(g_(?:ascii_)?(?:strtod|dtostr|formatd))\b/g;
      push @hits, $1 while $code =~ /(#\s*include\s*<(?:math|tgmath|float|fenv)\.h>)/g;
      push @hits, $1 while $code =~ /(?<![\w.])((?:\d+\.\d*|\.\d+)(?:[eE][-+]?\d+)?[fFlL]?|\d+[eE][-+]?\d+[fFlL]?)(?![\w.])/g;
      for my $string (@strings) {
        $string =~ s/%%//g;
        push @hits, $1 while $string =~ /(%[-+ #0]*(?:\d+|\*)?(?:\.(?:\d+|\*))?L?[fFeEgGaA])/g;
      }
      for my $hit (@hits) {
        print "$file:$n: floating point in money code: $hit\n";
        $found = 1;
      }
    }
  }
  exit $found;
' "${files[@]}" || { echo "check-no-float: money is integers of minor units (billing/README.md)" >&2; exit 1; }
echo "check-no-float: ${#files[@]} files, no floating point"
