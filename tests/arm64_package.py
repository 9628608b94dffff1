#!/usr/bin/env python3
"""The arm64 Debian package, from the cross build (scripts/build --arch arm64).

    arm64_package.py BUILD_DIR

scripts/test runs it on build-arm64/ once the arm64 unit tests passed.  In a
temporary folder (removed when all holds), with the helpers of the native
package test (tests/integration/test_package.py):

  1. `cpack -G DEB` with BUILD_DIR's CPackConfig.cmake makes one .deb,
     tryggd_VERSION_arm64.deb, its output and staging not in BUILD_DIR.
  2. The control fields: Package, Version, Architecture: arm64, and Depends
     from dpkg-shlibdeps on the aarch64 programs: every library tryggd links
     (libc6, libpaho-mqtt1.3, libcurl4, libgpiod2, libsystemd0, ...), no -dev
     package, and systemd-sysusers for postinst.
  3. The contents: the same files in the same places as the native package.
  4. Unpacked (dpkg-deb -x): usr/bin/tryggd and usr/bin/tryggctl are 64-bit
     little-endian ELF for AArch64 (e_machine 183, EM_AARCH64), stripped
     (by the cross strip).

Nothing runs under the emulator: everything here runs on the build machine.
The man pages, modes, maintainer scripts and dpkg --root are the native
test's (integration.package): they do not depend on the architecture.

Exit 0 when all hold, 1 with the list of what did not.
"""

import os
import re
import shutil
import struct
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "integration"))

from capture import Problems  # noqa: E402
from test_package import LIBRARIES, PROGRAMS, build_package, check_contents, field, is_stripped, \
    project_version, run  # noqa: E402

ARCHITECTURE = "arm64"
EM_AARCH64 = 183


def elf_machine(path):
    """(class, data, e_machine) of an ELF file's header, or None if it is
    not ELF.  class 2: 64-bit; data 1: little-endian."""
    with open(path, "rb") as f:
        header = f.read(20)
    if len(header) < 20 or header[:4] != b"\x7fELF":
        return None
    elf_class, data = header[4], header[5]
    (machine,) = struct.unpack("<H" if data == 1 else ">H", header[18:20])
    return elf_class, data, machine


def check_control(deb, version, problems):
    expected_name = f"tryggd_{version}_{ARCHITECTURE}.deb"
    problems.expect(os.path.basename(deb) == expected_name, f"file name {expected_name}", os.path.basename(deb))
    problems.expect(field(deb, "Package") == "tryggd", "Package: tryggd", field(deb, "Package"))
    problems.expect(field(deb, "Version") == version, f"Version: {version}", field(deb, "Version"))
    architecture = field(deb, "Architecture")
    problems.expect(architecture == ARCHITECTURE, f"Architecture: {ARCHITECTURE}", architecture)

    depends = field(deb, "Depends")
    print(f"  Depends: {depends}")
    names = [re.split(r"[\s(]", alternative.strip(), maxsplit=1)[0]
             for clause in depends.split(",") for alternative in clause.split("|")]
    missing = [library for library in LIBRARIES if library not in names]
    problems.expect(not missing, f"Depends names {', '.join(LIBRARIES)} (dpkg-shlibdeps)",
                    f"missing {missing}: {depends}")
    problems.expect(not any(name.endswith("-dev") for name in names), "Depends names no -dev package", depends)
    problems.expect("systemd-sysusers" in names, "Depends names systemd-sysusers (postinst runs it)", depends)


def check_programs(deb, work, problems):
    root = os.path.join(work, "unpacked")
    run(["dpkg-deb", "-x", deb, root], check=True)
    for program in PROGRAMS:
        path = os.path.join(root, program)
        if not problems.expect(os.path.isfile(path), f"/{program} is in the package"):
            continue
        header = elf_machine(path)
        problems.expect(header == (2, 1, EM_AARCH64),
                        f"/{program} is 64-bit little-endian ELF for AArch64 (e_machine {EM_AARCH64})",
                        "not ELF" if header is None else f"class {header[0]}, data {header[1]}, e_machine {header[2]}")
        stripped = is_stripped(path)
        problems.expect(stripped is True, f"/{program} is stripped",
                        "readelf cannot read it" if stripped is None else "it has .symtab or .debug_info")


def main(argv):
    if len(argv) != 2:
        sys.exit(f"usage: {argv[0]} BUILD_DIR")
    build_dir = os.path.abspath(argv[1])
    for tool in ("cpack", "dpkg-deb", "dpkg-shlibdeps", "readelf"):
        if shutil.which(tool) is None:
            print(f"FAIL: {tool} is not installed (scripts/deps installs it)")
            return 1
    version = project_version(build_dir)
    work = tempfile.mkdtemp(prefix="tryggd-arm64-package-")
    problems = Problems()

    print(f"cpack -G DEB from {build_dir}", flush=True)
    deb = build_package(build_dir, work, problems)
    if deb:
        print(f"  {os.path.basename(deb)}: {os.path.getsize(deb)} bytes", flush=True)
        print("control fields", flush=True)
        check_control(deb, version, problems)
        print("contents", flush=True)
        check_contents(deb, problems)
        print("programs", flush=True)
        check_programs(deb, work, problems)
    return problems.verdict(work, "the arm64 package holds", remove_work=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
