// Golden-fixture reader (see fixtures.h).
#include "testing/fixtures.h"
