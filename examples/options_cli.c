/* The example programs' command line: see options_cli.h. --help is in
 * options_help.c. */
#include "options_cli.h"

#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

/* Set by the data-parallel layer (reptile_mpi_options()), not by a user. */
static const char *const not_offered[] = {"rank", "world_size"};

/* Every program's: 0.1's name of --eval-shots. */
static const ex_opt shared_aliases[] = {
    {EX_ALIAS, "shots", "N", NULL, 0, 0, "eval_shots", NULL, "same as --eval-shots"},
};

/* --help and --version, told apart from the program's options by address. */
static const ex_opt help_opt = {EX_FLAG, "help", NULL, NULL, 0, 0, NULL, NULL, NULL};
static const ex_opt version_opt = {EX_FLAG, "version", NULL, NULL, 0, 0, NULL, NULL, NULL};

/* getopt_long() values of the long options: SLOT_BASE + their index. */
enum { SLOT_BASE = 256, MAX_SLOTS = EX_CLI_MAX_OPTIONS + 64 };

typedef struct slots {
    struct option longopts[MAX_SLOTS + 1];
    const ex_opt *opt[MAX_SLOTS]; /* the program's option or alias, or NULL */
    int lib[MAX_SLOTS];           /* the library option set, or -1 */
    int n;
} slots;

static int lib_index(const char *name)
{
    int count = reptile_meta_option_count();
    for (int i = 0; i < count; i++)
        if (strcmp(reptile_meta_option_info(i)->name, name) == 0)
            return i;
    return -1;
}

int ex_cli_offered(const ex_program *prog, const char *name)
{
    for (size_t i = 0; i < sizeof not_offered / sizeof not_offered[0]; i++)
        if (strcmp(not_offered[i], name) == 0)
            return 0;
    if (!prog->lib_options)
        return 1;
    for (const char *const *p = prog->lib_options; *p; p++)
        if (strcmp(*p, name) == 0)
            return 1;
    return 0;
}

const ex_opt *ex_cli_note(const ex_program *prog, const char *lib)
{
    for (size_t i = 0; i < prog->n_opts; i++)
        if (prog->opts[i].kind == EX_NOTE && strcmp(prog->opts[i].lib, lib) == 0)
            return &prog->opts[i];
    return NULL;
}

const ex_opt *ex_cli_shared_alias(size_t i)
{
    return i < sizeof shared_aliases / sizeof shared_aliases[0] ? &shared_aliases[i] : NULL;
}

/* ---- the long options ---------------------------------------------------------- */

static int add_slot(slots *s, const char *name, int has_arg, const ex_opt *opt, int lib)
{
    for (int i = 0; i < s->n; i++)
        if (strcmp(s->longopts[i].name, name) == 0) {
            ex_error("internal error: --%s is defined twice", name);
            return -1;
        }
    if (s->n == MAX_SLOTS) {
        ex_error("internal error: more than %d options", MAX_SLOTS);
        return -1;
    }
    s->longopts[s->n] = (struct option){name, has_arg, NULL, SLOT_BASE + s->n};
    s->opt[s->n] = opt;
    s->lib[s->n] = lib;
    s->n++;
    s->longopts[s->n] = (struct option){NULL, 0, NULL, 0};
    return 0;
}

/* A library option's value: optional for a BOOL (bare = 1). */
static int lib_has_arg(int lib)
{
    return reptile_meta_option_info(lib)->type == REPTILE_OPTION_BOOL ? optional_argument
                                                                       : required_argument;
}

/* A program option, or an alias of a library option. */
static int add_own(slots *s, const ex_opt *o)
{
    if (o->kind != EX_ALIAS)
        return add_slot(s, o->name, o->arg ? required_argument : no_argument, o, -1);
    int lib = lib_index(o->lib);
    if (lib < 0) {
        ex_error("internal error: --%s names no library option '%s'", o->name, o->lib);
        return -1;
    }
    return add_slot(s, o->name, o->value ? no_argument : lib_has_arg(lib), o, lib);
}

static int build_slots(ex_cli *cli, slots *s)
{
    s->n = 0;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < cli->prog->n_opts; i++)
        if (cli->prog->opts[i].kind != EX_SECTION && cli->prog->opts[i].kind != EX_NOTE)
            rc = add_own(s, &cli->prog->opts[i]);
    for (int i = 0; rc == 0 && i < cli->count; i++) {
        const char *name = reptile_meta_option_info(i)->name;
        if (!ex_cli_offered(cli->prog, name))
            continue;
        char *d = cli->dashed[i];
        snprintf(d, sizeof cli->dashed[i], "%s", name);
        for (char *p = d; *p; p++)
            *p = *p == '_' ? '-' : *p;
        rc = add_slot(s, d, lib_has_arg(i), NULL, i);
    }
    for (size_t i = 0; rc == 0 && ex_cli_shared_alias(i); i++)
        if (ex_cli_offered(cli->prog, ex_cli_shared_alias(i)->lib))
            rc = add_own(s, ex_cli_shared_alias(i));
    if (rc == 0)
        rc = add_slot(s, help_opt.name, no_argument, &help_opt, -1);
    if (rc == 0)
        rc = add_slot(s, version_opt.name, no_argument, &version_opt, -1);
    return rc;
}

/* ---- values ---------------------------------------------------------------------- */

/* The whole decimal integer in `text`, or 0 with *ok cleared. */
static long whole_number(const char *text, int *ok)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(text, &end, 10);
    *ok = end != text && *end == '\0' && errno == 0 && text[0] != ' ';
    return *ok ? v : 0;
}

/* Is `text` the integer `value` (an EX_NOTE's value: "0", "00", "+0")? */
static int same_integer(const char *text, const char *value)
{
    int ok_text, ok_value;
    long a = whole_number(text, &ok_text), b = whole_number(value, &ok_value);
    return ok_text && ok_value && a == b;
}

/* Library option `lib` given `text` under --as: checked now on `scratch`
 * (only that field changes), set by ex_cli_apply(). */
static int take_lib(ex_cli *cli, int lib, const char *as, const char *text,
                    reptile_meta_options *scratch)
{
    const reptile_option_info *in = reptile_meta_option_info(lib);
    const ex_opt *note = ex_cli_note(cli->prog, in->name);
    int extra = note && note->value && same_integer(text, note->value);
    if (!extra && reptile_meta_options_set(scratch, in->name, text) != 0) {
        if (note && note->value)
            ex_error("--%s: %s (or %s: %s)", as, reptile_error_last(), note->value, note->help);
        else
            ex_error("--%s: %s", as, reptile_error_last());
        return -1;
    }
    cli->text[lib] = text;
    cli->given_as[lib] = as;
    cli->extra[lib] = extra;
    return 0;
}

static int take_own(const ex_opt *o, const char *name, const char *arg)
{
    char opt[64];
    snprintf(opt, sizeof opt, "--%s", name);
    switch (o->kind) {
    case EX_FLAG: *(int *)o->dest = 1; return 0;
    case EX_STRING:
    case EX_PRESET: *(const char **)o->dest = arg; return 0;
    case EX_INT: return ex_parse_int(opt, arg, (long)o->min, (long)o->max, o->dest);
    case EX_DOUBLE: return ex_parse_double(opt, arg, o->min, o->max, o->dest);
    default: return -1;
    }
}

static int take(ex_cli *cli, const slots *s, int k, reptile_meta_options *scratch)
{
    const ex_opt *o = s->opt[k];
    const char *name = s->longopts[k].name;
    if (o == &help_opt || o == &version_opt) {
        if (ex_error_mute)
            return EX_OK;
        if (o == &help_opt)
            ex_cli_help(cli, stdout);
        else
            printf("%s (libreptile %s, built against %s)\n", cli->prog->name,
                   reptile_version_string(), REPTILE_VERSION_STRING);
        return EX_OK;
    }
    int bad;
    if (s->lib[k] >= 0)
        bad = take_lib(cli, s->lib[k], name, o && o->value ? o->value : optarg ? optarg : "1",
                       scratch);
    else
        bad = take_own(o, name, optarg);
    return bad ? ex_cli_usage_error(cli) : EX_CONTINUE;
}

/* How many long options `arg` ("--eval", "--eval=3") abbreviates. */
static int abbreviates(const slots *s, const char *arg)
{
    if (strncmp(arg, "--", 2) != 0)
        return 0;
    size_t n = strcspn(arg + 2, "=");
    int count = 0;
    for (int i = 0; i < s->n; i++)
        count += strncmp(s->longopts[i].name, arg + 2, n) == 0;
    return count;
}

/* getopt_long()'s ':' (value missing) and '?' (unknown, ambiguous, or a
 * value given to an option that takes none: optopt is then its slot). */
static int bad_option(const ex_cli *cli, const slots *s, int opt, char **argv)
{
    if (opt == ':')
        ex_error("option '%s' needs a value", argv[optind - 1]);
    else if (optopt >= SLOT_BASE && optopt < SLOT_BASE + s->n)
        ex_error("option '--%s' takes no value", s->longopts[optopt - SLOT_BASE].name);
    else if (optopt)
        ex_error("unknown option '-%c'", optopt);
    else if (abbreviates(s, argv[optind - 1]) > 1)
        ex_error("ambiguous option '%s': it abbreviates %d options", argv[optind - 1],
                 abbreviates(s, argv[optind - 1]));
    else
        ex_error("unknown option '%s'", argv[optind - 1]);
    return ex_cli_usage_error(cli);
}

int ex_cli_parse(ex_cli *cli, const ex_program *prog, int argc, char **argv)
{
    memset(cli, 0, sizeof *cli);
    cli->prog = prog;
    cli->name = prog->name;
    cli->count = reptile_meta_option_count();
    if (cli->count > EX_CLI_MAX_OPTIONS) {
        ex_error("internal error: the library has %d options, this program holds %d", cli->count,
                 EX_CLI_MAX_OPTIONS);
        return EX_FAILURE;
    }
    slots s;
    reptile_meta_options scratch;
    if (build_slots(cli, &s) != 0 ||
        reptile_meta_options_init(&scratch, REPTILE_META_OPTIONS_VERSION) != 0)
        return EX_FAILURE;
    opterr = 0;
    int opt, status = EX_CONTINUE;
    /* Leading ':' makes a missing value return ':' rather than '?'. */
    while (status == EX_CONTINUE && (opt = getopt_long(argc, argv, ":", s.longopts, NULL)) != -1)
        status = opt >= SLOT_BASE ? take(cli, &s, opt - SLOT_BASE, &scratch)
                                  : bad_option(cli, &s, opt, argv);
    if (status == EX_CONTINUE && optind < argc && !prog->operands) {
        ex_error("unexpected argument '%s' (all settings are --options)", argv[optind]);
        status = ex_cli_usage_error(cli);
    }
    cli->operands = argv + optind;
    cli->n_operands = argc - optind;
    cli->prog = NULL;
    return status;
}

/* ---- after parsing ---------------------------------------------------------------- */

const char *ex_cli_given(const ex_cli *cli, const char *name)
{
    int i = lib_index(name);
    return i >= 0 && cli->text[i] ? cli->given_as[i] : NULL;
}

int ex_cli_given_int(const ex_cli *cli, const char *name, int *value)
{
    int i = lib_index(name), ok = 0;
    long v = i >= 0 && cli->text[i] ? whole_number(cli->text[i], &ok) : 0;
    if (ok)
        *value = (int)v; /* within the option's bounds, or the note's value */
    return ok;
}

const char *ex_cli_given_with(const ex_cli *cli, unsigned int flags, const char *except)
{
    for (int i = 0; i < cli->count; i++) {
        const reptile_option_info *in = reptile_meta_option_info(i);
        if (cli->text[i] && (in->flags & flags) && !(except && strcmp(in->name, except) == 0))
            return cli->given_as[i];
    }
    return NULL;
}

int ex_cli_apply(const ex_cli *cli, reptile_meta_options *opts)
{
    for (int i = 0; i < cli->count; i++) {
        const char *name = reptile_meta_option_info(i)->name;
        if (cli->text[i] && !cli->extra[i] &&
            reptile_meta_options_set(opts, name, cli->text[i]) != 0) {
            ex_error("--%s: %s", cli->given_as[i], reptile_error_last());
            return ex_cli_usage_error(cli);
        }
    }
    /* The schedule anneals from the meta step down to the final one. */
    if (ex_cli_given(cli, "meta_step") && !ex_cli_given(cli, "meta_step_final") &&
        opts->meta_step_final > opts->meta_step)
        opts->meta_step_final = opts->meta_step;
    if (reptile_meta_options_validate(opts) != 0) {
        ex_error("invalid settings: %s", reptile_error_last());
        return ex_cli_usage_error(cli);
    }
    return EX_CONTINUE;
}

int ex_cli_preset(const ex_cli *cli, reptile_meta_options *opts, const char *name)
{
    if (reptile_meta_options_preset(opts, REPTILE_META_OPTIONS_VERSION, name) == 0)
        return EX_CONTINUE;
    ex_error("--preset: %s", reptile_error_last());
    return ex_cli_usage_error(cli);
}

const char *ex_cli_differs(const reptile_meta_options *a, const reptile_meta_options *b,
                           unsigned int flags)
{
    int count = reptile_meta_option_count();
    for (int i = 0; i < count; i++) {
        const reptile_option_info *in = reptile_meta_option_info(i);
        char va[64], vb[64];
        if ((in->flags & flags) &&
            (reptile_meta_options_get(a, in->name, va, sizeof va) != 0 ||
             reptile_meta_options_get(b, in->name, vb, sizeof vb) != 0 || strcmp(va, vb) != 0))
            return in->name;
    }
    return NULL;
}

int ex_cli_usage_error(const ex_cli *cli)
{
    if (!ex_error_mute)
        fprintf(stderr, "Try '%s --help' for more information.\n",
                cli->name ? cli->name : ex_progname);
    return EX_USAGE;
}

double ex_cli_max(const char *name)
{
    int i = lib_index(name);
    return i >= 0 ? reptile_meta_option_info(i)->max : 0.0;
}

int ex_cli_online_threads(void)
{
    int n = ex_online_cpus(), max = (int)ex_cli_max("threads");
    return n < max ? n : max;
}

int ex_cli_resumed(const ex_cli *cli, const char *opt, const char *path, const char *preset,
                   reptile_meta_options *opts)
{
    const char *clash =
        preset ? "preset" : ex_cli_given_with(cli, REPTILE_OPTION_MATCH_RESUME, "meta_iters");
    if (clash) {
        ex_error("--%s cannot be combined with %s: a resumed run keeps the settings saved in "
                 "'%s'",
                 clash, opt, path);
        return ex_cli_usage_error(cli);
    }
    if (reptile_meta_load_options(opts, REPTILE_META_OPTIONS_VERSION, path) != 0) {
        ex_error("%s: %s", opt, reptile_error_last());
        return EX_FAILURE;
    }
    opts->threads = ex_cli_online_threads();
    /* --meta-iters may restate the saved schedule (the same command line
     * then starts and continues a run), never change it. */
    int iters;
    if (ex_cli_given_int(cli, "meta_iters", &iters) && iters != opts->meta_iters) {
        ex_error("--meta-iters %d differs from the %d iterations of the run saved in '%s'", iters,
                 opts->meta_iters, path);
        return ex_cli_usage_error(cli);
    }
    return EX_CONTINUE;
}
