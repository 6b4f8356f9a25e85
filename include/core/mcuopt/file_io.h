/*
 * file_io.h - the library's one way to read a file and its one way to write
 * an output (a file or a directory), used by every loader and every writer.
 *
 * Reading: mco_read_file() reads a whole regular file into memory, refusing
 * a directory, a FIFO or device (which could block or never end) and a file
 * larger than a cap the caller gives, with one error line naming the path.
 *
 * Writing one file: mco_output_open() .. mco_output_commit() write through a
 * temporary file in the same directory and rename it over the path, so a
 * reader sees the old file or the whole new one, never half of it:
 *
 *     mco_output_file out;
 *     mco_status st = mco_output_open(&out, path);
 *     if (st != MCO_OK) return st;
 *     fprintf(out.f, ...);
 *     return mco_output_commit(&out);       (or mco_output_abort(&out))
 *
 * Writing a directory: mco_output_dir_begin() .. mco_output_dir_commit():
 * everything is written under d.stage (a temporary directory beside or
 * inside the path), and only a commit puts it in place, so a command that
 * fails (a full disk, an error half-way) leaves no partial directory.
 *
 * Both refuse a path that exists and is something else than what they write
 * (a FIFO, device, symlink or directory where a file goes; a file where a
 * directory goes): such a path is never replaced. Temporary names are
 * ".NAME.tmp.PID" beside NAME; those of a process that died (kill -9) are
 * removed by the next open of the same path. src/core/safe_output.c
 * explains how.
 *
 * What it leaves out: reading from pipes or stdin, keeping the mode or owner
 * of a file it replaces, and fsync of directories (a power cut may lose the
 * new name, but never leaves a half-written file under it).
 */
#ifndef MCUOPT_FILE_IO_H
#define MCUOPT_FILE_IO_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mcuopt/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Caps for mco_read_file: hand-written text (MCU profiles, architecture and
 * pipeline files, runtime sources), and what programs write (tool logs,
 * instruction counts, resource-model tables). Model files have their own. */
#define MCO_READ_TEXT_MAX ((size_t)1 << 20)
#define MCO_READ_GENERATED_MAX ((size_t)64 << 20)

/* Reads all of the regular file `path` into a malloc'd buffer (*bytes, freed
 * by the caller) of *size bytes, followed by a '\0' that *size does not
 * count (so text can be used as a C string; an empty file gives ""). Fails
 * with MCO_ERR_IO if the path cannot be opened or read or is not a regular
 * file, MCO_ERR_RANGE if it holds more than `max_size` bytes. */
mco_status mco_read_file(const char *path, size_t max_size, uint8_t **bytes, size_t *size);

/* A model file read and decoded: mco_read_file(path, max_size), then
 * decode(bytes, size, path, out), the bytes freed. A file above the cap is
 * MCO_ERR_FORMAT (too big to be such a model; the message names the path
 * and the cap). The one reader of every model format (.mco, .mcq, ONNX,
 * TFLite), each decode a small wrapper of its *_bytes function. */
typedef mco_status (*mco_decode_fn)(const uint8_t *bytes, size_t size, const char *origin, void *out);
mco_status mco_read_model_file(const char *path, size_t max_size, mco_decode_fn decode, void *out);

/* The same for text: *text is '\0'-terminated. */
mco_status mco_read_text_file(const char *path, size_t max_size, char **text);

/* One output file being written. Write to `f` only; the rest is private. */
typedef struct {
    FILE *f;
    char *path;       /* the final path */
    char *tmp_path;   /* the temporary file's name ".NAME.tmp.PID" in the same directory */
    int named;        /* 0 while the temporary file has no name yet (O_TMPFILE) */
} mco_output_file;

/* Checks `path` (absent or a regular file), removes stale temporaries of it,
 * and opens a new temporary file in its directory. */
mco_status mco_output_open(mco_output_file *out, const char *path);

/* Flushes and syncs the temporary file and renames it over the path. On
 * any failure the temporary file is removed and the path left as it was.
 * Always releases `out`. */
mco_status mco_output_commit(mco_output_file *out);

/* Closes and removes the temporary file; the path is left as it was. */
void mco_output_abort(mco_output_file *out);

/* Writes `size` bytes to `path`: mco_output_open, fwrite, mco_output_commit. */
mco_status mco_write_file_atomic(const char *path, const void *data, size_t size);

/* Opens `path` for appending (created if absent) into *f, for a cache or
 * log that can lose part of its last line on a full disk; anything but a
 * regular file (a FIFO, device, symlink, directory) is refused. */
mco_status mco_output_append(const char *path, FILE **f);

/* One output directory being written. Write into `stage` only. */
typedef struct {
    char *path;    /* the final directory */
    char *stage;   /* where its files go until the commit */
    int merge;     /* 1: `path` existed, and stage is inside it */
    int lock_fd;   /* holds a lock on stage, so no other process removes it */
} mco_output_dir;

/* Starts a directory output at `path` (which must be absent or a
 * directory). If it is absent, stage is "PARENT/.NAME.tmp.PID" and the
 * commit renames it to `path`; if it exists, stage is "PATH/.NAME.tmp.PID"
 * and the commit moves its entries into `path`, replacing files of the same
 * name (what else is in `path` stays). */
mco_status mco_output_dir_begin(mco_output_dir *d, const char *path);

/* Puts the staged directory in place. Before moving anything it checks that
 * no entry would replace something of another kind (a file over a
 * directory, a FIFO, a symlink, ...), and fails leaving `path` untouched if
 * one would. Always releases `d` (the stage is removed on failure). */
mco_status mco_output_dir_commit(mco_output_dir *d);

/* Removes the staged directory and everything in it; `path` is left as it was. */
void mco_output_dir_abort(mco_output_dir *d);

#ifdef __cplusplus
}
#endif
#endif
