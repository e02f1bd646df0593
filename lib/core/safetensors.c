/* safetensors reader and writer, JSON through jansson. Every size read from
 * a file is bounded by the file's own length before anything is allocated
 * from it. */
#include "core/safetensors.h"
#include "core/atomic_file.h"
#include "core/error_internal.h"
#include "core/regular_file.h"

#include <jansson.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- byte order and checksums -------------------------------------------- */

static int host_is_big_endian(void)
{
    const uint16_t one = 1;
    unsigned char first;
    memcpy(&first, &one, 1);
    return first == 0;
}

/* Copies count elements of `elem` bytes, reversing each when the host is
 * big-endian: converts between host order and the file's little-endian. */
static void copy_le(void *dst, const void *src, size_t count, size_t elem)
{
    if (!host_is_big_endian() || elem == 1) {
        memcpy(dst, src, count * elem);
        return;
    }
    unsigned char *d = dst;
    const unsigned char *s = src;
    for (size_t i = 0; i < count; ++i)
        for (size_t b = 0; b < elem; ++b)
            d[i * elem + b] = s[i * elem + elem - 1 - b];
}

static uint64_t read_le64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; --i)
        v = (v << 8) | p[i];
    return v;
}

static void write_le64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; ++i)
        p[i] = (unsigned char)(v >> (8 * i));
}

uint32_t rp_crc32(uint32_t crc, const void *data, size_t size)
{
    /* Built per call (2,048 steps): no shared mutable state between threads. */
    uint32_t table[256];
    for (uint32_t i = 0; i < 256; ++i) {
        uint32_t c = i;
        for (int k = 0; k < 8; ++k)
            c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        table[i] = c;
    }
    const unsigned char *p = data;
    crc = ~crc;
    for (size_t i = 0; i < size; ++i)
        crc = table[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
    return ~crc;
}

/* ---- dtypes --------------------------------------------------------------- */

typedef struct dtype_info {
    const char *name;
    int code; /* enum rp_st_dtype, or -1: parsed and validated, never read here */
    size_t size;
} dtype_info;

static const dtype_info dtypes[] = {
    {"F32", RP_ST_F32, 4}, {"I64", RP_ST_I64, 8}, {"F64", -1, 8},     {"F16", -1, 2},
    {"BF16", -1, 2},       {"I32", -1, 4},       {"I16", -1, 2},     {"I8", -1, 1},
    {"U8", -1, 1},         {"U16", -1, 2},       {"U32", -1, 4},     {"U64", -1, 8},
    {"BOOL", -1, 1},       {"F8_E4M3", -1, 1},   {"F8_E5M2", -1, 1},
};

static const dtype_info *find_dtype(const char *name)
{
    for (size_t i = 0; i < sizeof dtypes / sizeof dtypes[0]; ++i)
        if (strcmp(dtypes[i].name, name) == 0)
            return &dtypes[i];
    return NULL;
}

static const char *dtype_name(int code)
{
    for (size_t i = 0; i < sizeof dtypes / sizeof dtypes[0]; ++i)
        if (dtypes[i].code == code)
            return dtypes[i].name;
    return "?";
}

static size_t dtype_size(int code)
{
    for (size_t i = 0; i < sizeof dtypes / sizeof dtypes[0]; ++i)
        if (dtypes[i].code == code)
            return dtypes[i].size;
    return 0;
}

static void format_shape(char *buf, size_t cap, int rank, const int64_t *shape)
{
    size_t used = (size_t)snprintf(buf, cap, "[");
    for (int i = 0; i < rank && used < cap; ++i)
        used += (size_t)snprintf(buf + used, cap - used, "%s%" PRId64, i ? ", " : "", shape[i]);
    if (used < cap)
        snprintf(buf + used, cap - used, "]");
}

/* ---- metadata checksum ---------------------------------------------------- */

typedef struct kv {
    const char *key, *value;
} kv;

static int kv_cmp(const void *a, const void *b)
{
    return strcmp(((const kv *)a)->key, ((const kv *)b)->key);
}

/* CRC-32 over key NUL value NUL of every entry but "metadata_checksum",
 * keys in byte order. Sorts `pairs` in place. */
static uint32_t metadata_crc(kv *pairs, size_t n)
{
    qsort(pairs, n, sizeof *pairs, kv_cmp);
    uint32_t crc = 0;
    for (size_t i = 0; i < n; ++i) {
        if (strcmp(pairs[i].key, "metadata_checksum") == 0)
            continue;
        crc = rp_crc32(crc, pairs[i].key, strlen(pairs[i].key) + 1);
        crc = rp_crc32(crc, pairs[i].value, strlen(pairs[i].value) + 1);
    }
    return crc;
}

/* ---- writer --------------------------------------------------------------- */

typedef struct w_tensor {
    char *name;
    int dtype;
    const void *data;
    int rank;
    int64_t shape[RP_ST_MAX_RANK];
    size_t count;
} w_tensor;

struct rp_st_writer {
    w_tensor *t;
    size_t n, cap;
    kv *meta; /* owned strings */
    size_t n_meta, cap_meta;
};

int rp_st_writer_new(rp_st_writer **out)
{
    *out = calloc(1, sizeof **out);
    return *out ? 0 : rp_error(REPTILE_ENOMEM, "safetensors writer: out of memory");
}

void rp_st_writer_free(rp_st_writer *w)
{
    if (!w)
        return;
    for (size_t i = 0; i < w->n; ++i)
        free(w->t[i].name);
    for (size_t i = 0; i < w->n_meta; ++i) {
        free((char *)w->meta[i].key);
        free((char *)w->meta[i].value);
    }
    free(w->t);
    free(w->meta);
    free(w);
}

static int grow(void **arr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t cap2 = *cap ? 2 * *cap : 16;
    void *p = realloc(*arr, cap2 * elem);
    if (!p)
        return rp_error(REPTILE_ENOMEM, "safetensors writer: out of memory");
    *arr = p;
    *cap = cap2;
    return 0;
}

int rp_st_add(rp_st_writer *w, const char *name, int dtype, const void *data, int rank,
              const int64_t *shape)
{
    if (!name || !*name || strcmp(name, "__metadata__") == 0 || rank < 0 ||
        rank > RP_ST_MAX_RANK || dtype_size(dtype) == 0)
        return rp_error(REPTILE_EINVAL, "safetensors writer: bad tensor \"%s\"", name ? name : "");
    for (size_t i = 0; i < w->n; ++i)
        if (strcmp(w->t[i].name, name) == 0)
            return rp_error(REPTILE_EINVAL, "safetensors writer: duplicate tensor \"%s\"", name);
    int rc = grow((void **)&w->t, &w->cap, w->n + 1, sizeof *w->t);
    if (rc)
        return rc;
    w_tensor *t = &w->t[w->n];
    memset(t, 0, sizeof *t);
    t->count = 1;
    for (int i = 0; i < rank; ++i) {
        if (shape[i] < 0)
            return rp_error(REPTILE_EINVAL, "safetensors writer: negative dimension in \"%s\"", name);
        t->shape[i] = shape[i];
        t->count *= (size_t)shape[i];
    }
    if (t->count && !data)
        return rp_error(REPTILE_EINVAL, "safetensors writer: no data for \"%s\"", name);
    if (!(t->name = strdup(name)))
        return rp_error(REPTILE_ENOMEM, "safetensors writer: out of memory");
    t->dtype = dtype;
    t->data = data;
    t->rank = rank;
    w->n++;
    return 0;
}

int rp_st_add_meta(rp_st_writer *w, const char *key, const char *value)
{
    if (!key || !value || strcmp(key, "data_checksum") == 0 ||
        strcmp(key, "metadata_checksum") == 0)
        return rp_error(REPTILE_EINVAL, "safetensors writer: bad metadata key");
    int rc = grow((void **)&w->meta, &w->cap_meta, w->n_meta + 1, sizeof *w->meta);
    if (rc)
        return rc;
    char *k = strdup(key), *v = strdup(value);
    if (!k || !v) {
        free(k);
        free(v);
        return rp_error(REPTILE_ENOMEM, "safetensors writer: out of memory");
    }
    w->meta[w->n_meta].key = k;
    w->meta[w->n_meta].value = v;
    w->n_meta++;
    return 0;
}

/* Builds the header object; data_size receives the data section's size. */
static json_t *build_header(const rp_st_writer *w, const char *data_crc, const char *meta_crc,
                            size_t *data_size)
{
    json_t *root = json_object(), *meta = json_object();
    int bad = !root || !meta || json_object_set_new(root, "__metadata__", meta) != 0;
    if (bad) {
        json_decref(root);
        if (!root)
            json_decref(meta);
        return NULL;
    }
    for (size_t i = 0; i < w->n_meta && !bad; ++i)
        bad = json_object_set_new(meta, w->meta[i].key, json_string(w->meta[i].value)) != 0;
    if (!bad)
        bad = json_object_set_new(meta, "data_checksum", json_string(data_crc)) != 0 ||
              json_object_set_new(meta, "metadata_checksum", json_string(meta_crc)) != 0;
    size_t offset = 0;
    for (size_t i = 0; i < w->n && !bad; ++i) {
        const w_tensor *t = &w->t[i];
        json_t *shape = json_array();
        bad = !shape;
        for (int d = 0; d < t->rank && !bad; ++d)
            bad = json_array_append_new(shape, json_integer(t->shape[d])) != 0;
        size_t bytes = t->count * dtype_size(t->dtype);
        json_t *entry = bad ? NULL
                            : json_pack("{s:s, s:o, s:[I, I]}", "dtype", dtype_name(t->dtype),
                                        "shape", shape, "data_offsets", (json_int_t)offset,
                                        (json_int_t)(offset + bytes));
        if (!entry) {
            bad = 1;
            break;
        }
        bad = json_object_set_new(root, t->name, entry) != 0;
        offset += bytes;
    }
    if (bad) {
        json_decref(root);
        return NULL;
    }
    *data_size = offset;
    return root;
}

int rp_st_serialize(const rp_st_writer *w, unsigned char **out, size_t *size)
{
    *out = NULL;
    *size = 0;
    size_t data_size = 0;
    for (size_t i = 0; i < w->n; ++i)
        data_size += w->t[i].count * dtype_size(w->t[i].dtype);
    unsigned char *data = malloc(data_size ? data_size : 1);
    if (!data)
        return rp_error(REPTILE_ENOMEM, "safetensors writer: out of memory for %zu bytes", data_size);
    size_t off = 0;
    for (size_t i = 0; i < w->n; ++i) {
        size_t elem = dtype_size(w->t[i].dtype);
        if (w->t[i].count)
            copy_le(data + off, w->t[i].data, w->t[i].count, elem);
        off += w->t[i].count * elem;
    }
    char data_crc[32], meta_crc[32];
    snprintf(data_crc, sizeof data_crc, "crc32:%08" PRIx32, rp_crc32(0, data, data_size));
    kv *pairs = malloc((w->n_meta + 1) * sizeof *pairs);
    if (!pairs) {
        free(data);
        return rp_error(REPTILE_ENOMEM, "safetensors writer: out of memory");
    }
    memcpy(pairs, w->meta, w->n_meta * sizeof *pairs);
    pairs[w->n_meta].key = "data_checksum";
    pairs[w->n_meta].value = data_crc;
    snprintf(meta_crc, sizeof meta_crc, "crc32:%08" PRIx32, metadata_crc(pairs, w->n_meta + 1));
    free(pairs);

    size_t check = 0;
    json_t *root = build_header(w, data_crc, meta_crc, &check);
    char *text = root ? json_dumps(root, JSON_COMPACT) : NULL;
    json_decref(root);
    if (!text) {
        free(data);
        return rp_error(REPTILE_ENOMEM, "safetensors writer: cannot build the JSON header");
    }
    size_t hlen = strlen(text);
    size_t padded = (hlen + 7) / 8 * 8;
    size_t total = 8 + padded + data_size;
    unsigned char *buf = malloc(total);
    if (!buf) {
        free(text);
        free(data);
        return rp_error(REPTILE_ENOMEM, "safetensors writer: out of memory for %zu bytes", total);
    }
    write_le64(buf, (uint64_t)padded);
    memcpy(buf + 8, text, hlen);
    memset(buf + 8 + hlen, ' ', padded - hlen);
    if (data_size)
        memcpy(buf + 8 + padded, data, data_size);
    free(text);
    free(data);
    *out = buf;
    *size = total;
    return 0;
}

int rp_st_write_file(const rp_st_writer *w, const char *path)
{
    unsigned char *buf;
    size_t size;
    int rc = rp_st_serialize(w, &buf, &size);
    if (rc == 0)
        rc = rp_atomic_write(path, buf, size);
    free(buf);
    return rc;
}

/* ---- reader --------------------------------------------------------------- */

typedef struct r_tensor {
    const char *name; /* owned by the JSON tree */
    int dtype;        /* enum rp_st_dtype or -1 */
    const char *dtype_name;
    int rank;
    int64_t shape[RP_ST_MAX_RANK];
    uint64_t begin, end;
    int used;
} r_tensor;

struct rp_st_file {
    unsigned char *buf; /* the whole file */
    size_t size;
    const unsigned char *data; /* data section */
    size_t data_size;
    json_t *root;
    json_t *meta; /* borrowed from root, may be NULL */
    r_tensor *t;
    size_t n;
    char what[512];
};

void rp_st_free(rp_st_file *f)
{
    if (!f)
        return;
    json_decref(f->root);
    free(f->t);
    free(f->buf);
    free(f);
}

const char *rp_st_what(const rp_st_file *f) { return f->what; }
size_t rp_st_count(const rp_st_file *f) { return f->n; }
size_t rp_st_data_size(const rp_st_file *f) { return f->data_size; }
const char *rp_st_name(const rp_st_file *f, size_t i) { return i < f->n ? f->t[i].name : NULL; }

const char *rp_st_meta(const rp_st_file *f, const char *key)
{
    json_t *v = f->meta ? json_object_get(f->meta, key) : NULL;
    return v ? json_string_value(v) : NULL;
}

static int parse_tensor(rp_st_file *f, const char *name, json_t *entry, r_tensor *t)
{
    const char *what = f->what;
    const char *dt = NULL;
    json_t *shape = NULL, *offsets = NULL;
    json_error_t err;
    if (!json_is_object(entry) ||
        json_unpack_ex(entry, &err, JSON_STRICT, "{s:s, s:o, s:o}", "dtype", &dt, "shape", &shape,
                       "data_offsets", &offsets) != 0)
        return rp_error(REPTILE_EFORMAT,
                        "%s: tensor \"%s\" must be an object with exactly dtype, shape and "
                        "data_offsets", what, name);
    const dtype_info *info = find_dtype(dt);
    if (!info)
        return rp_error(REPTILE_EFORMAT, "%s: tensor \"%s\" has unknown dtype \"%s\"", what, name, dt);
    if (!json_is_array(shape) || json_array_size(shape) > RP_ST_MAX_RANK)
        return rp_error(REPTILE_EFORMAT, "%s: tensor \"%s\": shape must be an array of at most %d "
                        "dimensions", what, name, RP_ST_MAX_RANK);
    t->name = name;
    t->dtype = info->code;
    t->dtype_name = info->name;
    t->rank = (int)json_array_size(shape);
    /* Byte size with overflow saturating to UINT64_MAX (never equal to a span). */
    uint64_t bytes = info->size;
    for (int d = 0; d < t->rank; ++d) {
        json_t *dim = json_array_get(shape, (size_t)d);
        if (!json_is_integer(dim) || json_integer_value(dim) < 0)
            return rp_error(REPTILE_EFORMAT, "%s: tensor \"%s\": shape dimension %d is not a "
                            "non-negative integer", what, name, d);
        t->shape[d] = json_integer_value(dim);
        uint64_t dim_u = (uint64_t)t->shape[d];
        if (bytes == UINT64_MAX || (dim_u && bytes > (UINT64_MAX - 1) / dim_u))
            bytes = UINT64_MAX; /* overflows: reported below */
        else
            bytes *= dim_u;
    }
    for (int d = 0; d < t->rank; ++d)
        if (t->shape[d] == 0)
            bytes = 0; /* an empty tensor, however large its other dimensions */
    if (!json_is_array(offsets) || json_array_size(offsets) != 2 ||
        !json_is_integer(json_array_get(offsets, 0)) ||
        !json_is_integer(json_array_get(offsets, 1)))
        return rp_error(REPTILE_EFORMAT, "%s: tensor \"%s\": data_offsets must be [begin, end]",
                        what, name);
    json_int_t b = json_integer_value(json_array_get(offsets, 0));
    json_int_t e = json_integer_value(json_array_get(offsets, 1));
    if (b < 0 || e < b || (uint64_t)e > f->data_size)
        return rp_error(REPTILE_EFORMAT,
                        "%s: tensor \"%s\": data_offsets [%lld, %lld] out of range (data section "
                        "is %zu bytes)", what, name, (long long)b, (long long)e, f->data_size);
    t->begin = (uint64_t)b;
    t->end = (uint64_t)e;
    if (bytes != t->end - t->begin) {
        char s[256];
        format_shape(s, sizeof s, t->rank, t->shape);
        if (bytes == UINT64_MAX)
            return rp_error(REPTILE_EFORMAT, "%s: tensor \"%s\": shape %s is larger than the data "
                            "section (%zu bytes) can hold", what, name, s, f->data_size);
        return rp_error(REPTILE_EFORMAT,
                        "%s: tensor \"%s\": %s %s needs %" PRIu64 " bytes but data_offsets span %"
                        PRIu64, what, name, info->name, s, bytes, t->end - t->begin);
    }
    return 0;
}

static int by_offset(const void *a, const void *b)
{
    const r_tensor *x = *(const r_tensor *const *)a, *y = *(const r_tensor *const *)b;
    if (x->begin != y->begin)
        return x->begin < y->begin ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}

/* Tensors tile the data section: sorted by offset, each starts where the
 * previous ended (safetensors forbids holes), and the last ends at its end. */
static int check_tiling(rp_st_file *f)
{
    if (f->n == 0)
        return f->data_size == 0 ? 0
                                 : rp_error(REPTILE_EFORMAT, "%s: %zu data bytes but no tensors",
                                            f->what, f->data_size);
    r_tensor **order = malloc(f->n * sizeof *order);
    if (!order)
        return rp_error(REPTILE_ENOMEM, "%s: out of memory", f->what);
    for (size_t i = 0; i < f->n; ++i)
        order[i] = &f->t[i];
    qsort(order, f->n, sizeof *order, by_offset);
    int rc = 0;
    uint64_t at = 0;
    const char *prev = NULL;
    for (size_t i = 0; i < f->n && rc == 0; ++i) {
        const r_tensor *t = order[i];
        if (t->begin < at)
            rc = rp_error(REPTILE_EFORMAT, "%s: tensors \"%s\" and \"%s\" overlap in the data "
                          "section", f->what, prev, t->name);
        else if (t->begin > at)
            rc = rp_error(REPTILE_EFORMAT, "%s: hole in the data section: bytes %" PRIu64 "..%"
                          PRIu64 " belong to no tensor", f->what, at, t->begin);
        at = t->end;
        prev = t->name;
    }
    if (rc == 0 && at != f->data_size)
        rc = rp_error(REPTILE_EFORMAT, "%s: %" PRIu64 " bytes at the end of the data section "
                      "belong to no tensor", f->what, (uint64_t)f->data_size - at);
    free(order);
    return rc;
}

static int check_header_length(const unsigned char *p, size_t size, const char *what,
                               uint64_t *hlen)
{
    if (size < 8)
        return rp_error(REPTILE_EFORMAT, "%s: %zu bytes is too short for a safetensors file "
                        "(truncated?)", what, size);
    *hlen = read_le64(p);
    if (*hlen > RP_ST_MAX_HEADER)
        return rp_error(REPTILE_EFORMAT, "%s: header length %" PRIu64 " exceeds the %" PRIu64
                        " byte limit: not a safetensors file", what, *hlen, RP_ST_MAX_HEADER);
    if (*hlen > size - 8)
        return rp_error(REPTILE_EFORMAT, "%s: header length %" PRIu64 " exceeds the file's %zu "
                        "bytes: truncated or not a safetensors file", what, *hlen, size);
    if (*hlen < 2)
        return rp_error(REPTILE_EFORMAT, "%s: header length %" PRIu64 " is too small", what, *hlen);
    if (p[8] != '{')
        return rp_error(REPTILE_EFORMAT, "%s: the header does not start with '{': not a "
                        "safetensors file", what);
    return 0;
}

/* Takes ownership of buf (freed on failure too). */
static int parse_owned(rp_st_file **out, unsigned char *buf, size_t size, const char *what)
{
    *out = NULL;
    uint64_t hlen = 0;
    int rc = check_header_length(buf, size, what, &hlen);
    if (rc) {
        free(buf);
        return rc;
    }
    rp_st_file *f = calloc(1, sizeof *f);
    if (!f) {
        free(buf);
        return rp_error(REPTILE_ENOMEM, "%s: out of memory", what);
    }
    snprintf(f->what, sizeof f->what, "%s", what);
    f->buf = buf;
    f->size = size;
    f->data = buf + 8 + hlen;
    f->data_size = size - 8 - (size_t)hlen;
    json_error_t err;
    f->root = json_loadb((const char *)buf + 8, (size_t)hlen, JSON_REJECT_DUPLICATES, &err);
    if (!f->root) {
        rc = rp_error(REPTILE_EFORMAT, "%s: the header is not valid JSON (byte %d: %s)", what,
                      err.position, err.text);
    } else if (!json_is_object(f->root)) {
        rc = rp_error(REPTILE_EFORMAT, "%s: the header is not a JSON object", what);
    }
    size_t keys = rc ? 0 : json_object_size(f->root);
    if (rc == 0 && (f->meta = json_object_get(f->root, "__metadata__")) != NULL) {
        const char *k;
        json_t *v;
        if (!json_is_object(f->meta)) {
            rc = rp_error(REPTILE_EFORMAT, "%s: __metadata__ is not an object", what);
        } else {
            json_object_foreach(f->meta, k, v)
            {
                if (rc == 0 && !json_is_string(v))
                    rc = rp_error(REPTILE_EFORMAT,
                                  "%s: __metadata__ value \"%s\" is not a string", what, k);
            }
        }
        keys--;
    }
    if (rc == 0 && keys && !(f->t = calloc(keys, sizeof *f->t)))
        rc = rp_error(REPTILE_ENOMEM, "%s: out of memory for %zu tensors", what, keys);
    if (rc == 0) {
        const char *k;
        json_t *v;
        json_object_foreach(f->root, k, v)
        {
            if (rc || strcmp(k, "__metadata__") == 0)
                continue;
            rc = parse_tensor(f, k, v, &f->t[f->n]);
            if (rc == 0)
                f->n++;
        }
    }
    if (rc == 0)
        rc = check_tiling(f);
    if (rc) {
        rp_st_free(f);
        return rc;
    }
    *out = f;
    return 0;
}

int rp_st_parse(rp_st_file **out, const void *data, size_t size, const char *what)
{
    *out = NULL;
    unsigned char *buf = malloc(size ? size : 1);
    if (!buf)
        return rp_error(REPTILE_ENOMEM, "%s: out of memory for %zu bytes", what, size);
    if (size)
        memcpy(buf, data, size);
    return parse_owned(out, buf, size, what);
}

static int read_all(int fd, unsigned char *p, size_t n, const char *path)
{
    size_t done = 0;
    while (done < n) {
        ssize_t r = read(fd, p + done, n - done);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return rp_error(REPTILE_EIO, "%s: read failed: %s", path, strerror(errno));
        if (r == 0)
            return rp_error(REPTILE_EFORMAT, "%s: the file shrank while being read (truncated)",
                            path);
        done += (size_t)r;
    }
    return 0;
}

int rp_st_read_file(rp_st_file **out, const char *path)
{
    *out = NULL;
    if (!path)
        return rp_error(REPTILE_EINVAL, "checkpoint path is NULL");
    int fd;
    struct stat st;
    int rc = rp_open_regular(path, &fd, &st);
    if (rc)
        return rc;
    if ((uint64_t)st.st_size > (uint64_t)SIZE_MAX / 2)
        rc = rp_error(REPTILE_EFORMAT, "%s: file too large", path);
    if (rc) {
        close(fd);
        return rc;
    }
    size_t size = (size_t)st.st_size;
    unsigned char head[9] = {0};
    uint64_t hlen = 0;
    /* Header length checked before the rest is read or allocated. */
    if (size >= 9)
        rc = read_all(fd, head, 9, path);
    if (rc == 0)
        rc = check_header_length(head, size, path, &hlen);
    unsigned char *buf = NULL;
    if (rc == 0 && !(buf = malloc(size)))
        rc = rp_error(REPTILE_ENOMEM, "%s: out of memory for %zu bytes", path, size);
    if (rc == 0) {
        memcpy(buf, head, 9);
        rc = read_all(fd, buf + 9, size - 9, path);
    }
    close(fd);
    if (rc) {
        free(buf);
        return rc;
    }
    return parse_owned(out, buf, size, path);
}

static r_tensor *find(const rp_st_file *f, const char *name)
{
    for (size_t i = 0; i < f->n; ++i)
        if (strcmp(f->t[i].name, name) == 0)
            return &f->t[i];
    return NULL;
}

int rp_st_has(const rp_st_file *f, const char *name) { return find(f, name) != NULL; }

int rp_st_get(rp_st_file *f, const char *name, int dtype, int rank, const int64_t *shape,
              void *dst)
{
    r_tensor *t = find(f, name);
    if (!t)
        return rp_error(REPTILE_EFORMAT, "%s: tensor \"%s\" is missing", f->what, name);
    if (t->dtype != dtype)
        return rp_error(REPTILE_EFORMAT, "%s: tensor \"%s\" is %s, expected %s", f->what, name,
                        t->dtype_name, dtype_name(dtype));
    int same = t->rank == rank;
    for (int d = 0; same && d < rank; ++d)
        same = t->shape[d] == shape[d];
    if (!same) {
        char got[256], want[256];
        format_shape(got, sizeof got, t->rank, t->shape);
        format_shape(want, sizeof want, rank, shape);
        return rp_error(REPTILE_EFORMAT, "%s: tensor \"%s\" has shape %s, expected %s", f->what,
                        name, got, want);
    }
    size_t elem = dtype_size(dtype);
    size_t bytes = (size_t)(t->end - t->begin);
    if (bytes)
        copy_le(dst, f->data + t->begin, bytes / elem, elem);
    t->used = 1;
    return 0;
}

int rp_st_check_all_used(const rp_st_file *f)
{
    for (size_t i = 0; i < f->n; ++i)
        if (!f->t[i].used)
            return rp_error(REPTILE_EFORMAT, "%s: unexpected tensor \"%s\"", f->what, f->t[i].name);
    return 0;
}

int rp_st_verify_checksums(const rp_st_file *f)
{
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
    /* Fuzz builds only: let mutated inputs reach the model builder. */
    (void)f;
    return 0;
#endif
    const char *data_crc = rp_st_meta(f, "data_checksum");
    const char *meta_crc = rp_st_meta(f, "metadata_checksum");
    if (!data_crc || !meta_crc)
        return rp_error(REPTILE_EFORMAT, "%s: no %s in __metadata__", f->what,
                        !data_crc ? "data_checksum" : "metadata_checksum");
    char want[32];
    snprintf(want, sizeof want, "crc32:%08" PRIx32, rp_crc32(0, f->data, f->data_size));
    if (strcmp(want, data_crc) != 0)
        return rp_error(REPTILE_EFORMAT, "%s: data checksum mismatch (file says %s, data gives %s): "
                        "the file is corrupt", f->what, data_crc, want);
    size_t n = json_object_size(f->meta);
    kv *pairs = malloc((n ? n : 1) * sizeof *pairs);
    if (!pairs)
        return rp_error(REPTILE_ENOMEM, "%s: out of memory", f->what);
    size_t i = 0;
    const char *k;
    json_t *v;
    json_object_foreach(f->meta, k, v)
    {
        pairs[i].key = k;
        pairs[i].value = json_string_value(v);
        ++i;
    }
    snprintf(want, sizeof want, "crc32:%08" PRIx32, metadata_crc(pairs, n));
    free(pairs);
    if (strcmp(want, meta_crc) != 0)
        return rp_error(REPTILE_EFORMAT, "%s: metadata checksum mismatch (file says %s, metadata "
                        "gives %s): the file is corrupt", f->what, meta_crc, want);
    return 0;
}
