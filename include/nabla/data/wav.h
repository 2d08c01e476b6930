// WAV audio files (RIFF/WAVE): integer PCM of 8, 16, 24 or 32 bits and IEEE float of 32 or
// 64 bits, any number of channels.
//
//   nd::Audio a = nd::read_wav("speech.wav");   // a.samples float32 (channels, frames)
//   nd::write_wav("copy.wav", a.samples, a.sample_rate);
#pragma once
#include <cstdint>
#include <string>

#include "nabla/tensor.h"

namespace nabla::data {

struct Audio {
  Tensor samples;  // float32 (channels, frames)
  int64_t sample_rate = 0;
};

// Integer samples are scaled to [-1, 1) by 2^(bits-1) (8-bit data is unsigned, centred on
// 128); float samples are returned as stored (values beyond [-1, 1] are kept). Chunks other
// than "fmt " and "data" (LIST, fact, ...) are skipped; WAVE_FORMAT_EXTENSIBLE headers are
// read through their sub-format. IOError naming the file and the fault for a missing file, a
// header that is not RIFF/WAVE, an unsupported format, or data that ends before its chunk
// says: `WAV: a.wav: "data" chunk says 88200 bytes but file ends at byte 1044`.
Audio read_wav(const std::string& path);

enum class WavFormat { pcm8, pcm16, pcm24, pcm32, float32 };

// Writes (channels, frames) samples — or (frames) for mono — of any float dtype, atomically
// (readers never see a half-written file). Integer formats clamp to [-1, 1] and round to the
// nearest step of 2^-(bits-1), so read_wav(write_wav(x)) returns x to within half a step.
// ValueError for a sample rate that is not positive, NaN samples or a file over 4 GiB;
// ShapeError for tensors that are not 1-d or 2-d; DTypeError for non-float samples; IOError
// when the file cannot be written.
void write_wav(const std::string& path, const Tensor& samples, int64_t sample_rate,
               WavFormat format = WavFormat::pcm16);

}  // namespace nabla::data
