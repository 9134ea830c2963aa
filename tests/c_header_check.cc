// Compiles capi/duosync.h as C++ (the C test compiles it as C99).
#include "duosync.h"
static_assert(DUO_OK == 0, "DUO_OK is 0");
