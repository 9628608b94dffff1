/* default_options.c — the sanitizers' options, compiled into every program
 * of a -DTRYGGD_SANITIZE=ON build (build-asan/, scripts/test), so that a
 * finding fails whatever runs the program: a CTest test, a Python test
 * that gives tryggd an environment of its own, a run by hand.
 *
 * Every finding stops the program (halt_on_error; -fno-sanitize-recover=all
 * for UBSan) with exit status 86, which no tryggd or tryggctl exit status
 * means (sysexits.h stops at 78), so that a test expecting, say, 69 cannot
 * mistake a finding for it; a leak at exit does the same.  abort_on_error=0:
 * exit, not SIGABRT, so the status is the finding's.  The suppressions
 * (tests/sanitizers/, each entry explained there) are libraries' only.
 *
 * The environment's ASAN_OPTIONS, UBSAN_OPTIONS and LSAN_OPTIONS are read
 * after these and win, option by option: the CTest tests add log_path
 * there (tests/sanitizers/sanitizers.cmake). */

const char *__asan_default_options(void);
const char *__ubsan_default_options(void);
const char *__lsan_default_options(void);

const char *__asan_default_options(void)
{
	return "halt_on_error=1:abort_on_error=0:exitcode=86:detect_leaks=1:print_stacktrace=1";
}

const char *__ubsan_default_options(void)
{
	return "halt_on_error=1:abort_on_error=0:exitcode=86:print_stacktrace=1"
	       ":suppressions=" TRYGGD_SANITIZERS_DIR "/ubsan.supp";
}

const char *__lsan_default_options(void)
{
	return "exitcode=86:print_suppressions=0"
	       ":suppressions=" TRYGGD_SANITIZERS_DIR "/lsan.supp";
}
