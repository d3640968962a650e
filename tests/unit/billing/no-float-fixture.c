/* no-float-fixture.c — money code as it must not be written: the test 'billing-no-float-catches-double'
 * runs scripts/check-no-float.sh on this file and expects it to fail. Never compiled. */

#include <glib.h>

gint64 fixture_fee (gint64 gross);

gint64
fixture_fee (gint64 gross)
{
  double share = 0.15;

  return (gint64)(gross * share);
}
