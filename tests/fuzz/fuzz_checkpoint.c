/* libFuzzer target for the checkpoint reader (lib/core/safetensors.c and
 * lib/model/checkpoint.c): safetensors parsing, libreptile metadata,
 * architecture JSON, model rebuilding and tensor reads. The fuzz build
 * defines FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION, which skips the CRC
 * checks so that mutated files reach the deeper code.
 * Build: CC=clang meson setup build-fuzz -Dfuzz=true; run:
 *   build-fuzz/tests/fuzz/fuzz-checkpoint -max_len=65536 -max_total_time=60 \
 *     corpus/ tests/fuzz/corpus-checkpoint/
 * (the seeds are small files from reptile_model_save(); pooled.safetensors
 * has maxpool2d layers, format_version 2). */
#include "core/safetensors.h"
#include "model/checkpoint_internal.h"
#include "reptile/model.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rp_st_file *f = NULL;
    if (rp_st_parse(&f, data, size, "fuzz") == 0) {
        volatile size_t sum = rp_st_data_size(f);
        for (size_t i = 0; i < rp_st_count(f); ++i)
            sum += rp_st_has(f, rp_st_name(f, i));
        (void)rp_st_meta(f, "architecture");
        (void)rp_st_verify_checksums(f);
        (void)sum;
    }
    rp_st_free(f);
    reptile_model *m = NULL;
    if (rp_model_load_memory(&m, data, size, "fuzz") == 0) {
        /* Touch the loaded buffers so sanitizers see any bad write. */
        const float *p = reptile_model_params(m);
        volatile float sum = 0.0f;
        for (size_t i = 0; i < reptile_model_num_params(m); ++i)
            sum += p[i];
        (void)sum;
    }
    reptile_model_free(m);
    return 0;
}
