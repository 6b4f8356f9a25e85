/*
 * cmd_targets.c - `mcuopt targets`: the MCU profiles in targets/.
 */
#include <getopt.h>
#include <stdlib.h>

#include "cli.h"
#include "mcuopt/target.h"

int cmd_targets(int argc, char **argv)
{
    static const struct option options[] = {
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int json = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        if (c == 'j') json = 1;
        else if (c == 'h') {
            const char *dir = mco_context_resource(cli_context(), MCO_RESOURCE_TARGETS);
            printf("usage: mcuopt targets [--json]\n\nLists the MCU profiles (%s).\n",
                   dir ? dir : "not found: set MCO_TARGETS_DIR");
            return CLI_EXIT_OK;
        } else return CLI_EXIT_USAGE;
    }
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
