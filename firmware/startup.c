/*
 * startup.c - bare-metal start-up for the measurement firmware on an
 * emulated Cortex-M (QEMU): the vector table, a reset handler that copies
 * .data, zeroes .bss, enables the FPU when the build uses one, opens newlib's
 * semihosting I/O and calls main(), and a fault handler that prints the
 * fault status registers and exits with status 1.
 *
 * Left out: clocks, interrupts (the harness uses none), and any peripheral
 * set-up; output goes to the host through semihosting, not a UART.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

extern uint32_t __data_load[], __data_start[], __data_end[];
extern uint32_t __bss_start__[], __bss_end__[];
extern uint32_t __stack_top[];

extern void initialise_monitor_handles(void);
int main(void);

/* newlib's exit() calls _fini and crt0 would call _init; we run neither. */
void _init(void) {}
void _fini(void) {}

#define SCB_CPACR (*(volatile uint32_t *)0xE000ED88u)
#define SCB_CFSR (*(volatile uint32_t *)0xE000ED28u)
#define SCB_HFSR (*(volatile uint32_t *)0xE000ED2Cu)
#define SCB_BFAR (*(volatile uint32_t *)0xE000ED38u)

void Reset_Handler(void)
{
    uint32_t *src = __data_load;
    for (uint32_t *dst = __data_start; dst < __data_end;) *dst++ = *src++;
    for (uint32_t *dst = __bss_start__; dst < __bss_end__;) *dst++ = 0;
#if defined(__ARM_FP)
    SCB_CPACR |= 0xFu << 20; /* full access to CP10 and CP11 */
    __asm__ volatile("dsb\n\tisb" ::: "memory");
#endif
    initialise_monitor_handles();
    exit(main());
}

/* Every fault ends here. ARMv6-M (Cortex-M0/M0+) has no CFSR/HFSR/BFAR,
 * so there it only reports that a HardFault happened. */
void Fault_Handler(void)
{
#if defined(__ARM_ARCH_6M__)
    printf("MCO_FAULT HardFault (Cortex-M0/M0+: no fault status registers)\n");
#else
    printf("MCO_FAULT CFSR=0x%08lx HFSR=0x%08lx BFAR=0x%08lx\n", (unsigned long)SCB_CFSR,
           (unsigned long)SCB_HFSR, (unsigned long)SCB_BFAR);
#endif
    exit(1);
}

typedef void (*vector_entry)(void);

/* Initial stack pointer, reset, then NMI, HardFault, MemManage, BusFault,
 * UsageFault, SecureFault (ARMv8-M; reserved elsewhere). */
__attribute__((section(".isr_vector"), used)) const vector_entry mco_vector_table[16] = {
    (vector_entry)(uintptr_t)__stack_top,
    Reset_Handler,
    Fault_Handler,
    Fault_Handler,
    Fault_Handler,
    Fault_Handler,
    Fault_Handler,
    Fault_Handler,
};
