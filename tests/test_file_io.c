/*
 * test_file_io.c - the library's one file reader and its safe writers
 * (mcuopt/file_io.h, src/core/file_util.c and safe_output.c).
 *
 * Reader: a file of exactly the cap reads, one byte more is refused
 * (MCO_ERR_RANGE), an empty file gives an empty '\0'-terminated buffer, a
 * directory, a FIFO (without blocking) and a missing file give MCO_ERR_IO
 * naming the path and the problem.
 * File writer, with an unnamed temporary file (O_TMPFILE) and with a named
 * one: a new file and a replaced regular file get the new bytes; a FIFO, a
 * symlink and a directory at the path are refused and left as they were;
 * an abort leaves no file; no temporary name is ever left in the directory;
 * a stale ".NAME.tmp.PID" of a dead process is removed by the next open,
 * one whose pid is alive or whose lock is held is kept. Appending (a cache)
 * refuses a FIFO (without blocking) and a symlink.
 * Directory writer: a new directory appears only at the commit, an abort
 * leaves nothing (and the error names the final path, not the stage), a commit into an existing directory replaces files of the
 * same name and keeps the others, and one that would replace a FIFO fails
 * before moving anything.
 * (The command-line side, with a real full disk, is tests/output_safety.sh.)
 */
#define _DEFAULT_SOURCE /* flock() */
#include "mcuopt/file_util.h"
#include "test_util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[] = "/tmp/mco-test-file-io-XXXXXX";

/* dir/name, in one of 8 rotating buffers (keep a copy to hold one longer). */
static const char *at(const char *name)
{
    static char paths[8][512];
    static int next;
    char *p = paths[next++ % 8];
    snprintf(p, 512, "%s/%s", dir, name);
    return p;
}

static void write_bytes(const char *path, const char *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (!f) return;
    if (size) CHECK(fwrite(data, 1, size, f) == size);
    fclose(f);
}

/* 1 if the file at path holds exactly `text`. */
static int holds(const char *path, const char *text)
{
    uint8_t *bytes;
    size_t size;
    if (mco_read_file(path, 1 << 20, &bytes, &size) != MCO_OK) return 0;
    int same = size == strlen(text) && memcmp(bytes, text, size) == 0;
    free(bytes);
    return same;
}

static int contains(const char *haystack, const char *needle)
{
    return strstr(haystack, needle) != NULL;
}

/* Entries of `path` whose name contains ".tmp." (temporary files or directories). */
static int count_temporaries(const char *path)
{
    DIR *d = opendir(path);
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) n += strstr(e->d_name, ".tmp.") != NULL;
    closedir(d);
    return n;
}

static int file_type(const char *path)
{
    struct stat sb;
    return lstat(path, &sb) == 0 ? (int)(sb.st_mode & S_IFMT) : 0;
}

/* A pid that no process has: a child that has exited and been reaped. */
static long dead_pid(void)
{
    pid_t pid = fork();
    if (pid == 0) _exit(0);
    waitpid(pid, NULL, 0);
    return (long)pid;
}

static void test_reader(void)
{
    uint8_t *bytes;
    size_t size;
    write_bytes(at("ten"), "0123456789", 10);
    CHECK_OK(mco_read_file(at("ten"), 10, &bytes, &size));
    CHECK(size == 10 && memcmp(bytes, "0123456789", 10) == 0 && bytes[10] == '\0');
    free(bytes);
    CHECK(mco_read_file(at("ten"), 9, &bytes, &size) == MCO_ERR_RANGE && bytes == NULL);
    CHECK(contains(mco_last_error(), "ten: file too large") && contains(mco_last_error(), "at most 9"));

    write_bytes(at("empty"), "", 0);
    char *text = NULL;
    CHECK_OK(mco_read_text_file(at("empty"), 0, &text));
    CHECK(text != NULL && text[0] == '\0');
    free(text);

    CHECK(mkdir(at("x.json"), 0777) == 0);
    CHECK(mco_read_file(at("x.json"), 1 << 20, &bytes, &size) == MCO_ERR_IO);
    CHECK(contains(mco_last_error(), "x.json: is a directory, not a regular file"));

    CHECK(mkfifo(at("fifo"), 0666) == 0);   /* no writer: a blocking open would hang here */
    CHECK(mco_read_file(at("fifo"), 1 << 20, &bytes, &size) == MCO_ERR_IO);
    CHECK(contains(mco_last_error(), "fifo: is a FIFO"));

    CHECK(mco_read_file(at("missing"), 1 << 20, &bytes, &size) == MCO_ERR_IO);
    CHECK(contains(mco_last_error(), "missing: cannot open: No such file"));
}

/* The file writer, with the temporary file unnamed (O_TMPFILE) or named. */
static void test_writer(int named)
{
    char out[512];
    snprintf(out, sizeof out, "%s", at("out.bin"));
    unlink(out);
    mco_output_file f;
    CHECK_OK(mco_output_open_named(&f, out, named));
    fputs("first", f.f);
    CHECK(file_type(out) == 0);   /* nothing at the path before the commit */
    CHECK(count_temporaries(dir) == (named ? 1 : 0));
    CHECK_OK(mco_output_commit(&f));
    CHECK(holds(out, "first") && count_temporaries(dir) == 0);

    CHECK_OK(mco_output_open_named(&f, out, named));   /* replacing a regular file */
    fputs("second", f.f);
    CHECK_OK(mco_output_commit(&f));
    CHECK(holds(out, "second") && count_temporaries(dir) == 0);

    CHECK_OK(mco_output_open_named(&f, out, named));   /* an abort leaves the old file */
    fputs("third", f.f);
    mco_output_abort(&f);
    CHECK(holds(out, "second") && count_temporaries(dir) == 0);

    /* Things that are not regular files are refused and left as they were. */
    CHECK(mco_write_file_atomic(at("fifo"), "x", 1) == MCO_ERR_IO);
    CHECK(contains(mco_last_error(), "fifo: exists and is a FIFO, not a regular file; refusing"));
    CHECK(file_type(at("fifo")) == S_IFIFO);
    write_bytes(at("target"), "precious", 8);
    unlink(at("link"));
    CHECK(symlink("target", at("link")) == 0);
    CHECK(mco_write_file_atomic(at("link"), "x", 1) == MCO_ERR_IO);
    CHECK(contains(mco_last_error(), "link: exists and is a symbolic link"));
    CHECK(file_type(at("link")) == S_IFLNK && holds(at("target"), "precious"));
    CHECK(mco_write_file_atomic(at("x.json"), "x", 1) == MCO_ERR_IO);
    CHECK(contains(mco_last_error(), "x.json: exists and is a directory"));
    CHECK(file_type(at("x.json")) == S_IFDIR);
    CHECK(mco_write_file_atomic(at("no-such-dir/f"), "x", 1) == MCO_ERR_IO);
    CHECK(contains(mco_last_error(), "no-such-dir/f: cannot create a file in"));
    CHECK(count_temporaries(dir) == 0);

    /* A stale temporary of a dead process goes; one of a live process, or
     * whose lock is held (a reused pid, another pid namespace), stays. */
    char name[128];
    snprintf(name, sizeof name, ".out.bin.tmp.%ld", dead_pid());
    write_bytes(at(name), "stale", 5);
    char live[128];
    snprintf(live, sizeof live, ".out.bin.tmp.%ld", (long)getppid());
    write_bytes(at(live), "live", 4);
    char locked[128];
    snprintf(locked, sizeof locked, ".out.bin.tmp.%ld", dead_pid());
    write_bytes(at(locked), "locked", 6);
    int lock_fd = open(at(locked), O_RDONLY);
    CHECK(lock_fd >= 0 && flock(lock_fd, LOCK_EX) == 0);
    CHECK_OK(mco_write_file_atomic(out, "fourth", 6));
    CHECK(holds(out, "fourth"));
    CHECK(file_type(at(name)) == 0);
    CHECK(holds(at(live), "live") && holds(at(locked), "locked"));
    close(lock_fd);
    unlink(at(live));
    unlink(at(locked));
}

static void test_append(void)
{
    FILE *f;
    write_bytes(at("cache.tsv"), "a\n", 2);
    CHECK_OK(mco_output_append(at("cache.tsv"), &f));
    if (f) {
        fputs("b\n", f);
        fclose(f);
    }
    CHECK(holds(at("cache.tsv"), "a\nb\n"));
    CHECK(mco_output_append(at("fifo"), &f) == MCO_ERR_IO && f == NULL);   /* no reader: must not block */
    CHECK(mco_output_append(at("link"), &f) == MCO_ERR_IO && f == NULL);
    CHECK(holds(at("target"), "precious"));
}

static void test_directory(void)
{
    /* A new directory: staged beside it, renamed into place at the commit. */
    char code[512];
    snprintf(code, sizeof code, "%s", at("code"));
    mco_output_dir d;
    CHECK_OK(mco_output_dir_begin(&d, code));
    CHECK(file_type(code) == 0 && file_type(d.stage) == S_IFDIR && !d.merge);
    char path[600];
    snprintf(path, sizeof path, "%s/model.h", d.stage);
    CHECK_OK(mco_write_file_atomic(path, "h1", 2));
    mco_error(MCO_ERR_IO, "%s/model.c: write failed", d.stage);   /* an error under the stage ... */
    mco_output_dir_abort(&d);
    CHECK(file_type(code) == 0 && count_temporaries(dir) == 0);
    snprintf(path, sizeof path, "%s/model.c: write failed", code);   /* ... names the final path */
    CHECK(strcmp(mco_last_error(), path) == 0);

    CHECK_OK(mco_output_dir_begin(&d, code));
    snprintf(path, sizeof path, "%s/model.h", d.stage);
    CHECK_OK(mco_write_file_atomic(path, "h1", 2));
    snprintf(path, sizeof path, "%s/sub", d.stage);
    CHECK(mkdir(path, 0777) == 0);
    snprintf(path, sizeof path, "%s/sub/a.c", d.stage);
    CHECK_OK(mco_write_file_atomic(path, "a1", 2));
    CHECK_OK(mco_output_dir_commit(&d));
    snprintf(path, sizeof path, "%s/sub/a.c", code);
    CHECK(holds(at("code/model.h"), "h1") && holds(path, "a1") && count_temporaries(dir) == 0);

    /* An existing directory: staged inside it, entries moved in; what else is there stays. */
    write_bytes(at("code/mine.txt"), "keep", 4);
    CHECK_OK(mco_output_dir_begin(&d, code));
    CHECK(d.merge);
    snprintf(path, sizeof path, "%s/model.h", d.stage);
    CHECK_OK(mco_write_file_atomic(path, "h2", 2));
    snprintf(path, sizeof path, "%s/sub", d.stage);
    CHECK(mkdir(path, 0777) == 0);
    snprintf(path, sizeof path, "%s/sub/a.c", d.stage);
    CHECK_OK(mco_write_file_atomic(path, "a2", 2));
    CHECK_OK(mco_output_dir_commit(&d));
    snprintf(path, sizeof path, "%s/sub/a.c", code);
    CHECK(holds(at("code/model.h"), "h2") && holds(path, "a2") && holds(at("code/mine.txt"), "keep"));
    CHECK(count_temporaries(code) == 0);

    /* A commit that would replace a FIFO fails before moving anything. */
    CHECK(mkfifo(at("code/model.c"), 0666) == 0);
    CHECK_OK(mco_output_dir_begin(&d, code));
    snprintf(path, sizeof path, "%s/model.h", d.stage);
    CHECK_OK(mco_write_file_atomic(path, "h3", 2));
    snprintf(path, sizeof path, "%s/model.c", d.stage);
    CHECK_OK(mco_write_file_atomic(path, "c3", 2));
    CHECK(mco_output_dir_commit(&d) == MCO_ERR_IO);
    CHECK(contains(mco_last_error(), "code/model.c: exists and is a FIFO"));
    CHECK(holds(at("code/model.h"), "h2") && file_type(at("code/model.c")) == S_IFIFO);
    CHECK(count_temporaries(code) == 0);

    /* A file where the directory should go is refused; so is a stale stage of a dead run removed. */
    CHECK(mco_output_dir_begin(&d, at("ten")) == MCO_ERR_IO);
    CHECK(contains(mco_last_error(), "ten: exists and is a regular file, not a directory"));
    char stale[128];
    snprintf(stale, sizeof stale, ".new.tmp.%ld", dead_pid());
    CHECK(mkdir(at(stale), 0777) == 0);
    snprintf(path, sizeof path, "%s/%s/model.c", dir, stale);
    write_bytes(path, "old", 3);
    CHECK_OK(mco_output_dir_begin(&d, at("new")));
    CHECK(file_type(at(stale)) == 0);
    mco_output_dir_abort(&d);
    CHECK(count_temporaries(dir) == 0);
}

int main(void)
{
    CHECK(mkdtemp(dir) != NULL);
    test_reader();
    test_writer(0);
    test_writer(1);
    test_append();
    test_directory();
    mco_remove_tree(dir);
    TEST_MAIN_END();
}
