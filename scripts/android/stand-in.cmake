# CMake toolchain for `scripts/android-check` only: a stand-in for the Android NDK's
# android.toolchain.cmake, which this machine does not have. C code that build scripts
# compile with CMake (the selfie's libjpeg-turbo, through turbojpeg-sys) is compiled
# with the host clang for aarch64 against the glibc cross sysroot. Enough for a type
# check; not an Android build (a real one uses the NDK's toolchain file).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER clang)
set(CMAKE_C_COMPILER_TARGET aarch64-linux-gnu)
set(CMAKE_ASM_COMPILER clang)
set(CMAKE_ASM_COMPILER_TARGET aarch64-linux-gnu)
set(CMAKE_SYSROOT /usr/aarch64-linux-gnu)
# No aarch64 linker here: configure checks compile only.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
# libjpeg-turbo's CMake also builds its command-line tools; nothing is linked for
# Android here, so "linking" an executable only touches the output file.
set(CMAKE_C_LINK_EXECUTABLE "<CMAKE_COMMAND> -E touch <TARGET>")
