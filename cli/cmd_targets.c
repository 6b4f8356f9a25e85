/*
 * cmd_targets.c - `mcuopt targets`: the MCU profiles in targets/.
 */
#include <stdlib.h>

#include "cli.h"
#include "mcuopt/target.h"

static const cli_option targets_table[] = {
    CLI_OPTION_JSON,
    {0},
};

static const cli_option *const targets_tables[] = {targets_table, NULL};

static void targets_notes(FILE *out, int width)
{
    const char *dir = mco_context_resource(cli_context(), MCO_RESOURCE_TARGETS);
    char text[4200];
    snprintf(text, sizeof text, "The profiles are read from %s.", dir ? dir : "(not found: set MCO_TARGETS_DIR)");
    cli_help_paragraph(out, text, width);
}

static const cli_command_spec targets_spec = {
    "targets", "[--json]", "Lists the MCU profiles.", targets_tables, targets_notes,
};

int cmd_targets(int argc, char **argv)
{
    int json = 0;
    cli_parser p;
    cli_parser_init(&p, &targets_spec, argc, argv);
    int c;
    while ((c = cli_getopt(&p)) > 0) {
        if (c == CLI_OPT_JSON) json = 1;
        else return cli_option_unhandled(&p, c);
    }
    if (c < 0) return p.exit_code;
    mco_target_profile *list;
    int n;
    mco_status st = mco_target_list(cli_context(), &list, &n);
    if (st != MCO_OK) return cli_fail(st);
    if (json) {
        cJSON *a = cJSON_CreateArray();
        for (int i = 0; i < n; i++) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "name", list[i].name);
            cJSON_AddStringToObject(o, "vendor", list[i].vendor);
            cJSON_AddStringToObject(o, "core", list[i].core_name);
            cJSON_AddNumberToObject(o, "clock_mhz", list[i].clock_mhz);
            cJSON_AddNumberToObject(o, "flash_kb", list[i].flash_kb);
            cJSON_AddNumberToObject(o, "ram_kb", list[i].ram_kb);
            cJSON_AddStringToObject(o, "fpu", mco_fpu_name(list[i].fpu));
            cJSON_AddBoolToObject(o, "dsp", list[i].dsp);
            cJSON_AddStringToObject(o, "qemu_machine", list[i].qemu_machine);
            cJSON_AddItemToArray(a, o);
        }
        cli_print_json(a);
    } else {
        printf("%-20s %-14s %-12s %7s %9s %7s %-5s %-4s %s\n", "name", "vendor", "core", "MHz",
               "Flash KB", "RAM KB", "FPU", "DSP", "emulated by");
        for (int i = 0; i < n; i++)
            printf("%-20s %-14.14s %-12s %7.0f %9d %7d %-5s %-4s %s\n", list[i].name, list[i].vendor,
                   list[i].core_name, list[i].clock_mhz, list[i].flash_kb, list[i].ram_kb,
                   mco_fpu_name(list[i].fpu), list[i].dsp ? "yes" : "no",
                   list[i].qemu_machine[0] ? list[i].qemu_machine : "-");
    }
    free(list);
    return CLI_EXIT_OK;
}
