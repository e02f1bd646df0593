/* --help of the example programs: their own options as their tables say,
 * then a line per library option made from reptile_meta_option_info()
 * (help, bounds or values, unit) and the program's default
 * (reptile_meta_options_get()). See options_cli.h. */
#include "options_cli.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define HELP_COL 26   /* where descriptions start */
#define HELP_WIDTH 79 /* where lines wrap */

/* Print `text` from column `col`, wrapped at HELP_WIDTH, every line from
 * column `indent` (an option too long for its column gets a line of its
 * own). */
static void wrap(FILE *f, int col, int indent, const char *text)
{
    if (col > 0 && col > indent - 2) {
        fputc('\n', f);
        col = 0;
    }
    for (; col < indent; col++)
        fputc(' ', f);
    while (*text) {
        int n = (int)strcspn(text, " ");
        if (col > indent && col + 1 + n > HELP_WIDTH) {
            fprintf(f, "\n%*s", indent, "");
            col = indent;
        } else if (col > indent) {
            fputc(' ', f);
            col++;
        }
        fwrite(text, 1, (size_t)n, f);
        col += n;
        text += n;
        text += strspn(text, " ");
    }
    fputc('\n', f);
}

/* "  --name ARG" or "  --name[=0|1]", then the description. */
static void option_line(FILE *f, const char *name, const char *arg, const char *text)
{
    int col = fprintf(f, "  --%s%s%s", name, arg && arg[0] != '[' ? " " : "", arg ? arg : "");
    wrap(f, col, HELP_COL, text);
}

static void append(char *buf, size_t cap, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static void append(char *buf, size_t cap, const char *fmt, ...)
{
    size_t used = strlen(buf);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + used, cap - used, fmt, ap);
    va_end(ap);
}

/* "sgd,adam" as "sgd or adam"; "a,b,c" as "a, b or c". */
static void append_values(char *buf, size_t cap, const char *values)
{
    for (const char *p = values; *p;) {
        size_t n = strcspn(p, ",");
        const char *next = p[n] ? p + n + 1 : p + n;
        append(buf, cap, "%.*s%s", (int)n, p, !*next ? "" : strchr(next, ',') ? ", " : " or ");
        p = next;
    }
}

/* The values an option takes, as its errors state them. */
static void append_bounds(char *buf, size_t cap, const reptile_option_info *in)
{
    switch (in->type) {
    case REPTILE_OPTION_INT: append(buf, cap, "%.0f..%.0f", in->min, in->max); break;
    case REPTILE_OPTION_UINT64: append(buf, cap, "0..2^64-1, decimal"); break;
    case REPTILE_OPTION_BOOL: append(buf, cap, "0 or 1"); break;
    case REPTILE_OPTION_ENUM: append_values(buf, cap, in->values); break;
    default:
        if (isinf(in->max))
            append(buf, cap, "%s %g", in->min_open ? ">" : ">=", in->min);
        else
            append(buf, cap, "in %c%g, %g%c", in->min_open ? '(' : '[', in->min, in->max,
                   in->max_open ? ')' : ']');
    }
}

/* reptile_meta_options_get()'s float ("0.00300000003") in the fewest
 * digits that read back as the same float ("0.003"). */
static void shortest_float(char *text, size_t cap)
{
    float v = strtof(text, NULL);
    for (int digits = 1; digits <= 9; digits++) {
        char tmp[64];
        snprintf(tmp, sizeof tmp, "%.*g", digits, (double)v);
        if (strtof(tmp, NULL) == v) {
            snprintf(text, cap, "%s", tmp);
            return;
        }
    }
}

static void library_line(const ex_cli *cli, FILE *f, int i)
{
    const reptile_option_info *in = reptile_meta_option_info(i);
    static const char *const arg[] = {"N", "F", "N", "[=0|1]", "NAME"};
    char text[1024] = "", def[64];
    append(text, sizeof text, "%s; ", in->help);
    append_bounds(text, sizeof text, in);
    if (in->unit)
        append(text, sizeof text, " %s", in->unit);
    const ex_opt *note = ex_cli_note(cli->prog, in->name);
    if (note && note->value)
        append(text, sizeof text, "; %s: %s", note->value, note->help);
    else if (note)
        append(text, sizeof text, "; %s", note->help);
    if (reptile_meta_options_get(cli->prog->defaults, in->name, def, sizeof def) == 0) {
        if (in->type == REPTILE_OPTION_FLOAT)
            shortest_float(def, sizeof def);
        append(text, sizeof text, " (default: %s)", def);
    }
    option_line(f, cli->dashed[i], in->type >= 0 && in->type <= 4 ? arg[in->type] : "X", text);
}

static void own_line(FILE *f, const ex_opt *o)
{
    if (o->kind == EX_SECTION) {
        fprintf(f, "\n%s\n", o->help);
        return;
    }
    if (o->kind == EX_NOTE)
        return;
    char text[1024] = "";
    append(text, sizeof text, "%s", o->help);
    if (o->kind == EX_PRESET) {
        append(text, sizeof text, "; one of");
        for (int k = 0; reptile_meta_preset_name(k); k++)
            append(text, sizeof text, "%s %s", k ? "," : "", reptile_meta_preset_name(k));
    }
    option_line(f, o->name, o->arg, text);
}

void ex_cli_help(const ex_cli *cli, FILE *f)
{
    const ex_program *prog = cli->prog;
    fputs(prog->about, f);
    for (size_t i = 0; i < prog->n_opts; i++)
        own_line(f, &prog->opts[i]);
    option_line(f, "help, --version", NULL, "this help; the version");
    char heading[512] = "";
    append(heading, sizeof heading,
           "Meta-learning options: %s of reptile_meta_options, with the library's bounds "
           "(defaults: %s):",
           prog->lib_options ? "the fields this program reads" : "every field", prog->defaults_are);
    fputc('\n', f);
    wrap(f, 0, 0, heading);
    for (int i = 0; i < cli->count; i++)
        if (ex_cli_offered(prog, reptile_meta_option_info(i)->name))
            library_line(cli, f, i);
    for (size_t i = 0; ex_cli_shared_alias(i); i++)
        if (ex_cli_offered(prog, ex_cli_shared_alias(i)->lib))
            own_line(f, ex_cli_shared_alias(i));
    fputs(prog->footer, f);
}
