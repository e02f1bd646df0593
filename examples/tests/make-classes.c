/* Test helper: write a folder of synthetic image classes, so that the
 * examples' adaptation tests need no downloaded data.
 *
 * Usage: make-classes DIR CLASSES IMAGES SIZE [FIRST]
 * Writes DIR/classNN/imageNN.png: 8-bit gray SIZE x SIZE images, ink on
 * white as Omniglot's. Class k (numbered from FIRST, default 0) is a bar at
 * an angle of its own plus a dot at a place of its own; each image shifts
 * them by a few pixels of its own. */
#include <math.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

static int write_png(const char *path, const unsigned char *pixels, int size)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info || setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        fclose(f);
        return -1;
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)size, (png_uint_32)size, 8, PNG_COLOR_TYPE_GRAY,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int y = 0; y < size; y++)
        png_write_row(png, (png_const_bytep)(pixels + (size_t)y * (size_t)size));
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    return fclose(f) == 0 ? 0 : -1;
}

/* Image i of class k: 0 = ink, 255 = paper. */
static void draw(unsigned char *p, int size, int k, int i)
{
    const double pi = 3.14159265358979323846;
    const double angle = (double)((k * 37) % 180) * pi / 180.0, s = size / 28.0;
    const double cx = size / 2.0 + ((i * 2) % 5 - 2) * s, cy = size / 2.0 + ((i * 3 + 1) % 5 - 2) * s;
    const double dx = size * (0.2 + 0.6 * ((k * 7) % 10) / 10.0);
    const double dy = size * (0.2 + 0.6 * ((k * 3) % 10) / 10.0);
    for (int y = 0; y < size; y++)
        for (int x = 0; x < size; x++) {
            double u = x - cx, v = y - cy;
            double across = fabs(-sin(angle) * u + cos(angle) * v);
            double along = fabs(cos(angle) * u + sin(angle) * v);
            int bar = across < 1.5 * s && along < 10.0 * s;
            int dot = hypot(x - dx, y - dy) < 2.5 * s;
            p[(size_t)y * (size_t)size + (size_t)x] = bar || dot ? 0 : 255;
        }
}

int main(int argc, char **argv)
{
    if (argc < 5 || argc > 6) {
        fprintf(stderr, "Usage: make-classes DIR CLASSES IMAGES SIZE [FIRST]\n");
        return 2;
    }
    const char *dir = argv[1];
    int classes = atoi(argv[2]), images = atoi(argv[3]), size = atoi(argv[4]);
    int first = argc == 6 ? atoi(argv[5]) : 0;
    if (classes < 1 || images < 1 || size < 8 || size > 1024 || first < 0) {
        fprintf(stderr, "make-classes: bad arguments\n");
        return 2;
    }
    unsigned char *pixels = malloc((size_t)size * (size_t)size);
    if (!pixels)
        return 1;
    mkdir(dir, 0755);
    int status = 0;
    for (int k = first; status == 0 && k < first + classes; k++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/class%02d", dir, k);
        mkdir(path, 0755);
        for (int i = 0; status == 0 && i < images; i++) {
            snprintf(path, sizeof path, "%s/class%02d/image%02d.png", dir, k, i);
            draw(pixels, size, k, i);
            if (write_png(path, pixels, size) != 0) {
                fprintf(stderr, "make-classes: cannot write %s\n", path);
                status = 1;
            }
        }
    }
    free(pixels);
    return status;
}
