# Cross-compiling tryggd for arm64 boards (Raspberry Pi) on a Debian 12
# amd64 machine, against Debian's multiarch arm64 packages:
#
#   cmake -S . -B build-arm64 -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-arm64.cmake
#
# (`scripts/build --arch arm64` does this, and scripts/deps --arch arm64
# installs what it needs: gcc-aarch64-linux-gnu, qemu-user-static and the
# :arm64 -dev packages.)
#
# Multiarch means the sysroot is / itself: the arm64 libraries are in
# /usr/lib/aarch64-linux-gnu and their arch-specific headers in
# /usr/include/aarch64-linux-gnu, next to the amd64 ones, and Debian's cross
# gcc looks there by itself.  What must be kept from the amd64 side is
# CMake's and pkg-config's search.

set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
# find_library / find_package search <prefix>/lib/aarch64-linux-gnu (and
# <prefix>/lib/aarch64-linux-gnu/cmake for config packages such as Paho's),
# never <prefix>/lib/x86_64-linux-gnu.
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)

# No CMAKE_SYSROOT: --sysroot=/ would change nothing for the compiler.
# The cross libc's own tree (libc6-arm64-cross) and / are the roots that
# libraries, headers and packages are looked for under; programs (pkg-config,
# the emulator) are the build machine's.
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu /)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# pkg-config (the amd64 one) would otherwise answer with the amd64 .pc files
# from /usr/lib/x86_64-linux-gnu/pkgconfig, and the build would link amd64
# libraries without a word.  PKG_CONFIG_LIBDIR replaces its default search
# path; PKG_CONFIG_PATH would be searched first, so it is cleared.
set(ENV{PKG_CONFIG_LIBDIR} /usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig)
set(ENV{PKG_CONFIG_PATH} "")
set(ENV{PKG_CONFIG_SYSROOT_DIR} "")

# Tests run the arm64 programs under qemu's user mode.  binfmt_misc may not
# be mounted (it is not in containers), so the emulator is named here and
# CTest puts it before every test command that is a target.  -L / is where
# qemu looks for the ELF interpreter /lib/ld-linux-aarch64.so.1 and what it
# loads: with multiarch that is the real /, so this is qemu's default made
# explicit (and QEMU_LD_PREFIX in the environment cannot point it elsewhere).
find_program(TRYGGD_QEMU_AARCH64 qemu-aarch64-static)
if(TRYGGD_QEMU_AARCH64)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${TRYGGD_QEMU_AARCH64} -L /)
endif()
