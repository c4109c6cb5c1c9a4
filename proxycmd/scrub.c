#include "scrub.h"

#include <string.h>

enum { SCRUB_STACK_BYTES = 32 * 1024 };

/* Its own frame, below the caller's, over the stack that the functions the
 * caller called used and left. */
static __attribute__((noinline)) void scrub_stack(void)
{
	unsigned char dead[SCRUB_STACK_BYTES];
	explicit_bzero(dead, sizeof dead);
	/* the array is "used": the wipe is not optimised away with it */
	__asm__ __volatile__("" : : "r"(dead) : "memory");
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define XMM0_15 "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", \
	"xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15"

/* zmm16-31 exist only with AVX-512 (the compiler does not use them unless
 * built for it, so they need no clobber); vzeroall clears all of
 * xmm/ymm/zmm0-15; without AVX, xmm0-15 are all there is. */
static void scrub_registers(void)
{
	if (__builtin_cpu_supports("avx512f")) {
		__asm__ __volatile__(
			"vpxord %%zmm16, %%zmm16, %%zmm16\n\tvpxord %%zmm17, %%zmm17, %%zmm17\n\t"
			"vpxord %%zmm18, %%zmm18, %%zmm18\n\tvpxord %%zmm19, %%zmm19, %%zmm19\n\t"
			"vpxord %%zmm20, %%zmm20, %%zmm20\n\tvpxord %%zmm21, %%zmm21, %%zmm21\n\t"
			"vpxord %%zmm22, %%zmm22, %%zmm22\n\tvpxord %%zmm23, %%zmm23, %%zmm23\n\t"
			"vpxord %%zmm24, %%zmm24, %%zmm24\n\tvpxord %%zmm25, %%zmm25, %%zmm25\n\t"
			"vpxord %%zmm26, %%zmm26, %%zmm26\n\tvpxord %%zmm27, %%zmm27, %%zmm27\n\t"
			"vpxord %%zmm28, %%zmm28, %%zmm28\n\tvpxord %%zmm29, %%zmm29, %%zmm29\n\t"
			"vpxord %%zmm30, %%zmm30, %%zmm30\n\tvpxord %%zmm31, %%zmm31, %%zmm31\n\t"
			"vzeroall" : : : XMM0_15);
	} else if (__builtin_cpu_supports("avx")) {
		__asm__ __volatile__("vzeroall" : : : XMM0_15);
	} else {
		__asm__ __volatile__(
			"pxor %%xmm0, %%xmm0\n\tpxor %%xmm1, %%xmm1\n\tpxor %%xmm2, %%xmm2\n\t"
			"pxor %%xmm3, %%xmm3\n\tpxor %%xmm4, %%xmm4\n\tpxor %%xmm5, %%xmm5\n\t"
			"pxor %%xmm6, %%xmm6\n\tpxor %%xmm7, %%xmm7\n\tpxor %%xmm8, %%xmm8\n\t"
			"pxor %%xmm9, %%xmm9\n\tpxor %%xmm10, %%xmm10\n\tpxor %%xmm11, %%xmm11\n\t"
			"pxor %%xmm12, %%xmm12\n\tpxor %%xmm13, %%xmm13\n\tpxor %%xmm14, %%xmm14\n\t"
			"pxor %%xmm15, %%xmm15" : : : XMM0_15);
	}
}
#else
static void scrub_registers(void)
{
}
#endif

void scrub_registers_and_stack(void)
{
	scrub_stack();
	scrub_registers();
}
