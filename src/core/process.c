/*
 * target_process.c - running the external tools of a measurement
 * (arm-none-eabi-gcc/-nm/-objdump/-size, gcc, qemu-system-arm) with output
 * sent to a log file and a time limit, and an excerpt of a log.
 *
 * Left out: Windows; process groups (the tools are exec'ed directly, so
 * killing the child kills the tool).
 */
#include "mcuopt/process.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* A tool's stdout read through a pipe into memory (no temporary file, so
 * nothing is left behind and no temporary directory is needed). */
typedef struct {
    int read_fd, write_fd;   /* the pipe; the parent closes write_fd once the child has it */
    char *data;              /* NUL-terminated */
    size_t len, cap;
    int nomem, too_long;
} capture;

/* Reads what the pipe holds now (it is non-blocking). */
static void capture_drain(capture *c)
{
    for (;;) {
        if (c->cap - c->len < 4096) {
            size_t cap = c->cap ? 2 * c->cap : 65536;
            if (cap > MCO_READ_GENERATED_MAX + 1) c->too_long = 1;   /* the file reader's cap for tool output */
            char *grown = c->nomem || c->too_long ? NULL : realloc(c->data, cap);
            if (!grown) {   /* keep reading, so the tool is not blocked, but drop the bytes */
                char sink[4096];
                if (!c->too_long) c->nomem = 1;
                if (read(c->read_fd, sink, sizeof sink) > 0) continue;
                return;
            }
            c->data = grown;
            c->cap = cap;
        }
        ssize_t got = read(c->read_fd, c->data + c->len, c->cap - c->len - 1);
        if (got > 0) c->len += (size_t)got;
        else if (got < 0 && errno == EINTR) continue;
        else break;   /* 0: end of file; EAGAIN: nothing more for now */
    }
    if (c->data) c->data[c->len] = '\0';
}

/* Starts argv with stdout to out_fd (or to the capture pipe) and stderr to
 * err_fd (-1: /dev/null), then waits with a time limit. */
static mco_status run_with_fds(char *const argv[], int out_fd, int err_fd, capture *cap, int timeout_s,
                               int *exit_code, int *timed_out)
{
    *timed_out = 0;
    *exit_code = -1;
    if (cap) out_fd = cap->write_fd;
    pid_t pid = fork();
    if (pid < 0) return mco_error(MCO_ERR_IO, "%s: cannot fork: %s", argv[0], strerror(errno));
    if (pid == 0) {
        int null_fd = open("/dev/null", O_RDWR);
        dup2(null_fd, STDIN_FILENO);
        dup2(out_fd >= 0 ? out_fd : null_fd, STDOUT_FILENO);
        dup2(err_fd >= 0 ? err_fd : null_fd, STDERR_FILENO);
        execvp(argv[0], argv);
        _exit(127);
    }
    if (cap) {
        close(cap->write_fd);
        cap->write_fd = -1;
    }
    const struct timespec pause = {0, 2 * 1000 * 1000}; /* 2 ms */
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    int status = 0;
    for (;;) {
        pid_t done = waitpid(pid, &status, WNOHANG);
        if (done == pid) break;
        if (done < 0 && errno != EINTR) return mco_error(MCO_ERR_IO, "%s: waitpid: %s", argv[0], strerror(errno));
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (timeout_s > 0 && now.tv_sec - start.tv_sec >= timeout_s) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            *timed_out = 1;
            break;
        }
        if (cap) {   /* wait for output or 2 ms, and empty the pipe so the tool never blocks on it */
            struct pollfd pfd = {cap->read_fd, POLLIN, 0};
            poll(&pfd, 1, 2);
            capture_drain(cap);
        } else {
            nanosleep(&pause, NULL);
        }
    }
    if (cap) capture_drain(cap);
    if (WIFEXITED(status)) *exit_code = WEXITSTATUS(status);
    else if (WIFSIGNALED(status)) *exit_code = 128 + WTERMSIG(status);
    if (*exit_code == 127 && !*timed_out)
        return mco_error(MCO_ERR_NOT_FOUND, "%s: could not run it (not installed or not on PATH?)", argv[0]);
    return MCO_OK;
}

static int open_log(const char *log_path)
{
    if (!log_path) return -1;
    return open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
}

mco_status mco_run_tool(char *const argv[], const char *log_path, int timeout_s, int *exit_code, int *timed_out)
{
    int log_fd = open_log(log_path);
    mco_status st = run_with_fds(argv, log_fd, log_fd, NULL, timeout_s, exit_code, timed_out);
    if (log_fd >= 0) close(log_fd);
    return st;
}

mco_status mco_run_tool_capture(char *const argv[], const char *log_path, int timeout_s, char **out,
                                int *exit_code)
{
    *out = NULL;
    int fds[2];
    if (pipe(fds) != 0) return mco_error(MCO_ERR_IO, "%s: cannot create a pipe: %s", argv[0], strerror(errno));
    capture cap = {fds[0], fds[1], NULL, 0, 0, 0, 0};
    fcntl(cap.read_fd, F_SETFD, FD_CLOEXEC);   /* the tool keeps only its stdout copy */
    fcntl(cap.write_fd, F_SETFD, FD_CLOEXEC);
    fcntl(cap.read_fd, F_SETFL, O_NONBLOCK);
    int log_fd = open_log(log_path);
    int timed_out;
    mco_status st = run_with_fds(argv, -1, log_fd, &cap, timeout_s, exit_code, &timed_out);
    close(cap.read_fd);
    if (cap.write_fd >= 0) close(cap.write_fd);
    if (log_fd >= 0) close(log_fd);
    if (st == MCO_OK && timed_out) st = mco_error(MCO_ERR_IO, "%s: timed out after %d s", argv[0], timeout_s);
    if (st == MCO_OK && cap.nomem) st = mco_error(MCO_ERR_NOMEM, "%s: out of memory for its output", argv[0]);
    if (st == MCO_OK && cap.too_long)
        st = mco_error(MCO_ERR_RANGE, "%s: more than %zu MB of output", argv[0], MCO_READ_GENERATED_MAX >> 20);
    if (st == MCO_OK && !cap.data && !(cap.data = calloc(1, 1))) st = mco_error(MCO_ERR_NOMEM, "out of memory");
    if (st != MCO_OK) {
        free(cap.data);
        return st;
    }
    *out = cap.data;
    return MCO_OK;
}

static void trim_line(const char *start, const char *end, char *buf, size_t cap)
{
    while (start < end && (*start == ' ' || *start == '\t')) start++;
    while (end > start && (end[-1] == ' ' || end[-1] == '\r' || end[-1] == '\t')) end--;
    snprintf(buf, cap, "%.*s", (int)(end - start), start);
}

void mco_log_excerpt(const char *log_path, const char *needle, char *buf, size_t cap)
{
    char *text = NULL;
    buf[0] = '\0';
    if (mco_read_text_file(log_path, MCO_READ_GENERATED_MAX, &text) != MCO_OK) {
        mco_clear_error();
        return;
    }
    const char *hit = needle ? strstr(text, needle) : NULL;
    const char *start = text;
    if (hit) {
        start = hit;
        while (start > text && start[-1] != '\n') start--;
    } else {
        while (*start == '\n') start++;
    }
    const char *end = strchr(start, '\n');
    if (!end) end = start + strlen(start);
    trim_line(start, end, buf, cap);
    free(text);
}
