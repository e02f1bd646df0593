/* A fresh temporary folder for each test (a Check fixture), and paths in
 * it; removed with everything inside after the test. */
#ifndef RP_TESTS_TMPDIR_H
#define RP_TESTS_TMPDIR_H

#include "unit/data/png_write.h"

static inline char **tmp_slot(void)
{
    static char *dir;
    return &dir;
}

static inline const char *tmp_dir(void) { return *tmp_slot(); }

static inline void tmp_setup(void) { *tmp_slot() = tw_mkdtemp(); }

static inline void tmp_teardown(void)
{
    tw_rmtree(tmp_dir());
    free(*tmp_slot());
    *tmp_slot() = NULL;
}

/* tmp_dir()/name in one of four rotating buffers (several per call). */
static inline const char *in_tmp(const char *name)
{
    static char buf[4][4200];
    static int next;
    char *p = buf[next++ % 4];
    snprintf(p, sizeof buf[0], "%s/%s", tmp_dir(), name);
    return p;
}

#endif
