/*
 * test_util.h - the few macros the C tests use. A test binary runs its
 * checks, prints each failure with file:line, and exits non-zero if any failed.
 */
#ifndef MCO_TEST_UTIL_H
#define MCO_TEST_UTIL_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static int test_failures;

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
        return 0;                                                                \
    } while (0)

/* Directory of the shared MNIST files, or NULL if not present. */
static inline const char *test_mnist_dir(void)
{
    const char *env = getenv("MCO_MNIST_DIR");
    if (env && *env) return env;
    return "../shared/data/mnist";
}

#endif
