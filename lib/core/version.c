#include "reptile/version.h"

unsigned int reptile_version_number(void) { return REPTILE_VERSION_NUMBER; }

const char *reptile_version_string(void) { return REPTILE_VERSION_STRING; }
