/*
 * test_util.h - the few macros the C tests use. A test binary runs its
 * checks, prints each failure with file:line, and exits non-zero if any failed.
 *
 * Skipping: a check that cannot run here (MNIST or the Arm toolchain absent)
 * calls test_skip("why"), which prints "SKIPPED: why". TEST_MAIN_END then
 * exits with TEST_SKIP_CODE (77), which CTest shows as "Skipped"
 * (SKIP_RETURN_CODE in CMakeLists.txt), unless a check failed (exit 1). A
 * test that skipped part of its checks never reports a pass; CI, where
 * everything is installed, fails on any skip (scripts/test.sh).
 */
#ifndef MCO_TEST_UTIL_H
#define MCO_TEST_UTIL_H

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define TEST_SKIP_CODE 77

static int test_failures;
static int test_skips;

#define CHECK(cond)                                                              \
    do {                                                                         \
        if (!(cond)) {                                                           \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            test_failures++;                                                     \
        }                                                                        \
    } while (0)

#define CHECK_OK(expr)                                                           \
    do {                                                                         \
        mco_status check_ok_status_ = (expr);                                    \
        if (check_ok_status_ != MCO_OK) {                                        \
            fprintf(stderr, "%s:%d: %s returned %s: %s\n", __FILE__, __LINE__,   \
                    #expr, mco_status_string(check_ok_status_), mco_last_error()); \
            test_failures++;                                                     \
        }                                                                        \
    } while (0)

#define CHECK_NEAR(a, b, tol)                                                    \
    do {                                                                         \
        double check_a_ = (double)(a), check_b_ = (double)(b);                   \
        if (!(fabs(check_a_ - check_b_) <= (tol))) {                             \
            fprintf(stderr, "%s:%d: %s = %.9g, %s = %.9g, differ by more than %g\n", \
                    __FILE__, __LINE__, #a, check_a_, #b, check_b_, (double)(tol)); \
            test_failures++;                                                     \
        }                                                                        \
    } while (0)

#define TEST_MAIN_END()                                                          \
    do {                                                                         \
        if (test_failures) {                                                     \
            fprintf(stderr, "%d check(s) failed\n", test_failures);              \
            return 1;                                                            \
        }                                                                        \
        if (test_skips) {                                                        \
            printf("%d part(s) skipped: this test did not run all its checks\n", test_skips); \
            return TEST_SKIP_CODE;                                               \
        }                                                                        \
        return 0;                                                                \
    } while (0)

/* Records that some checks could not run, and why (one line on stdout). */
static inline void test_skip(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("SKIPPED: ", stdout);
    vprintf(fmt, ap);
    fputc('\n', stdout);
    va_end(ap);
    fflush(stdout);
    test_skips++;
}

/* Directory of the shared MNIST files (MCO_MNIST_DIR overrides). */
static inline const char *test_mnist_dir(void)
{
    const char *env = getenv("MCO_MNIST_DIR");
    if (env && *env) return env;
    return "../shared/data/mnist";
}

/* 1 if test_mnist_dir() holds the MNIST training images (gzip'd or not).
 * Presence is decided here, by the files alone: once they are there, a
 * failure to load them is a test failure, never a skip. */
static inline int test_have_mnist(void)
{
    char path[1024];
    struct stat st;
    snprintf(path, sizeof path, "%s/train-images-idx3-ubyte.gz", test_mnist_dir());
    if (stat(path, &st) == 0) return 1;
    snprintf(path, sizeof path, "%s/train-images-idx3-ubyte", test_mnist_dir());
    return stat(path, &st) == 0;
}

/* 1 if the Arm cross toolchain and QEMU are on PATH (what measuring on an
 * emulated target needs). */
static inline int test_have_arm_tools(void)
{
    return system("arm-none-eabi-gcc --version >/dev/null 2>&1 && qemu-system-arm --version >/dev/null 2>&1") == 0;
}

#ifdef MCUOPT_STATUS_H
/* Checks that st is an error whose message (mco_last_error) is one line
 * naming both `needle` (e.g. the file) and `what` (the problem). For tests
 * of the library (mcuopt/status.h included first); the runtime's tests,
 * built without the library's headers, leave it out. */
static inline void test_check_error(mco_status st, const char *needle, const char *what)
{
    CHECK(st != MCO_OK);
    const char *e = mco_last_error();
    CHECK(strchr(e, '\n') == NULL);
    if (!strstr(e, needle) || !strstr(e, what)) {
        fprintf(stderr, "error '%s' lacks '%s' or '%s'\n", e, needle, what);
        test_failures++;
    }
}
#endif

#endif
