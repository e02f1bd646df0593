#include "core/rng.h"

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

void rp_rng_init(rp_rng *rng, uint64_t seed, uint64_t a, uint64_t b)
{
    /* Chain the key words through SplitMix64 so that (seed, a, b) and any
     * permutation of them give unrelated streams. */
    uint64_t x = seed;
    uint64_t h = splitmix64(&x);
    x = h ^ a;
    h = splitmix64(&x);
    x = h ^ b;
    for (int i = 0; i < 4; ++i)
        rng->s[i] = splitmix64(&x);
}

uint64_t rp_rng_u64(rp_rng *rng)
{
    uint64_t *s = rng->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint32_t rp_rng_below(rp_rng *rng, uint32_t n)
{
    uint32_t x = (uint32_t)(rp_rng_u64(rng) >> 32);
    uint64_t m = (uint64_t)x * n;
    uint32_t low = (uint32_t)m;
    if (low < n) {
        uint32_t threshold = (uint32_t)(-n) % n;
        while (low < threshold) {
            x = (uint32_t)(rp_rng_u64(rng) >> 32);
            m = (uint64_t)x * n;
            low = (uint32_t)m;
        }
    }
    return (uint32_t)(m >> 32);
}

float rp_rng_float(rp_rng *rng) { return (float)(rp_rng_u64(rng) >> 40) * 0x1.0p-24f; }

double rp_rng_double(rp_rng *rng) { return (double)(rp_rng_u64(rng) >> 11) * 0x1.0p-53; }

void rp_rng_shuffle_i32(rp_rng *rng, int32_t *v, int n)
{
    for (int i = n - 1; i > 0; --i) {
        int j = (int)rp_rng_below(rng, (uint32_t)i + 1);
        int32_t t = v[i];
        v[i] = v[j];
        v[j] = t;
    }
}
