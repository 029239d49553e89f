/*
 * clock — the wall clock in milliseconds, for the modules below app (the
 * engine, the brokers) that stamp trades and requests. Owns nothing.
 */
#ifndef ZEPIX_CLOCK_H
#define ZEPIX_CLOCK_H

#include <stdint.h>

/* CLOCK_REALTIME in milliseconds since the epoch. */
int64_t clk_now_ms(void);

#endif
