/* clock: the monotonic clock, for deadlines and durations. */
#ifndef POM_CLOCK_H
#define POM_CLOCK_H

/* Milliseconds on the monotonic clock (CLOCK_MONOTONIC). */
long monotonic_ms(void);

#endif
