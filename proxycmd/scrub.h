/* scrub.h — wiping the copies of a secret that explicit_bzero() cannot
 * reach.
 *
 * A token passes through libc's string and memory functions (strlen,
 * memcpy, memchr...) on its way into the CONNECT request. On x86-64,
 * glibc picks SSE, AVX2 or AVX-512 versions of those functions, which
 * leave the last bytes they moved in vector registers; the AVX-512 ones
 * use zmm16-31 precisely because ordinary code never touches them, so a
 * copy stays there for the life of the process and appears in a core
 * dump (the registers are part of it). The lazy binding of a library call
 * (ld.so's resolver) saves those registers on the stack, where another
 * copy lies below the stack pointer until something overwrites it.
 * tests/security.t finds both in cores on an AVX-512 machine unless they
 * are cleared.
 */
#ifndef POM_SCRUB_H
#define POM_SCRUB_H

/* Clear every vector register the CPU has (x86-64: xmm/ymm/zmm 0-31 as
 * far as the CPU and the kernel enable them; elsewhere nothing), then the
 * 32 KiB of stack below the caller. Call it once the secret's own buffers
 * are wiped and before the process settles into a long phase (the
 * splice). About 0.4 us (the stack's wipe is most of it). */
void scrub_registers_and_stack(void);

#endif
