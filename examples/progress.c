/* Progress bar / periodic lines on stderr: see progress.h. */
#include "progress.h"

#include "cli.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

void ex_progress_start(ex_progress *p, int quiet, int total)
{
    memset(p, 0, sizeof *p);
    p->mode = quiet ? 0 : isatty(STDERR_FILENO) ? 1 : 2;
    p->total = total;
    p->t0 = ex_now();
    p->next_line = total >= 10 ? total / 10 : 1;
}

static void means(const ex_progress *p, double *train, double *test)
{
    double a = 0, b = 0;
    for (int i = 0; i < p->ring_n; i++) {
        a += p->ring_train[i];
        b += p->ring_test[i];
    }
    *train = p->ring_n ? a / p->ring_n : 0.0;
    *test = p->ring_n ? b / p->ring_n : 0.0;
}

static void draw(ex_progress *p, int done, int final)
{
    double el = ex_now() - p->t0;
    double rate = el > 0 ? done / el : 0.0;
    char eta[32], spent[32], acc[96] = "";
    ex_format_duration(rate > 0 ? (p->total - done) / rate : -1.0, eta, sizeof eta);
    ex_format_duration(el, spent, sizeof spent);
    if (p->ring_n > 0) {
        double tr, te;
        means(p, &tr, &te);
        snprintf(acc, sizeof acc, "  train=%.3f test=%.3f", tr, te);
    }
    if (p->mode == 1) {
        enum { WIDTH = 24 };
        char bar[WIDTH + 1];
        int fill = p->total > 0 ? (int)((long long)done * WIDTH / p->total) : WIDTH;
        for (int i = 0; i < WIDTH; i++)
            bar[i] = i < fill ? '#' : '.';
        bar[WIDTH] = '\0';
        fprintf(stderr, "\r\033[K%d/%d [%s] %.2f it/s %s %s%s", done, p->total, bar, rate,
                final ? "took" : "ETA", final ? spent : eta, acc);
        p->bar_shown = 1;
    } else {
        fprintf(stderr, "%s: %d/%d iterations (%d%%), %.2f it/s, %s %s%s\n", ex_progname, done,
                p->total, p->total > 0 ? (int)((long long)done * 100 / p->total) : 100, rate,
                final ? "took" : "ETA", final ? spent : eta, acc);
    }
    fflush(stderr);
}

void ex_progress_update(ex_progress *p, int done, int evaluated, double train_acc,
                        double test_acc)
{
    if (evaluated) {
        p->ring_train[p->ring_pos] = train_acc;
        p->ring_test[p->ring_pos] = test_acc;
        p->ring_pos = (p->ring_pos + 1) % 100;
        if (p->ring_n < 100)
            p->ring_n++;
    }
    if (p->mode == 1) {
        double now = ex_now();
        if (now - p->last_draw >= 0.1 || done == p->total) {
            p->last_draw = now;
            draw(p, done, 0);
        }
    } else if (p->mode == 2 && done >= p->next_line && done < p->total) {
        draw(p, done, 0);
        while (p->next_line <= done)
            p->next_line += p->total >= 10 ? p->total / 10 : 1;
    }
}

void ex_progress_clear(ex_progress *p)
{
    if (p->mode == 1 && p->bar_shown) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
        p->bar_shown = 0;
    }
}

void ex_progress_finish(ex_progress *p, int done)
{
    if (p->mode == 0 || p->total == 0)
        return;
    draw(p, done, 1);
    if (p->mode == 1)
        fputc('\n', stderr);
    p->bar_shown = 0;
}
