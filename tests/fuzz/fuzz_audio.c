/*
 * fuzz_audio.c - libFuzzer harness for the WAV reader (mco_audio_decode:
 * libsndfile through sf_open_virtual on the input in memory, mcuopt's
 * checks, libsamplerate's resampling, the cut or padding) and the audio
 * front-end after it: the input is decoded as a 1 s clip at 16 kHz (the
 * model's usual rate: no resampling for 16 kHz files), as a 0.1 s clip at
 * 8 kHz (resampling for most files), and each clip that decodes is turned
 * into MFCCs by the runtime (runtime/mco_mfcc.c); the 1 s clip also into
 * the machine-sound features (machine_sounds.c's setting: 128 log-mel bands
 * of 1024-point FFTs every 512 samples, mco_audio_frontend_machine_default
 * for a 1 s clip), the other path the readers take from the same decode.
 *
 * A decode must either succeed or fail with one error line; the sanitizers
 * watch every byte written into the clip buffers, which are exactly the
 * clip's size.
 *
 * What it leaves out: listing folders and the split lists
 * (audio_folder.c, machine_sounds.c: no file format; a machine clip's label
 * comes from its name), cutting frames into windows (a memcpy), and
 * libsndfile's other containers,
 * which mcuopt refuses after libsndfile has parsed them.
 */
#include <stdlib.h>

#include "fuzz_util.h"
#include "mco_mfcc.h"
#include "mcuopt/data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct {
        int rate, n;
    } clips[] = {{16000, 16000}, {8000, 800}};
    static float tables[4096], scratch[MCO_MFCC_MAX_FFT + MCO_MFCC_MAX_MELS], features[49 * 10];
    static mco_mfcc_tables t, machine_t;
    static float *machine_tables, *machine_scratch, *machine_features;
    static int ready;
    mco_mfcc_params p, machine = {16000, 16000, 1024, 512, 1024, 128, 0, 0.0f, 8000.0f};
    mco_mfcc_default(&p);
    if (!ready) {
        if (mco_mfcc_tables_get_buffer_size(&p) > (int32_t)sizeof tables || mco_mfcc_tables_init(&p, tables, &t) != MCO_RT_OK)
            abort();
        machine_tables = malloc((size_t)mco_mfcc_tables_get_buffer_size(&machine));
        machine_scratch = malloc((size_t)mco_mfcc_get_buffer_size(&machine));
        machine_features = malloc((size_t)(mco_mfcc_frames(&machine) * mco_mfcc_frame_values(&machine)) * sizeof(float));
        if (!machine_tables || !machine_scratch || !machine_features ||
            mco_mfcc_tables_init(&machine, machine_tables, &machine_t) != MCO_RT_OK)
            abort();
        ready = 1;
    }
    for (size_t i = 0; i < sizeof clips / sizeof clips[0]; i++) {
        int16_t *clip = malloc((size_t)clips[i].n * sizeof *clip);
        if (!clip) abort();
        mco_status st = mco_audio_decode(data, size, "fuzz.wav", clips[i].rate, clips[i].n, clip);
        fuzz_check_status(st, "mco_audio_decode");
        if (st == MCO_OK && clips[i].n == p.n_samples && mco_mfcc_s16(&p, &t, clip, scratch, features) != MCO_RT_OK)
            abort();
        if (st == MCO_OK && clips[i].n == machine.n_samples &&
            mco_mfcc_s16(&machine, &machine_t, clip, machine_scratch, machine_features) != MCO_RT_OK)
            abort();
        free(clip);
    }
    return 0;
}
