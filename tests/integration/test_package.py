#!/usr/bin/env python3
"""The Debian package and `cmake --install`, from a configured and built tree.

    test_package.py BUILD_DIR SOURCE_DIR

In a temporary folder:

  1. `cpack -G DEB` with BUILD_DIR's CPackConfig.cmake, its output (and
     CPack's staging) in the temporary folder, not in BUILD_DIR.
  2. The control fields (dpkg-deb --field): the name and version, Section,
     Priority, Maintainer, a Description with a summary and a long text, and
     Depends from dpkg-shlibdeps: every library tryggd links, no -dev
     package.
  3. The control archive: conffiles lists /etc/tryggd/tryggd.conf and only
     it; postinst, prerm and postrm are 0755 shell scripts (sh -n), and
     postinst neither enables nor starts the service.
  4. The contents (dpkg-deb --contents): the binaries, both units, the
     sysusers file, the three man pages, the configuration, the seeds and
     README.md, each where it belongs; nothing under /usr/local or /usr/etc.
  5. Unpacked (dpkg-deb -x): modes (0755 programs and folders, 0644 the
     rest), stripped programs, `tryggd --version` and `--check` of the
     packaged configuration, and each man page rendered by `man -l` with
     groff's warnings on, with nothing on stderr and the version in .TH.
  6. `cmake --install` into a DESTDIR twice: the second keeps a configuration
     changed in between, and says so.
  7. As root, with systemd-sysusers: `dpkg --root` into an empty root with a
     dpkg database of its own (--force-script-chrootless, so the maintainer
     scripts run with DPKG_ROOT set, and --force-depends: that database has
     no libraries).  postinst puts the user tryggd (in gpio and i2c) into
     that root's /etc/passwd, not the machine's; reinstalling keeps a changed
     conffile; remove keeps the configuration and the state; purge removes
     both and the links `systemctl enable` made.  Without root (or
     systemd-sysusers) this part says SKIP.

Exit 0 when all hold, 1 with the list of what did not.
"""

import gzip
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile

from capture import Problems

CONFIG = "etc/tryggd/tryggd.conf"
MAN_PAGES = {
    "usr/share/man/man8/tryggd.8.gz": "TRYGGD",
    "usr/share/man/man1/tryggctl.1.gz": "TRYGGCTL",
    "usr/share/man/man5/tryggd.conf.5.gz": "TRYGGD.CONF",
}
PROGRAMS = ["usr/bin/tryggd", "usr/bin/tryggctl"]
EXPECTED_FILES = PROGRAMS + list(MAN_PAGES) + [
    CONFIG,
    "lib/systemd/system/tryggd.service",
    "lib/systemd/system/tryggd@.service",
    "usr/lib/sysusers.d/tryggd.conf",
    "usr/share/tryggd/seeds/districts.ini",
    "usr/share/tryggd/seeds/scenarios.ini",
    "usr/share/doc/tryggd/README.md",
]
# Every path of the package is under one of these.
ALLOWED_ROOTS = ("etc/tryggd/", "lib/systemd/system/", "usr/bin/", "usr/lib/sysusers.d/", "usr/share/man/",
                 "usr/share/tryggd/", "usr/share/doc/tryggd/")
# What dpkg-shlibdeps must find: one package per library tryggd links.
LIBRARIES = ["libc6", "libpaho-mqtt1.3", "libcurl4", "libsystemd0", "libgpiod2", "libsqlite3-0", "libcjson1",
             "libinih1", "zlib1g", "libssl3"]


def run(command, **kwargs):
    kwargs.setdefault("stdout", subprocess.PIPE)
    kwargs.setdefault("stderr", subprocess.PIPE)
    kwargs.setdefault("text", True)
    if "input" not in kwargs:
        kwargs.setdefault("stdin", subprocess.DEVNULL)
    return subprocess.run(command, **kwargs)


def project_version(build_dir):
    with open(os.path.join(build_dir, "CMakeCache.txt"), encoding="utf-8") as f:
        cache = f.read()
    match = re.search(r"^CMAKE_PROJECT_VERSION:STATIC=(.*)$", cache, re.M)
    if match:
        return match.group(1)
    with open(os.path.join(build_dir, "CPackConfig.cmake"), encoding="utf-8") as f:
        return re.search(r'set\(CPACK_PACKAGE_VERSION "([^"]*)"\)', f.read()).group(1)


def build_package(build_dir, work, problems):
    out = os.path.join(work, "cpack")
    result = run(["cpack", "-G", "DEB", "--config", os.path.join(build_dir, "CPackConfig.cmake"), "-B", out],
                 cwd=build_dir)
    debs = [name for name in os.listdir(out) if name.endswith(".deb")] if os.path.isdir(out) else []
    if not problems.expect(result.returncode == 0 and len(debs) == 1, "cpack -G DEB makes one .deb",
                           f"status {result.returncode}, {debs}: {result.stdout[-1500:]}{result.stderr[-1500:]}"):
        return None
    return os.path.join(out, debs[0])


def field(deb, name):
    return run(["dpkg-deb", "--field", deb, name]).stdout.strip()


def check_control(deb, version, problems):
    architecture = field(deb, "Architecture")
    expected_name = f"tryggd_{version}_{architecture}.deb"
    problems.expect(os.path.basename(deb) == expected_name, f"file name {expected_name}", os.path.basename(deb))
    problems.expect(field(deb, "Package") == "tryggd", "Package: tryggd", field(deb, "Package"))
    problems.expect(field(deb, "Version") == version, f"Version: {version}", field(deb, "Version"))
    host = run(["dpkg", "--print-architecture"]).stdout.strip()
    problems.expect(architecture == host, f"Architecture: {host} (this machine's)", architecture)
    for name in ("Section", "Priority", "Maintainer"):
        problems.expect(field(deb, name) != "", f"{name}: {field(deb, name)}")
    maintainer = field(deb, "Maintainer")
    problems.expect(re.fullmatch(r"[^<>]+ <[^@<>\s]+@[^@<>\s]+\.[^@<>\s]+>", maintainer) is not None,
                    "Maintainer is NAME <ADDRESS> with a domain", maintainer)
    description = field(deb, "Description").splitlines()
    problems.expect(len(description) > 2 and 0 < len(description[0]) <= 80,
                    "Description: a summary of at most 80 characters and a long text", str(description[:2]))

    depends = field(deb, "Depends")
    print(f"  Depends: {depends}")
    names = [re.split(r"[\s(]", alternative.strip(), maxsplit=1)[0]
             for clause in depends.split(",") for alternative in clause.split("|")]
    for library in LIBRARIES:
        problems.expect(library in names, f"Depends names {library}", depends)
    problems.expect(not any(name.endswith("-dev") for name in names), "Depends names no -dev package", depends)
    problems.expect("systemd-sysusers" in names, "Depends names systemd-sysusers (postinst runs it)", depends)


def check_control_archive(deb, work, problems):
    control = os.path.join(work, "control")
    run(["dpkg-deb", "--control", deb, control], check=True)
    with open(os.path.join(control, "conffiles"), encoding="utf-8") as f:
        conffiles = f.read().split()
    problems.expect(conffiles == ["/" + CONFIG], f"conffiles lists /{CONFIG} and nothing else", str(conffiles))
    for script in ("postinst", "prerm", "postrm"):
        path = os.path.join(control, script)
        if not problems.expect(os.path.isfile(path), f"{script} in the control archive"):
            continue
        mode = stat.S_IMODE(os.stat(path).st_mode)
        problems.expect(mode == 0o755, f"{script} is 0755", oct(mode))
        problems.expect(run(["sh", "-n", path]).returncode == 0, f"{script} is valid sh (sh -n)")
    with open(os.path.join(control, "postinst"), encoding="utf-8") as f:
        code = "\n".join(line for line in f.read().splitlines() if not line.lstrip().startswith("#"))
    problems.expect(re.search(r"\b(enable|start|restart|reload-or-restart)\b(?!-)", code.replace("try-restart", ""))
                    is None, "postinst neither enables nor starts the service (try-restart on upgrade only)")
    problems.expect("systemd-sysusers" in code and "daemon-reload" in code and "/run/systemd/system" in code,
                    "postinst runs systemd-sysusers, and daemon-reload only where systemd runs")


def check_contents(deb, problems):
    listing = run(["dpkg-deb", "--contents", deb], check=True).stdout.splitlines()
    paths = [line.split()[5].removeprefix("./") for line in listing if line.split()]
    files = [path for path in paths if not path.endswith("/")]
    for path in EXPECTED_FILES:
        problems.expect(path in files, f"the package has /{path}")
    stray = [path for path in files if not path.startswith(ALLOWED_ROOTS)]
    problems.expect(not stray, "every file is where it belongs (no /usr/local, no /usr/etc)", str(stray))


def is_stripped(path):
    result = run(["readelf", "-S", "-W", path])
    if result.returncode != 0:
        return None
    return ".debug_info" not in result.stdout and ".symtab" not in result.stdout


def render_man_page(root, page, version, problems):
    path = os.path.join(root, page)
    name = os.path.basename(page)
    title = MAN_PAGES[page]
    with gzip.open(path, "rt", encoding="utf-8") as f:
        source = f.read()
    match = re.search(r'^\.TH (\S+) (\d) \S+ "tryggd ([^"]+)"', source, re.M)
    problems.expect(match is not None and match.group(1) == title and match.group(3) == version,
                    f"{name}: .TH {title} ... \"tryggd {version}\"", match.group(0) if match else "no .TH")
    environment = dict(os.environ, MANWIDTH="80", LC_ALL="C.UTF-8", MAN_KEEP_FORMATTING="0", MANPAGER="cat",
                       PAGER="cat")
    result = run(["man", "--warnings", "-l", path], env=environment)
    text = re.sub(r".\x08", "", result.stdout)
    problems.expect(result.returncode == 0 and result.stderr.strip() == "",
                    f"man -l {name} renders with no warning", f"status {result.returncode}: {result.stderr[:800]}")
    problems.expect(all(section in text for section in ("NAME", "SYNOPSIS", "DESCRIPTION", "SEE ALSO")),
                    f"{name}: NAME, SYNOPSIS, DESCRIPTION and SEE ALSO rendered", text[:300])
    # groff itself, every warning on: nothing, not even "cannot adjust line".
    groff = run(["groff", "-man", "-Tutf8", "-ww", "-z"], input=source)
    problems.expect(groff.returncode == 0 and groff.stderr.strip() == "", f"groff -ww -z {name}: no warning",
                    groff.stderr[:800])


def check_unpacked(deb, work, version, problems):
    root = os.path.join(work, "unpacked")
    run(["dpkg-deb", "-x", deb, root], check=True)
    wrong = []
    for directory, folders, names in os.walk(root):
        for folder in folders:
            mode = stat.S_IMODE(os.lstat(os.path.join(directory, folder)).st_mode)
            if mode != 0o755:
                wrong.append(f"{os.path.relpath(os.path.join(directory, folder), root)}/ {oct(mode)}")
        for name in names:
            path = os.path.join(directory, name)
            relative = os.path.relpath(path, root)
            mode = stat.S_IMODE(os.lstat(path).st_mode)
            if mode != (0o755 if relative in PROGRAMS else 0o644):
                wrong.append(f"{relative} {oct(mode)}")
    problems.expect(not wrong, "modes: 0755 programs and folders, 0644 everything else", ", ".join(wrong))
    for program in PROGRAMS:
        stripped = is_stripped(os.path.join(root, program))
        if stripped is not None:
            problems.expect(stripped, f"/{program} is stripped")

    tryggd = os.path.join(root, "usr/bin/tryggd")
    result = run([tryggd, "--version"])
    problems.expect(result.stdout.strip() == f"tryggd {version}", f"/usr/bin/tryggd --version says {version}",
                    result.stdout + result.stderr)
    result = run([os.path.join(root, "usr/bin/tryggctl"), "--version"])
    problems.expect(result.returncode == 0 and version in result.stdout, "/usr/bin/tryggctl --version",
                    result.stdout + result.stderr)
    result = run([tryggd, "-c", os.path.join(root, CONFIG), "--check"])
    problems.expect(result.returncode == 0, f"the packaged /{CONFIG} passes --check", result.stderr[:800])

    for page in MAN_PAGES:
        render_man_page(root, page, version, problems)


def check_cmake_install(build_dir, work, problems):
    destdir = os.path.join(work, "destdir")
    environment = dict(os.environ, DESTDIR=destdir)
    first = run(["cmake", "--install", build_dir, "--prefix", "/usr"], env=environment)
    if not problems.expect(first.returncode == 0, "cmake --install into a DESTDIR", first.stdout[-800:] +
                           first.stderr[-800:]):
        return
    for path in EXPECTED_FILES:
        problems.expect(os.path.isfile(os.path.join(destdir, path)), f"cmake --install put /{path} there")
    config = os.path.join(destdir, CONFIG)
    with open(config, "a", encoding="utf-8") as f:
        f.write("# changed on this board\n")
    with open(config, encoding="utf-8") as f:
        changed = f.read()
    second = run(["cmake", "--install", build_dir, "--prefix", "/usr"], env=environment)
    problems.expect(second.returncode == 0, "cmake --install again", second.stderr[-800:])
    with open(config, encoding="utf-8") as f:
        problems.expect(f.read() == changed, "the second cmake --install keeps the changed configuration")
    problems.expect(re.search(r"Keeping: .*/etc/tryggd/tryggd\.conf", second.stdout) is not None,
                    "and says it kept it", second.stdout[-800:])


def dpkg_root(root, *args):
    # dpkg's log would otherwise go to the machine's /var/log/dpkg.log.
    return run(["dpkg", f"--root={root}", f"--log={root}/var/log/dpkg.log", "--force-script-chrootless",
                "--force-depends", *args])


def check_dpkg_root(deb, work, problems):
    if os.geteuid() != 0:
        print("  SKIP  dpkg --root: needs root (dpkg changes owners)")
        return
    if shutil.which("systemd-sysusers") is None:
        print("  SKIP  dpkg --root: no systemd-sysusers on this machine (postinst runs it)")
        return
    root = os.path.join(work, "root")
    for folder in ("var/lib/dpkg/updates", "var/lib/dpkg/info", "var/log", "etc"):
        os.makedirs(os.path.join(root, folder))
    for name in ("status", "available"):
        open(os.path.join(root, "var/lib/dpkg", name), "w").close()
    host_files = {}
    for path in ("/etc/passwd", "/etc/group"):
        with open(path, encoding="utf-8") as f:
            host_files[path] = f.read()
    host_config = os.path.exists("/" + CONFIG)

    result = dpkg_root(root, "-i", deb)
    if not problems.expect(result.returncode == 0, "dpkg --root -i (postinst with DPKG_ROOT)",
                           result.stdout[-800:] + result.stderr[-1500:]):
        return
    status = run(["dpkg", f"--root={root}", "-s", "tryggd"]).stdout
    problems.expect("Status: install ok installed" in status, "installed in the root's dpkg database", status[:300])
    with open(os.path.join(root, "etc/passwd"), encoding="utf-8") as f:
        passwd = f.read()
    with open(os.path.join(root, "etc/group"), encoding="utf-8") as f:
        group = f.read()
    problems.expect(re.search(r"^tryggd:x:\d+:\d+:[^:]*:/var/lib/tryggd:", passwd, re.M) is not None,
                    "postinst made the user tryggd (home /var/lib/tryggd) in the root", passwd)
    for name in ("gpio", "i2c"):
        problems.expect(re.search(rf"^{name}:x:\d+:(.*,)?tryggd(,|$)", group, re.M) is not None,
                        f"tryggd is in the group {name}", group)
    for path, before in host_files.items():
        with open(path, encoding="utf-8") as f:
            problems.expect(f.read() == before, f"the machine's {path} is untouched")
    problems.expect(os.path.exists("/" + CONFIG) == host_config, f"the machine's /{CONFIG} is untouched")
    for link in ("multi-user.target.wants/tryggd.service",):
        problems.expect(not os.path.lexists(os.path.join(root, "etc/systemd/system", link)),
                        "the service is not enabled")

    config = os.path.join(root, CONFIG)
    with open(config, "a", encoding="utf-8") as f:
        f.write("# changed on this board\n")
    with open(config, encoding="utf-8") as f:
        changed = f.read()
    result = dpkg_root(root, "-i", deb)
    problems.expect(result.returncode == 0, "dpkg --root -i again", result.stderr[-800:])
    with open(config, encoding="utf-8") as f:
        problems.expect(f.read() == changed, "installing again keeps the changed conffile")

    # What a board has after running: state, and tryggd enabled by hand.
    state = os.path.join(root, "var/lib/tryggd")
    os.makedirs(os.path.join(state, "arby"))
    open(os.path.join(state, "tryggd.db"), "w").close()
    wants = os.path.join(root, "etc/systemd/system/multi-user.target.wants")
    os.makedirs(wants)
    os.symlink("/lib/systemd/system/tryggd.service", os.path.join(wants, "tryggd.service"))
    os.symlink("/lib/systemd/system/tryggd@.service", os.path.join(wants, "tryggd@arby.service"))

    result = dpkg_root(root, "-r", "tryggd")
    problems.expect(result.returncode == 0, "dpkg --root -r", result.stderr[-800:])
    problems.expect(not os.path.exists(os.path.join(root, "usr/bin/tryggd")), "remove: the programs are gone")
    problems.expect(os.path.exists(config) and os.path.exists(os.path.join(state, "tryggd.db")),
                    "remove: the configuration and the state stay")
    result = dpkg_root(root, "-P", "tryggd")
    problems.expect(result.returncode == 0, "dpkg --root -P", result.stderr[-800:])
    problems.expect(not os.path.exists(config), "purge: the configuration is gone")
    problems.expect(not os.path.exists(state), "purge: /var/lib/tryggd is gone")
    problems.expect(not os.listdir(wants), "purge: the links systemctl enable made are gone", str(os.listdir(wants)))


def main(argv):
    if len(argv) != 3:
        sys.exit(f"usage: {argv[0]} BUILD_DIR SOURCE_DIR")
    build_dir = os.path.abspath(argv[1])
    for tool in ("cpack", "dpkg-deb", "dpkg-shlibdeps", "man", "groff"):
        if shutil.which(tool) is None:
            print(f"FAIL: {tool} is not installed (scripts/deps installs it)")
            return 1
    version = project_version(build_dir)
    work = tempfile.mkdtemp(prefix="tryggd-package-")
    problems = Problems()

    print(f"cpack -G DEB from {build_dir}", flush=True)
    deb = build_package(build_dir, work, problems)
    if deb:
        print(f"  {os.path.basename(deb)}: {os.path.getsize(deb)} bytes", flush=True)
        print("control fields", flush=True)
        check_control(deb, version, problems)
        print("control archive", flush=True)
        check_control_archive(deb, work, problems)
        print("contents", flush=True)
        check_contents(deb, problems)
        print("unpacked", flush=True)
        check_unpacked(deb, work, version, problems)
    print("cmake --install twice", flush=True)
    check_cmake_install(build_dir, work, problems)
    if deb:
        print("dpkg --root into an empty root", flush=True)
        check_dpkg_root(deb, work, problems)
    return problems.verdict(work, "the package and cmake --install hold", remove_work=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
