#ifndef WHISKER_CMICROHTTPD_SHIM_H
#define WHISKER_CMICROHTTPD_SHIM_H
/* microhttpd.h needs the socket and stdarg types declared before it. */
#include <stdarg.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <microhttpd.h>
#endif
