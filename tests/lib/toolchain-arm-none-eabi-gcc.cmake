# toolchain-arm-none-eabi-gcc.cmake - a CMake toolchain file for a bare-metal Cortex-M
# build with arm-none-eabi-gcc: the compiler is named here; the CPU,
# optimisation and link flags come from the environment, as tests/lib/
# mcu_build.sh's mcu_setup sets them (MCU_CFLAGS, MCU_LDFLAGS, MCU_LDLIBS), so
# that CMake and make builds get the same flags.
# Leaves out: C++ (the packages are C) and any flag not in those variables.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR arm)
set(CMAKE_C_COMPILER arm-none-eabi-gcc)

# no executable can link before the board's start-up code is there
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
set(CMAKE_C_FLAGS_INIT "$ENV{MCU_CFLAGS}")
set(CMAKE_EXE_LINKER_FLAGS_INIT "$ENV{MCU_LDFLAGS}")
set(CMAKE_C_STANDARD_LIBRARIES "$ENV{MCU_LDLIBS}")
