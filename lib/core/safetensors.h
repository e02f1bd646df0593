/* safetensors reader and writer (https://github.com/huggingface/safetensors):
 *
 *     u64 little-endian N | N bytes of UTF-8 JSON header | data section
 *
 * The header maps tensor names to {"dtype", "shape", "data_offsets":
 * [begin, end]} (offsets relative to the data section) and holds an
 * optional "__metadata__" object of string values. Data is little-endian,
 * C order. The writer pads the header with spaces to a multiple of 8 bytes
 * and adds two CRC-32 checksums (zlib's polynomial) to the metadata:
 * "data_checksum" over the data section and "metadata_checksum" over the
 * other metadata entries (see rp_st_metadata_crc). JSON goes through
 * jansson; nothing here is specific to models. */
#ifndef RP_CORE_SAFETENSORS_H
#define RP_CORE_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

/* Largest header accepted (bytes) and largest tensor rank. */
#define RP_ST_MAX_HEADER ((uint64_t)100 * 1024 * 1024)
#define RP_ST_MAX_RANK 8

enum rp_st_dtype { RP_ST_F32 = 0, RP_ST_I64 = 1 };

/* ---- writer ------------------------------------------------------------ */

typedef struct rp_st_writer rp_st_writer;

int rp_st_writer_new(rp_st_writer **out);
void rp_st_writer_free(rp_st_writer *w);

/* Adds a tensor; data (count = product of shape) is borrowed until the
 * write. Names are unique and must not be "__metadata__". */
int rp_st_add(rp_st_writer *w, const char *name, int dtype, const void *data, int rank,
              const int64_t *shape);
/* Adds a metadata entry (both strings copied). */
int rp_st_add_meta(rp_st_writer *w, const char *key, const char *value);

/* Serialises the whole file into one malloc'd buffer (for tests, fuzz seeds). */
int rp_st_serialize(const rp_st_writer *w, unsigned char **out, size_t *size);
/* Serialises and writes atomically (rp_atomic_write). */
int rp_st_write_file(const rp_st_writer *w, const char *path);

/* ---- reader ------------------------------------------------------------ */

typedef struct rp_st_file rp_st_file;

/* Parses and validates a safetensors image (copied): header length within
 * RP_ST_MAX_HEADER and the input, a JSON object, string metadata, known
 * dtypes, shapes whose byte size equals their offsets, offsets inside the
 * data section that tile it with no overlap and no hole. `what` names the
 * source in messages (a path). REPTILE_EFORMAT, REPTILE_ENOMEM. */
int rp_st_parse(rp_st_file **out, const void *data, size_t size, const char *what);
/* Reads a file and parses it (the header length is checked before the
 * rest is read). REPTILE_EIO / REPTILE_ENOTFOUND, or as rp_st_parse. */
int rp_st_read_file(rp_st_file **out, const char *path);
void rp_st_free(rp_st_file *f);

/* Source name given at parse time. */
const char *rp_st_what(const rp_st_file *f);
/* Metadata value, or NULL when the key is absent. */
const char *rp_st_meta(const rp_st_file *f, const char *key);
/* Number of tensors; bytes in the data section. */
size_t rp_st_count(const rp_st_file *f);
size_t rp_st_data_size(const rp_st_file *f);
/* Name of tensor i (in header order). */
const char *rp_st_name(const rp_st_file *f, size_t i);
/* Whether a tensor exists. */
int rp_st_has(const rp_st_file *f, const char *name);

/* Copies tensor `name` into dst (host byte order), after checking that it
 * exists, has the dtype and exactly the expected shape; marks it used.
 * REPTILE_EFORMAT naming the tensor otherwise. */
int rp_st_get(rp_st_file *f, const char *name, int dtype, int rank, const int64_t *shape,
              void *dst);
/* REPTILE_EFORMAT naming the first tensor no rp_st_get has read. */
int rp_st_check_all_used(const rp_st_file *f);

/* Verifies "data_checksum" and "metadata_checksum" (both required). */
int rp_st_verify_checksums(const rp_st_file *f);

/* CRC-32 (zlib) of a buffer, continuing from crc (0 to start). */
uint32_t rp_crc32(uint32_t crc, const void *data, size_t size);

#endif
