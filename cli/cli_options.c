/*
 * cli_options.c - option tables to getopt_long's arrays, usage errors in
 * getopt's words with the mcuopt prefix and hint, and the help printed from
 * the tables, wrapped to the terminal (see cli_options.h).
 *
 * What it leaves out: the option values (each command checks its own) and
 * localisation (getopt's messages are reproduced in English).
 */
#include "cli_options.h"

#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cli.h"

/* Every command's -h/--help, appended by the parser. */
static const cli_option help_table[] = {
    {"help", 'h', NULL, "this help", 'h'},
    {0},
};

static int is_end(const cli_option *o)
{
    return !o->long_name && !o->short_name;
}

/* Calls fn on every option of the spec, its tables then help_table; stops
 * early when fn returns non-zero and returns that. */
static int each_option(const cli_command_spec *spec, int (*fn)(void *user, const cli_option *o), void *user)
{
    int r;
    for (int t = 0; spec->tables && spec->tables[t]; t++)
        for (const cli_option *o = spec->tables[t]; !is_end(o); o++)
            if ((r = fn(user, o)) != 0) return r;
    for (const cli_option *o = help_table; !is_end(o); o++)
        if ((r = fn(user, o)) != 0) return r;
    return 0;
}

typedef struct {
    cli_parser *p;
    int n_long, n_short;
    const cli_option *seen[CLI_MAX_OPTIONS + 1];
    int n_seen;
    char bug[160];
} builder;

static int add_option(void *user, const cli_option *o)
{
    builder *b = user;
    if (b->n_seen >= CLI_MAX_OPTIONS) {
        snprintf(b->bug, sizeof b->bug, "more than %d options", CLI_MAX_OPTIONS);
        return 1;
    }
    /* getopt_long's own returns (-1 end, '?' and ':' errors) cannot be ids */
    if (o->id <= 0 || o->id == '?' || o->id == ':' || (o->short_name && o->id != o->short_name)) {
        snprintf(b->bug, sizeof b->bug, "a bad id %d for --%s", o->id, o->long_name ? o->long_name : "");
        return 1;
    }
    for (int i = 0; i < b->n_seen; i++) {
        const cli_option *s = b->seen[i];
        if (o->long_name && s->long_name && strcmp(o->long_name, s->long_name) == 0)
            snprintf(b->bug, sizeof b->bug, "two options named --%s", o->long_name);
        else if (o->short_name && o->short_name == s->short_name)
            snprintf(b->bug, sizeof b->bug, "two options named -%c", o->short_name);
        else if (o->id == s->id && (!o->arg_name) != (!s->arg_name))
            snprintf(b->bug, sizeof b->bug, "one id for an option with and one without an argument");
        if (b->bug[0]) return 1;
    }
    b->seen[b->n_seen++] = o;
    if (o->long_name)
        b->p->longs[b->n_long++] = (struct option){o->long_name, o->arg_name ? required_argument : no_argument, NULL,
                                                   o->id};
    if (o->short_name) {
        b->p->shorts[b->n_short++] = o->short_name;
        if (o->arg_name) b->p->shorts[b->n_short++] = ':';
    }
    return 0;
}

void cli_parser_init(cli_parser *p, const cli_command_spec *spec, int argc, char **argv)
{
    memset(p, 0, sizeof *p);
    p->spec = spec;
    p->argc = argc;
    p->argv = argv;
    builder b;
    memset(&b, 0, sizeof b);
    b.p = p;
    /* ':' first: a missing argument returns ':' rather than '?', and
     * opterr = 0: the messages are ours (report_error). */
    p->shorts[b.n_short++] = ':';
    each_option(spec, add_option, &b);
    p->longs[b.n_long] = (struct option){NULL, 0, NULL, 0};
    p->shorts[b.n_short] = '\0';
    snprintf(p->bug, sizeof p->bug, "%s", b.bug);
    opterr = 0;
    optind = 1;
}

/* Explains the option getopt_long refused (c: '?' or ':') as getopt words
 * it, on one line with the hint. */
static void report_error(const cli_parser *p, int c)
{
    const char *cmd = p->spec->name;
    /* The element getopt_long stopped at. A long option's error sets optopt
     * to 0 (unknown, ambiguous) or to its id; a short one's to its letter. */
    const char *arg = optind >= 1 && optind - 1 < p->argc ? p->argv[optind - 1] : "";
    int is_long = strncmp(arg, "--", 2) == 0;
    const char *name = is_long ? arg + 2 : "";
    size_t len = strcspn(name, "=");
    const struct option *match = NULL;
    int n_match = 0;
    if (is_long) {
        for (const struct option *o = p->longs; o->name && !match; o++)
            if (strlen(o->name) == len && strncmp(o->name, name, len) == 0) match = o;
        if (match) {
            n_match = 1;
        } else {
            /* prefixes: several spellings of one option count once, as getopt_long counts them */
            for (const struct option *o = p->longs; o->name; o++)
                if (strncmp(o->name, name, len) == 0 &&
                    (!match || match->val != o->val || match->has_arg != o->has_arg)) {
                    if (!match) match = o;
                    n_match++;
                }
        }
    }
    if (!is_long || (optopt && (!match || match->val != optopt))) {
        if (c == ':') cli_usage_error(cmd, "option requires an argument -- '%c'", optopt);
        else cli_usage_error(cmd, "invalid option -- '%c'", optopt);
    } else if (n_match == 0) {
        cli_usage_error(cmd, "unrecognized option '--%.*s'", (int)len, name);
    } else if (n_match > 1) {
        char list[1024] = "";
        size_t used = 0;
        for (const struct option *o = p->longs; o->name && used < sizeof list; o++)
            if (strncmp(o->name, name, len) == 0 && (o == match || match->val != o->val || match->has_arg != o->has_arg)) {
                int w = snprintf(list + used, sizeof list - used, " '--%s'", o->name);
                used += w > 0 ? (size_t)w : 0;
            }
        cli_usage_error(cmd, "option '--%.*s' is ambiguous; possibilities:%s", (int)len, name, list);
    } else if (c == ':') {
        cli_usage_error(cmd, "option '--%s' requires an argument", match->name);
    } else {
        cli_usage_error(cmd, "option '--%s' doesn't allow an argument", match->name);
    }
}

int cli_getopt(cli_parser *p)
{
    if (p->bug[0]) {
        fprintf(stderr, "mcuopt: %s: internal error: the option table has %s\n", p->spec->name, p->bug);
        p->exit_code = CLI_EXIT_FAIL;
        return -1;
    }
    optopt = 0;
    int c = getopt_long(p->argc, p->argv, p->shorts, p->longs, NULL);
    if (c == -1) return 0;
    if (c == 'h') {
        cli_print_help(p->spec, stdout);
        p->exit_code = CLI_EXIT_OK;
        return -1;
    }
    if (c == '?' || c == ':') {
        report_error(p, c);
        p->exit_code = CLI_EXIT_USAGE;
        return -1;
    }
    return c;
}

int cli_option_unhandled(const cli_parser *p, int id)
{
    fprintf(stderr, "mcuopt: %s: internal error: option %d of the table has no handler\n", p->spec->name, id);
    return CLI_EXIT_FAIL;
}

int cli_terminal_width(FILE *stream)
{
    struct winsize ws;
    int fd = fileno(stream);
    if (fd >= 0 && isatty(fd) && ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
    const char *env = getenv("COLUMNS");
    if (env) {
        char *end;
        long v = strtol(env, &end, 10);
        if (end != env && *end == '\0' && v >= 10 && v <= 10000) return (int)v;
    }
    return 80;
}

int cli_help_width(FILE *out)
{
    int fd = fileno(out);
    if (fd < 0 || !isatty(fd)) return 80;
    int w = cli_terminal_width(out);
    return w < 40 ? 40 : w > 120 ? 120 : w;
}

static void spaces(FILE *out, int n)
{
    for (int i = 0; i < n; i++) fputc(' ', out);
}

void cli_help_wrap(FILE *out, const char *text, int column, int indent, int width)
{
    int col = column, words = 0;
    const char *s = text;
    while (*s) {
        if (s[0] == '\n' && s[1] == '\n') {
            while (*s == '\n') s++;
            fputs("\n\n", out);
            spaces(out, indent);
            col = indent;
            words = 0;
            continue;
        }
        if (*s == ' ' || *s == '\n') {
            s++;
            continue;
        }
        int n = (int)strcspn(s, " \n");
        if (words && col + 1 + n > width) {
            fputc('\n', out);
            spaces(out, indent);
            col = indent;
            words = 0;
        }
        if (words) {
            fputc(' ', out);
            col++;
        }
        fwrite(s, 1, (size_t)n, out);
        col += n;
        words++;
        s += n;
    }
}

void cli_help_paragraph(FILE *out, const char *text, int width)
{
    cli_help_wrap(out, text, 0, 0, width);
    fputc('\n', out);
}

typedef struct {
    FILE *out;
    int width;
} printer;

static int print_option(void *user, const cli_option *o)
{
    printer *pr = user;
    char head[128];
    int n;
    if (o->short_name && o->long_name) n = snprintf(head, sizeof head, "  -%c, --%s", o->short_name, o->long_name);
    else if (o->long_name) n = snprintf(head, sizeof head, "      --%s", o->long_name);
    else n = snprintf(head, sizeof head, "  -%c", o->short_name);
    if (o->arg_name && n > 0 && n < (int)sizeof head) n += snprintf(head + n, sizeof head - (size_t)n, " %s", o->arg_name);
    fputs(head, pr->out);
    if (n <= CLI_HELP_COLUMN - 2) {
        spaces(pr->out, CLI_HELP_COLUMN - n);
    } else {
        fputc('\n', pr->out);
        spaces(pr->out, CLI_HELP_COLUMN);
    }
    cli_help_wrap(pr->out, o->help ? o->help : "", CLI_HELP_COLUMN, CLI_HELP_COLUMN, pr->width);
    fputc('\n', pr->out);
    return 0;
}

void cli_print_help(const cli_command_spec *spec, FILE *out)
{
    printer pr = {out, cli_help_width(out)};
    char head[64];
    int n = snprintf(head, sizeof head, "usage: mcuopt %s ", spec->name);
    fputs(head, out);
    cli_help_wrap(out, spec->usage ? spec->usage : "[OPTIONS]", n, n, pr.width);
    fputs("\n\n", out);
    if (spec->description && spec->description[0]) {
        cli_help_paragraph(out, spec->description, pr.width);
        fputc('\n', out);
    }
    fputs("options:\n", out);
    each_option(spec, print_option, &pr);
    if (spec->notes) {
        fputc('\n', out);
        spec->notes(out, pr.width);
    }
}
