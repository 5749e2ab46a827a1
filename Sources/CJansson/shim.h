#ifndef WHISKER_CJANSSON_SHIM_H
#define WHISKER_CJANSSON_SHIM_H
#include <jansson.h>
#endif
