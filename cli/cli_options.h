/*
 * cli_options.h - one option table per command, driving both the parsing
 * (getopt_long's arrays are built from it) and `--help` (printed from it,
 * wrapped to the terminal), so the two cannot drift apart.
 *
 * A command describes itself with a cli_command_spec: its usage line, a
 * description, and its option tables (its own, and shared ones such as
 * cli_data_options_table or the training job's). -h/--help is added to
 * every command by the parser. A command parses with:
 *
 *     cli_parser p;
 *     cli_parser_init(&p, &spec, argc, argv);
 *     int c;
 *     while ((c = cli_getopt(&p)) > 0)
 *         switch (c) { case 'o': output = optarg; break; ... }
 *     if (c < 0) return p.exit_code;    (help printed: 0; usage error printed: 2)
 *     ... operands are argv[optind .. argc-1] as with getopt_long
 *
 * The help format (tests/cli_options.sh reads it): after "options:", one
 * line per option, starting "  -x, --name ARG", "      --name ARG" or
 * "  -x ARG" (ARG only when the option takes one), then its help from
 * column CLI_HELP_COLUMN, continued on lines indented by CLI_HELP_COLUMN
 * spaces. Every line fits the terminal's width, 80 columns when stdout is
 * not a terminal; a word longer than a line (a long path) is printed whole
 * on a line of its own, never cut.
 *
 * What it leaves out: optional arguments (no command has one) and the
 * checks of an option's value (the commands' switch does those).
 */
#ifndef MCO_CLI_OPTIONS_H
#define MCO_CLI_OPTIONS_H

#include <getopt.h>
#include <stdio.h>

/* One option of a command. A table ends with an entry whose long_name is
 * NULL and short_name 0 ({0}). */
typedef struct {
    const char *long_name;   /* "output" for --output; NULL: a short option only */
    char short_name;         /* 'o' for -o; 0: a long option only */
    const char *arg_name;    /* the argument in the help ("FILE"); NULL: takes no argument */
    const char *help;        /* what it does, one paragraph (wrapped when printed) */
    int id;                  /* what cli_getopt returns: short_name when there is one, else a
                                number from 256 unique in the command (two entries with one id
                                are spellings of one option, e.g. search's --out and --output) */
} cli_option;

/* The options every command shares, defined once (same name, letter, id
 * and meaning everywhere). -o names what the command writes, so its
 * argument and help are the command's. */
#define CLI_OPT_JSON 1999
#define CLI_OPTION_OUTPUT(arg, help) {"output", 'o', arg, help, 'o'}
#define CLI_OPTION_QUIET {"quiet", 'q', NULL, "no progress display and no notes on stderr (errors still)", 'q'}
#define CLI_OPTION_JSON {"json", 0, NULL, "print the results as JSON on stdout", CLI_OPT_JSON}

/* A command: `mcuopt NAME USAGE`, a description, its option tables. */
typedef struct {
    const char *name;                  /* "train" */
    const char *usage;                 /* after the name: "MODEL [OPTIONS]" */
    const char *description;           /* paragraphs split by "\n\n"; a single "\n" is a space */
    const cli_option *const *tables;   /* NULL-terminated, printed in this order */
    /* Optional: more help printed after the options (lists known only at run
     * time, e.g. the built-in architectures); print with cli_help_paragraph. */
    void (*notes)(FILE *out, int width);
} cli_command_spec;

/* The most options one command can have (all tables together). */
#define CLI_MAX_OPTIONS 96

typedef struct {
    const cli_command_spec *spec;
    int argc;
    char **argv;
    struct option longs[CLI_MAX_OPTIONS + 1];
    char shorts[3 * CLI_MAX_OPTIONS + 2];
    int exit_code;   /* when cli_getopt returned -1: CLI_EXIT_OK after --help, else CLI_EXIT_USAGE */
    char bug[160];   /* what is wrong with the tables, if anything (cli_parser_init) */
} cli_parser;

/* Builds getopt_long's arrays from the spec's tables plus -h/--help and
 * resets getopt (optind = 1). A table that gives one name or letter to two
 * different options, or more options than CLI_MAX_OPTIONS, is a bug: the
 * first cli_getopt then reports it as an internal error. */
void cli_parser_init(cli_parser *p, const cli_command_spec *spec, int argc, char **argv);

/* The next option's id (its argument in optarg), 0 when the options are
 * done (the operands start at optind), or -1 when the command must return
 * p->exit_code: -h/--help printed the help (0), or one usage error line
 * was printed, as getopt words it plus the --help hint (2). */
int cli_getopt(cli_parser *p);

/* For a command's switch: an id of its table it does not handle (a bug).
 * Prints an internal error line; returns CLI_EXIT_FAIL. */
int cli_option_unhandled(const cli_parser *p, int id);

/* Prints the command's help (usage, description, options, notes) wrapped
 * to the width of `out` (cli_terminal_width). */
void cli_print_help(const cli_command_spec *spec, FILE *out);

/* The columns of the terminal `stream` writes to: its window size when it
 * is a terminal, else $COLUMNS when set (and sensible), else 80. */
int cli_terminal_width(FILE *stream);
/* The width help text is wrapped to: the terminal's, capped to 40..120; 80
 * when `out` is not a terminal. */
int cli_help_width(FILE *out);

/* Prints `text` wrapped to `width`, the first line starting at column
 * `column` (already printed up to there), the next ones indented by
 * `indent` spaces; "\n\n" starts a new paragraph after a blank line. */
void cli_help_wrap(FILE *out, const char *text, int column, int indent, int width);
/* A paragraph of notes: wrapped text and a newline. */
void cli_help_paragraph(FILE *out, const char *text, int width);

/* A number macro as text, for help strings ("default " CLI_STR(N)). */
#define CLI_STR_(x) #x
#define CLI_STR(x) CLI_STR_(x)

/* Where an option's help starts. */
#define CLI_HELP_COLUMN 24

#endif
