/*
 * safe_output.c - writing an output file or directory so that a failure
 * never leaves half of it behind and never replaces something that was not
 * ours (see mcuopt/file_io.h).
 *
 * A file is written to a temporary file in the directory of its path (the
 * same file system, so the final rename is atomic). Where the kernel has
 * O_TMPFILE (Linux on ext4, tmpfs, xfs, btrfs) that file has no name while
 * it is written, so it vanishes by itself if the process is killed; the
 * commit gives it the name ".NAME.tmp.PID" with linkat() of
 * /proc/self/fd/N (the way open(2) documents) and renames that over the
 * path at once. Elsewhere it is created as ".NAME.tmp.PID" from the start.
 *
 * A directory is written under ".NAME.tmp.PID" too: beside it when it does
 * not exist yet (the commit renames the whole directory into place), inside
 * it when it does (the commit moves each entry in, after checking that none
 * would replace something of another kind).
 *
 * Stale temporaries: every open of a path looks in the directory for
 * ".NAME.tmp.<pid>" entries and removes those whose writer is gone: <pid>
 * is no live process (kill(pid, 0)) and nobody holds the flock() that a
 * writer keeps on its temporary file or directory while it writes. The
 * lock covers what the pid cannot: a reused pid, or a writer in another pid
 * namespace sharing the directory.
 *
 * The path is checked (absent, or of the kind we write) when the output is
 * opened and again just before the rename; only someone able to create
 * device nodes could swap one in between the two.
 *
 * What it leaves out: fsync of the directory after a rename, keeping the
 * mode or owner of a replaced file, and making a directory commit into an
 * existing directory atomic as a whole (each entry is moved atomically;
 * a failure part-way, which the check beforehand makes unlikely, is
 * reported and leaves the entries moved so far).
 */
#define _GNU_SOURCE /* O_TMPFILE and flock(), both Linux; the code works without O_TMPFILE */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mcuopt/file_util.h"

/* ---- names ------------------------------------------------------------------ */

static char *join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s/%s", dir, name);
    return p;
}

/* Splits `path` into its directory ("." if none) and last component. */
static mco_status split_path(const char *path, char **dir, char **base)
{
    const char *slash = strrchr(path, '/');
    *base = strdup(slash ? slash + 1 : path);
    if (!slash) *dir = strdup(".");
    else if (slash == path) *dir = strdup("/");
    else *dir = strndup(path, (size_t)(slash - path));
    if (!*dir || !*base) {
        free(*dir);
        free(*base);
        return mco_error(MCO_ERR_NOMEM, "%s: out of memory", path);
    }
    return MCO_OK;
}

/* "DIR/.BASE.tmp.PID" */
static char *temp_path(const char *dir, const char *base)
{
    size_t n = strlen(dir) + strlen(base) + 40;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s/.%s.tmp.%ld", dir, base, (long)getpid());
    return p;
}

/* 1 if `name` is ".BASE.tmp.<digits>", with the digits in *pid. */
static int is_temp_of(const char *name, const char *base, long *pid)
{
    size_t n = strlen(base);
    if (name[0] != '.' || strncmp(name + 1, base, n) != 0 || strncmp(name + 1 + n, ".tmp.", 5) != 0) return 0;
    const char *digits = name + n + 6;
    if (!*digits || strspn(digits, "0123456789") != strlen(digits) || strlen(digits) > 9) return 0;
    *pid = strtol(digits, NULL, 10);
    return 1;
}

/* ---- stale temporaries ------------------------------------------------------ */

/* 1 if `pid` is another process that is alive (EPERM: alive, not ours to signal). */
static int other_process_alive(long pid)
{
    if (pid <= 0 || pid == (long)getpid()) return 0;
    return kill((pid_t)pid, 0) == 0 || errno == EPERM;
}

/* Removes ".BASE.tmp.<pid>" files and directories in `dir` left by a writer
 * that is gone (see the top of the file). Failures are ignored: a stale
 * file that cannot be removed does no harm. */
static void remove_stale(const char *dir, const char *base)
{
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        long pid;
        if (!is_temp_of(e->d_name, base, &pid) || other_process_alive(pid)) continue;
        char *p = join(dir, e->d_name);
        int fd = p ? open(p, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC) : -1;
        struct stat sb;
        if (fd >= 0 && fstat(fd, &sb) == 0 && flock(fd, LOCK_EX | LOCK_NB) == 0) {
            if (S_ISDIR(sb.st_mode)) mco_remove_tree(p);
            else if (S_ISREG(sb.st_mode)) unlink(p);
        }
        if (fd >= 0) close(fd);
        free(p);
    }
    closedir(d);
}

/* ---- one file -------------------------------------------------------------------- */

/* MCO_OK if `path` is absent or a regular file (which may be replaced). */
static mco_status check_file_path(const char *path)
{
    struct stat sb;
    if (lstat(path, &sb) != 0) {
        if (errno == ENOENT) return MCO_OK;
        return mco_error(MCO_ERR_IO, "%s: %s", path, strerror(errno));
    }
    if (!S_ISREG(sb.st_mode))
        return mco_error(MCO_ERR_IO, "%s: exists and is %s, not a regular file; refusing to replace it", path,
                         mco_file_kind(sb.st_mode));
    return MCO_OK;
}

static void release_file(mco_output_file *out)
{
    if (out->f) fclose(out->f);
    free(out->path);
    free(out->tmp_path);
    memset(out, 0, sizeof *out);
}

/* An unnamed file in `dir`, or -1 where O_TMPFILE or /proc is missing. */
static int open_unnamed(const char *dir)
{
#ifdef O_TMPFILE
    int fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0666);
    if (fd < 0) return -1;
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    if (access(proc, F_OK) == 0) return fd;   /* the commit can link it by this name */
    close(fd);
#else
    (void)dir;
#endif
    return -1;
}

mco_status mco_output_open(mco_output_file *out, const char *path)
{
    return mco_output_open_named(out, path, 0);
}

mco_status mco_output_open_named(mco_output_file *out, const char *path, int named)
{
    memset(out, 0, sizeof *out);
    if (!path || !path[0]) return mco_error(MCO_ERR_ARG, "no output file name given");
    mco_status st = check_file_path(path);
    if (st != MCO_OK) return st;
    char *dir, *base;
    if ((st = split_path(path, &dir, &base)) != MCO_OK) return st;
    if (!base[0]) st = mco_error(MCO_ERR_IO, "%s: names a directory, not a file", path);
    if (st == MCO_OK) {
        remove_stale(dir, base);
        out->path = strdup(path);
        out->tmp_path = temp_path(dir, base);
        if (!out->path || !out->tmp_path) st = mco_error(MCO_ERR_NOMEM, "%s: out of memory", path);
    }
    int fd = -1;
    if (st == MCO_OK) {
        fd = named ? -1 : open_unnamed(dir);
        out->named = fd < 0;
        if (fd < 0) fd = open(out->tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
        if (fd < 0) st = mco_error(MCO_ERR_IO, "%s: cannot create a file in %s: %s", path, dir, strerror(errno));
    }
    if (st == MCO_OK) {
        flock(fd, LOCK_EX);   /* a new file: never waits; tells remove_stale() we are alive */
        out->f = fdopen(fd, "wb");
        if (!out->f) {
            st = mco_error(MCO_ERR_NOMEM, "%s: out of memory", path);
            close(fd);
            if (out->named) unlink(out->tmp_path);
        }
    }
    free(dir);
    free(base);
    if (st != MCO_OK) release_file(out);
    return st;
}

/* Gives the unnamed temporary file its name (see the top of the file);
 * AT_EMPTY_PATH, which needs CAP_DAC_READ_SEARCH, where /proc will not do. */
static mco_status link_unnamed(mco_output_file *out)
{
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fileno(out->f));
    if (linkat(AT_FDCWD, proc, AT_FDCWD, out->tmp_path, AT_SYMLINK_FOLLOW) != 0 &&
        linkat(fileno(out->f), "", AT_FDCWD, out->tmp_path, AT_EMPTY_PATH) != 0)
        return mco_error(MCO_ERR_IO, "%s: cannot create %s: %s", out->path, out->tmp_path, strerror(errno));
    out->named = 1;
    return MCO_OK;
}

mco_status mco_output_commit(mco_output_file *out)
{
    if (!out->f) return mco_error(MCO_ERR_ARG, "mco_output_commit: no open output");
    mco_status st = MCO_OK;
    /* fflush first: it writes what is buffered and sets errno (ENOSPC ...) if that fails. */
    if (fflush(out->f) != 0 || ferror(out->f) || fsync(fileno(out->f)) != 0)
        st = mco_error(MCO_ERR_IO, "%s: write failed: %s", out->path, strerror(errno ? errno : EIO));
    if (st == MCO_OK && !out->named) st = link_unnamed(out);
    if (st == MCO_OK) st = check_file_path(out->path);   /* again, just before replacing it */
    if (st == MCO_OK && rename(out->tmp_path, out->path) != 0)
        st = mco_error(MCO_ERR_IO, "%s: cannot rename %s over it: %s", out->path, out->tmp_path, strerror(errno));
    if (st != MCO_OK && out->named) unlink(out->tmp_path);
    release_file(out);   /* closing also drops the lock */
    return st;
}

void mco_output_abort(mco_output_file *out)
{
    if (out->f && out->named) unlink(out->tmp_path);
    release_file(out);
}

mco_status mco_write_file_atomic(const char *path, const void *data, size_t size)
{
    mco_output_file out;
    mco_status st = mco_output_open(&out, path);
    if (st != MCO_OK) return st;
    if (size > 0 && fwrite(data, 1, size, out.f) != size) {
        st = mco_error(MCO_ERR_IO, "%s: write failed: %s", path, strerror(errno));
        mco_output_abort(&out);
        return st;
    }
    return mco_output_commit(&out);
}

mco_status mco_output_append(const char *path, FILE **f)
{
    *f = NULL;
    mco_status st = check_file_path(path);
    if (st != MCO_OK) return st;
    /* O_NOFOLLOW and O_NONBLOCK: a symlink or FIFO put there since the check fails or is refused below. */
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0666);
    if (fd < 0) return mco_error(MCO_ERR_IO, "%s: cannot open for appending: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return mco_error(MCO_ERR_IO, "%s: not a regular file; refusing to append to it", path);
    }
    int flags = fcntl(fd, F_GETFL);
    if (flags >= 0) fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    *f = fdopen(fd, "a");
    if (!*f) {
        close(fd);
        return mco_error(MCO_ERR_NOMEM, "%s: out of memory", path);
    }
    return MCO_OK;
}

/* ---- a directory ------------------------------------------------------------------ */

/* Checks that moving every entry of `from` into `to` replaces nothing but
 * regular files, descending into directories both have. */
static mco_status check_merge(const char *from, const char *to)
{
    DIR *d = opendir(from);
    if (!d) return mco_error(MCO_ERR_IO, "%s: %s", from, strerror(errno));
    mco_status st = MCO_OK;
    struct dirent *e;
    while (st == MCO_OK && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        char *src = join(from, e->d_name), *dst = join(to, e->d_name);
        struct stat s, t;
        if (!src || !dst) st = mco_error(MCO_ERR_NOMEM, "%s: out of memory", to);
        else if (lstat(src, &s) != 0) st = mco_error(MCO_ERR_IO, "%s: %s", src, strerror(errno));
        else if (lstat(dst, &t) != 0) {
            if (errno != ENOENT) st = mco_error(MCO_ERR_IO, "%s: %s", dst, strerror(errno));
        } else if (S_ISDIR(s.st_mode) && S_ISDIR(t.st_mode)) {
            st = check_merge(src, dst);
        } else if (S_ISDIR(s.st_mode) || !S_ISREG(t.st_mode)) {
            st = mco_error(MCO_ERR_IO, "%s: exists and is %s, not a %s; refusing to replace it", dst,
                           mco_file_kind(t.st_mode), S_ISDIR(s.st_mode) ? "directory" : "regular file");
        }
        free(src);
        free(dst);
    }
    closedir(d);
    return st;
}

/* Moves every entry of `from` into `to` (checked by check_merge first). */
static mco_status move_entries(const char *from, const char *to)
{
    DIR *d = opendir(from);
    if (!d) return mco_error(MCO_ERR_IO, "%s: %s", from, strerror(errno));
    mco_status st = MCO_OK;
    struct dirent *e;
    while (st == MCO_OK && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        char *src = join(from, e->d_name), *dst = join(to, e->d_name);
        struct stat s, t;
        if (!src || !dst) {
            st = mco_error(MCO_ERR_NOMEM, "%s: out of memory", to);
        } else if (lstat(src, &s) == 0 && S_ISDIR(s.st_mode) && lstat(dst, &t) == 0 && S_ISDIR(t.st_mode)) {
            st = move_entries(src, dst);
            if (st == MCO_OK) rmdir(src);
        } else if (rename(src, dst) != 0) {
            st = mco_error(MCO_ERR_IO, "%s: cannot move it into place: %s", dst, strerror(errno));
        }
        free(src);
        free(dst);
    }
    closedir(d);
    return st;
}

static void release_dir(mco_output_dir *d)
{
    if (d->lock_fd >= 0) close(d->lock_fd);
    free(d->path);
    free(d->stage);
    memset(d, 0, sizeof *d);
    d->lock_fd = -1;
}

mco_status mco_output_dir_begin(mco_output_dir *d, const char *path)
{
    memset(d, 0, sizeof *d);
    d->lock_fd = -1;
    if (!path || !path[0]) return mco_error(MCO_ERR_ARG, "no output directory given");
    d->path = strdup(path);
    if (!d->path) return mco_error(MCO_ERR_NOMEM, "%s: out of memory", path);
    for (size_t n = strlen(d->path); n > 1 && d->path[n - 1] == '/'; n--) d->path[n - 1] = '\0';

    char *parent = NULL, *base = NULL;
    mco_status st = split_path(d->path, &parent, &base);
    if (st != MCO_OK) {
        release_dir(d);
        return st;
    }
    /* "out" stages as ".out.tmp.PID"; ".", ".." and "/" (always existing) as ".mcuopt.tmp.PID" inside. */
    const char *name = base[0] && strcmp(base, ".") != 0 && strcmp(base, "..") != 0 ? base : "mcuopt";
    struct stat sb;
    if (stat(d->path, &sb) == 0) {
        if (!S_ISDIR(sb.st_mode))
            st = mco_error(MCO_ERR_IO, "%s: exists and is %s, not a directory; refusing to replace it", d->path,
                           mco_file_kind(sb.st_mode));
        d->merge = 1;
    } else if (errno != ENOENT) {
        st = mco_error(MCO_ERR_IO, "%s: %s", d->path, strerror(errno));
    } else if (lstat(d->path, &sb) == 0) {
        st = mco_error(MCO_ERR_IO, "%s: is a symbolic link to nothing; refusing to replace it", d->path);
    }
    if (st == MCO_OK) {
        remove_stale(parent, name);   /* left by a killed run while `path` did not exist */
        if (d->merge) remove_stale(d->path, name);
        d->stage = temp_path(d->merge ? d->path : parent, name);
        if (!d->stage) st = mco_error(MCO_ERR_NOMEM, "%s: out of memory", d->path);
    }
    if (st == MCO_OK && mkdir(d->stage, 0777) != 0) {
        st = mco_error(MCO_ERR_IO, "%s: cannot create directory: %s", d->path, strerror(errno));
        free(d->stage);
        d->stage = NULL;
    }
    if (st == MCO_OK) {
        d->lock_fd = open(d->stage, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (d->lock_fd >= 0) flock(d->lock_fd, LOCK_EX);   /* new: never waits */
    }
    free(parent);
    free(base);
    if (st != MCO_OK) release_dir(d);
    return st;
}

mco_status mco_output_dir_commit(mco_output_dir *d)
{
    if (!d->stage) return mco_error(MCO_ERR_ARG, "mco_output_dir_commit: no open output directory");
    mco_status st = MCO_OK;
    int merge = d->merge;
    if (!merge && rename(d->stage, d->path) != 0) {
        if (errno == EEXIST || errno == ENOTEMPTY) merge = 1;   /* created meanwhile: move the entries in */
        else st = mco_error(MCO_ERR_IO, "%s: cannot rename %s to it: %s", d->path, d->stage, strerror(errno));
    }
    if (st == MCO_OK && merge) {
        st = check_merge(d->stage, d->path);
        if (st == MCO_OK) st = move_entries(d->stage, d->path);
        if (st == MCO_OK) rmdir(d->stage);
    }
    if (st != MCO_OK) mco_remove_tree(d->stage);
    release_dir(d);
    return st;
}

/* The error that made the caller abort names a file under the stage, which
 * is about to go: name it by its final path instead. */
static void rename_stage_in_error(const mco_output_dir *d)
{
    const char *message = mco_last_error();
    const char *hit = strstr(message, d->stage);
    if (!hit) return;
    char text[1024];
    snprintf(text, sizeof text, "%.*s%s%s", (int)(hit - message), message, d->path, hit + strlen(d->stage));
    (void)mco_error(MCO_ERR_IO, "%s", text);   /* only the message is replaced; the caller keeps its status */
}

void mco_output_dir_abort(mco_output_dir *d)
{
    if (d->stage) {
        rename_stage_in_error(d);
        mco_remove_tree(d->stage);
    }
    release_dir(d);
}
