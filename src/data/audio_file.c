/*
 * audio_file.c - one WAV file decoded into a clip of 16-bit PCM at the
 * model's sample rate (see data.h, mco_audio_read): libsndfile reads it
 * (from the file, or from memory through sf_open_virtual), libsamplerate
 * resamples it when its rate differs, and the clip is cut or zero-padded
 * to the length asked for.
 *
 * Checked before anything large is read, each refusal one line naming the
 * file: libsndfile must recognise it as WAV (RIFF, WAVE_FORMAT_EXTENSIBLE
 * or RF64), mono, 16-, 24- or 32-bit PCM or float, at 1 to 384 kHz, within
 * libsamplerate's ratio of 256 of the model's rate, and hold the samples
 * its data chunk declares (libsndfile reads a truncated file silently, so
 * the declared size is compared with what is there).
 *
 * mco_audio_read_whole reads a whole file (the background noise of
 * augmentation), as long as it is at the model's rate, up to a cap.
 *
 * What it leaves out: other containers libsndfile knows (FLAC, Ogg,
 * AIFF...), multi-channel mixing, and reading past what the clip needs
 * (a long file is read only as far as the clip reaches).
 */
#include "audio_file.h"

#include <samplerate.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AUDIO_MAX_RATE 384000
#define AUDIO_MAX_FRAMES ((sf_count_t)1 << 24)   /* 16.7 M samples read at most (64 MB of floats) */

/* ---- Reading from memory (sf_open_virtual) -------------------------------------- */

typedef struct {
    const unsigned char *data;
    sf_count_t size, pos;
} memory_file;

static sf_count_t mem_length(void *user)
{
    return ((memory_file *)user)->size;
}

static sf_count_t mem_seek(sf_count_t offset, int whence, void *user)
{
    memory_file *m = user;
    sf_count_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? m->pos : m->size;
    if (offset > m->size || offset < -m->size) return -1;
    sf_count_t pos = base + offset;
    if (pos < 0 || pos > m->size) return -1;
    m->pos = pos;
    return pos;
}

static sf_count_t mem_read(void *ptr, sf_count_t count, void *user)
{
    memory_file *m = user;
    if (count < 0) return 0;
    if (count > m->size - m->pos) count = m->size - m->pos;
    memcpy(ptr, m->data + m->pos, (size_t)count);
    m->pos += count;
    return count;
}

static sf_count_t mem_write(const void *ptr, sf_count_t count, void *user)
{
    (void)ptr;
    (void)count;
    (void)user;
    return 0;
}

static sf_count_t mem_tell(void *user)
{
    return ((memory_file *)user)->pos;
}

/* ---- Checking and decoding ------------------------------------------------------ */

/* Bytes per sample of a subtype mcuopt reads, or 0. */
static int sample_bytes(int subtype)
{
    switch (subtype) {
    case SF_FORMAT_PCM_16: return 2;
    case SF_FORMAT_PCM_24: return 3;
    case SF_FORMAT_PCM_32: return 4;
    case SF_FORMAT_FLOAT: return 4;
    case SF_FORMAT_DOUBLE: return 8;
    default: return 0;
    }
}

static mco_status check_format(SNDFILE *f, const SF_INFO *info, const char *name, int rate)
{
    int type = info->format & SF_FORMAT_TYPEMASK, subtype = info->format & SF_FORMAT_SUBMASK;
    if (type != SF_FORMAT_WAV && type != SF_FORMAT_WAVEX && type != SF_FORMAT_RF64)
        return mco_error(MCO_ERR_FORMAT, "%s: not a WAV file (libsndfile reads it as another audio format)", name);
    if (subtype == SF_FORMAT_PCM_U8 || subtype == SF_FORMAT_PCM_S8)
        return mco_error(MCO_ERR_FORMAT, "%s: 8-bit samples; mcuopt reads 16-, 24- or 32-bit PCM or float WAV "
                         "(convert it: sox IN -b 16 OUT)", name);
    if (!sample_bytes(subtype))
        return mco_error(MCO_ERR_FORMAT, "%s: sample encoding 0x%04x (compressed or unusual); mcuopt reads 16-, 24- "
                         "or 32-bit PCM or float WAV (convert it: sox IN -b 16 OUT)", name, subtype);
    if (info->channels != 1)
        return mco_error(MCO_ERR_FORMAT, "%s: %d channels; mcuopt reads mono WAV files (mix down: sox IN -c 1 OUT)",
                         name, info->channels);
    if (info->samplerate < 1000 || info->samplerate > AUDIO_MAX_RATE)
        return mco_error(MCO_ERR_FORMAT, "%s: sample rate %d Hz outside 1000 to %d Hz", name, info->samplerate,
                         AUDIO_MAX_RATE);
    if ((double)info->samplerate > 256.0 * rate || (double)rate > 256.0 * info->samplerate)
        return mco_error(MCO_ERR_FORMAT, "%s: sample rate %d Hz is more than 256 times from the model's %d Hz "
                         "(libsamplerate's limit)", name, info->samplerate, rate);
    if (info->frames <= 0) return mco_error(MCO_ERR_FORMAT, "%s: no samples", name);
    /* the data chunk's declared size against what libsndfile found */
    SF_CHUNK_INFO chunk;
    memset(&chunk, 0, sizeof chunk);
    memcpy(chunk.id, "data", 5);
    chunk.id_size = 4;
    SF_CHUNK_ITERATOR *it = type == SF_FORMAT_RF64 ? NULL : sf_get_chunk_iterator(f, &chunk);
    if (it && sf_get_chunk_size(it, &chunk) == SF_ERR_NO_ERROR && chunk.datalen != 0xffffffffu) {
        sf_count_t declared = (sf_count_t)chunk.datalen / sample_bytes(subtype);
        if (declared > info->frames)
            return mco_error(MCO_ERR_FORMAT, "%s: truncated (its data chunk declares %lld samples, the file holds %lld)",
                             name, (long long)declared, (long long)info->frames);
    }
    return MCO_OK;
}

static int16_t to_pcm16(float x)
{
    float v = x * 32768.0f;
    if (v != v) return 0;   /* NaN in a float file */
    if (v >= 32767.0f) return 32767;
    if (v <= -32768.0f) return -32768;
    return (int16_t)(v >= 0.0f ? v + 0.5f : v - 0.5f);
}

/* Decodes the opened file into out[0..n_samples): resampled to `rate`,
 * cut or zero-padded. */
static mco_status decode(SNDFILE *f, const SF_INFO *info, const char *name, int rate, int n_samples, int16_t *out)
{
    mco_status st = check_format(f, info, name, rate);
    if (st != MCO_OK) return st;
    double ratio = (double)rate / info->samplerate;
    /* the input the clip needs, with a margin for the resampler's filter */
    sf_count_t need = info->samplerate == rate ? n_samples : (sf_count_t)((double)n_samples / ratio) + 64;
    if (need > info->frames) need = info->frames;
    if (need > AUDIO_MAX_FRAMES) need = AUDIO_MAX_FRAMES;
    float *in = malloc((size_t)need * sizeof *in), *res = NULL;
    if (!in) return mco_error(MCO_ERR_NOMEM, "%s: cannot allocate %lld samples", name, (long long)need);
    sf_count_t got = sf_readf_float(f, in, need);
    const float *pcm = in;
    long produced = (long)got;
    if (got != need) {
        st = mco_error(MCO_ERR_FORMAT, "%s: truncated or corrupt (read %lld of %lld samples: %s)", name,
                       (long long)got, (long long)need, sf_strerror(f));
    } else if (info->samplerate != rate) {
        long room = (long)n_samples + 1;
        res = malloc((size_t)room * sizeof *res);
        if (!res) {
            st = mco_error(MCO_ERR_NOMEM, "%s: cannot allocate %ld samples", name, room);
        } else {
            SRC_DATA d = {0};
            d.data_in = in;
            d.data_out = res;
            d.input_frames = (long)got;
            d.output_frames = room;
            d.src_ratio = ratio;
            d.end_of_input = 1;
            int err = src_simple(&d, SRC_SINC_MEDIUM_QUALITY, 1);
            if (err) st = mco_error(MCO_ERR_FORMAT, "%s: resampling from %d Hz to %d Hz: %s", name, info->samplerate,
                                    rate, src_strerror(err));
            pcm = res;
            produced = d.output_frames_gen;
        }
    }
    if (st == MCO_OK) {
        long n = produced < n_samples ? produced : n_samples;
        for (long i = 0; i < n; i++) out[i] = to_pcm16(pcm[i]);
        memset(out + n, 0, (size_t)(n_samples - n) * sizeof *out);
    }
    free(in);
    free(res);
    return st;
}

static mco_status check_request(const char *name, int rate, int n_samples, const int16_t *out)
{
    if (rate < 1000 || rate > 192000 || n_samples < 1 || n_samples > 16 * 192000 || !out)
        return mco_error(MCO_ERR_ARG, "%s: a clip of %d samples at %d Hz cannot be read", name, n_samples, rate);
    return MCO_OK;
}

mco_status mco_audio_decode(const void *data, size_t size, const char *name, int rate, int n_samples, int16_t *out)
{
    mco_status st = check_request(name, rate, n_samples, out);
    if (st != MCO_OK) return st;
    memory_file m = {data, (sf_count_t)size, 0};
    SF_VIRTUAL_IO io = {mem_length, mem_seek, mem_read, mem_write, mem_tell};
    SF_INFO info;
    memset(&info, 0, sizeof info);
    SNDFILE *f = sf_open_virtual(&io, SFM_READ, &info, &m);
    if (!f) return mco_error(MCO_ERR_FORMAT, "%s: not a WAV file libsndfile can read (%s)", name, sf_strerror(NULL));
    st = decode(f, &info, name, rate, n_samples, out);
    sf_close(f);
    return st;
}

mco_status mco_audio_read(const char *path, int rate, int n_samples, int16_t *out)
{
    mco_status st = check_request(path, rate, n_samples, out);
    if (st != MCO_OK) return st;
    SF_INFO info;
    memset(&info, 0, sizeof info);
    SNDFILE *f = sf_open(path, SFM_READ, &info);
    if (!f) return mco_error(MCO_ERR_FORMAT, "%s: not a WAV file libsndfile can read (%s)", path, sf_strerror(NULL));
    st = decode(f, &info, path, rate, n_samples, out);
    sf_close(f);
    return st;
}

mco_status mco_audio_read_whole(const char *path, int rate, size_t max_samples, int16_t **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    int16_t probe;
    mco_status st = check_request(path, rate, 1, &probe);
    if (st != MCO_OK) return st;
    SF_INFO info;
    memset(&info, 0, sizeof info);
    SNDFILE *f = sf_open(path, SFM_READ, &info);
    if (!f) return mco_error(MCO_ERR_FORMAT, "%s: not a WAV file libsndfile can read (%s)", path, sf_strerror(NULL));
    if ((st = check_format(f, &info, path, rate)) == MCO_OK) {
        double length = (double)info.frames * rate / info.samplerate;
        size_t want = length >= (double)max_samples ? max_samples : (size_t)length;
        if (want < 1) want = 1;
        *out = malloc(want * sizeof **out);
        if (!*out) st = mco_error(MCO_ERR_NOMEM, "%s: cannot allocate %zu samples", path, want);
        else if ((st = decode(f, &info, path, rate, (int)want, *out)) == MCO_OK) *n = want;
    }
    sf_close(f);
    if (st != MCO_OK) {
        free(*out);
        *out = NULL;
    }
    return st;
}
