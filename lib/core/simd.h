/* The vector width of the memory-bound loops (BatchNorm, ReLU, Adam,
 * col2im, column sums, the finiteness check): each is compiled three times,
 * for AVX-512F, AVX2 and the build's baseline, and every call runs the
 * version chosen once per process from the CPU's features. A portable
 * package (-Dnative=false: baseline x86-64 is SSE2) so runs them as wide
 * as a -march=native build. REPTILE_SIMD=auto|avx512|avx2|baseline forces
 * a version (tests run each). All versions give the same bits: C11 mode
 * keeps floating-point contraction off, so no version fuses a multiply-add
 * the others round twice, and no loop reorders a reduction. */
#ifndef RP_CORE_SIMD_H
#define RP_CORE_SIMD_H

enum { RP_SIMD_BASELINE = 0, RP_SIMD_AVX2 = 1, RP_SIMD_AVX512 = 2 };

/* The version the loops run: REPTILE_SIMD's, else the widest the CPU has. */
int rp_simd_level(void);

/* 1 when this CPU and build can run level. */
int rp_simd_available(int level);

/* "baseline", "avx2" or "avx512". */
const char *rp_simd_name(int level);

/* 0, or the error (message set) for an invalid or unavailable REPTILE_SIMD. */
int rp_simd_check(void);

/* Tests: run the loops at level from now on (0), or -1 when the CPU cannot. */
int rp_simd_use(int level);

#if defined(__x86_64__) && defined(__GNUC__)
#define RP_SIMD_BUILT 1
#define RP_TARGET_AVX512 __attribute__((target("avx512f")))
#define RP_TARGET_AVX2 __attribute__((target("avx2")))
#else
#define RP_SIMD_BUILT 0
#define RP_TARGET_AVX512
#define RP_TARGET_AVX2
#endif

/* A loop body for RP_SIMD_VARIANTS: inlined into each version. */
#define RP_SIMD_LOOP static inline __attribute__((always_inline))

/* name##_avx512, _avx2 and _baseline, each running name##_loop(args):
 * RP_SIMD_VARIANTS for a void loop, RP_SIMD_VARIANTS_RET for one that
 * returns ret. RP_SIMD_CALL(name, args) calls the chosen one. */
#define RP_SIMD_VARIANTS(name, params, args)                                   \
    RP_TARGET_AVX512 static void name##_avx512 params { name##_loop args; }    \
    RP_TARGET_AVX2 static void name##_avx2 params { name##_loop args; }        \
    static void name##_baseline params { name##_loop args; }
#define RP_SIMD_VARIANTS_RET(ret, name, params, args)                          \
    RP_TARGET_AVX512 static ret name##_avx512 params { return name##_loop args; } \
    RP_TARGET_AVX2 static ret name##_avx2 params { return name##_loop args; }  \
    static ret name##_baseline params { return name##_loop args; }
#define RP_SIMD_CALL(name, args)                                               \
    (rp_simd_level() == RP_SIMD_AVX512 ? name##_avx512 args                    \
     : rp_simd_level() == RP_SIMD_AVX2 ? name##_avx2 args                      \
                                        : name##_baseline args)

#endif
