"""Values and gradients of PyTorch's FFTs and STFT, and torchaudio's mel filterbank, as JSON.

Each case: the input (float64), the output as torch.view_as_real where complex, and the
gradient of sum(real_view(output) * w) for a fixed weighting w (given too) with respect to the
input (as a real view where complex). torchaudio is not a dependency: melscale_fbanks is
transcribed below from torchaudio 0.13's functional.py. tests/signal/signal_test.cpp runs the
same in nabla.
"""
import json
import math
import torch

torch.manual_seed(0)
torch.set_default_dtype(torch.float64)
cases = {}


def flat(t):
    return {"shape": list(t.shape), "data": t.detach().flatten().tolist()}


def case(name, fn, shape, complex_input=False, extra=None):
    x = (torch.rand(*shape) * 4 - 2).requires_grad_(True)
    xin = torch.view_as_complex(x) if complex_input else x
    out = fn(xin)
    out_r = torch.view_as_real(out) if out.is_complex() else out
    w = torch.rand(out_r.shape) + 0.5
    (out_r * w).sum().backward()
    c = {"input": flat(x), "weight": flat(w), "output": flat(out_r), "grad": x.grad.flatten().tolist()}
    c.update(extra or {})
    cases[name] = c


case("fft", lambda z: torch.fft.fft(z), (3, 10, 2), True)
case("fft_n_dim0_ortho", lambda z: torch.fft.fft(z, n=7, dim=0, norm="ortho"), (5, 3, 2), True)
case("ifft_forward", lambda z: torch.fft.ifft(z, norm="forward"), (2, 13, 2), True)
case("rfft", lambda x: torch.fft.rfft(x), (4, 12))
case("rfft_odd_n", lambda x: torch.fft.rfft(x, n=9, dim=0), (11, 3))
case("irfft", lambda z: torch.fft.irfft(z), (3, 7, 2), True)
case("irfft_n_odd_ortho", lambda z: torch.fft.irfft(z, n=11, norm="ortho"), (2, 4, 2), True)
case("irfft_n_even_crop", lambda z: torch.fft.irfft(z, n=6), (2, 8, 2), True)
win = torch.hann_window(48)
case("stft", lambda x: torch.stft(x, 64, hop_length=16, win_length=48, window=win, center=True,
                                  pad_mode="reflect", return_complex=True), (2, 300))
case("stft_hamming_nocenter_normalized",
     lambda x: torch.stft(x, 32, hop_length=10, window=torch.hamming_window(32), center=False,
                          normalized=True, return_complex=True), (1, 150))
case("stft_twosided", lambda x: torch.stft(x, 16, hop_length=4, window=torch.hann_window(16),
                                           onesided=False, return_complex=True), (1, 50))

windows = {
    "hann_periodic": torch.hann_window(10).tolist(),
    "hann_symmetric": torch.hann_window(10, periodic=False).tolist(),
    "hamming_periodic": torch.hamming_window(9).tolist(),
    "hamming_symmetric": torch.hamming_window(9, periodic=False).tolist(),
}


def _hz_to_mel(freq, mel_scale="htk"):
    if mel_scale == "htk":
        return 2595.0 * math.log10(1.0 + (freq / 700.0))
    f_min, f_sp = 0.0, 200.0 / 3
    mels = (freq - f_min) / f_sp
    min_log_hz = 1000.0
    min_log_mel = (min_log_hz - f_min) / f_sp
    logstep = math.log(6.4) / 27.0
    if freq >= min_log_hz:
        mels = min_log_mel + math.log(freq / min_log_hz) / logstep
    return mels


def _mel_to_hz(mels, mel_scale="htk"):
    if mel_scale == "htk":
        return 700.0 * (10.0 ** (mels / 2595.0) - 1.0)
    f_min, f_sp = 0.0, 200.0 / 3
    freqs = f_min + f_sp * mels
    min_log_hz = 1000.0
    min_log_mel = (min_log_hz - f_min) / f_sp
    logstep = math.log(6.4) / 27.0
    log_t = mels >= min_log_mel
    freqs[log_t] = min_log_hz * torch.exp(logstep * (mels[log_t] - min_log_mel))
    return freqs


def melscale_fbanks(n_freqs, f_min, f_max, n_mels, sample_rate, norm=None, mel_scale="htk"):
    all_freqs = torch.linspace(0, sample_rate // 2, n_freqs)
    m_min = _hz_to_mel(f_min, mel_scale=mel_scale)
    m_max = _hz_to_mel(f_max, mel_scale=mel_scale)
    m_pts = torch.linspace(m_min, m_max, n_mels + 2)
    f_pts = _mel_to_hz(m_pts, mel_scale=mel_scale)
    f_diff = f_pts[1:] - f_pts[:-1]
    slopes = f_pts.unsqueeze(0) - all_freqs.unsqueeze(1)
    zero = torch.zeros(1)
    down_slopes = (-1.0 * slopes[:, :-2]) / f_diff[:-1]
    up_slopes = slopes[:, 2:] / f_diff[1:]
    fb = torch.max(zero, torch.min(down_slopes, up_slopes))
    if norm is not None and norm == "slaney":
        enorm = 2.0 / (f_pts[2: n_mels + 2] - f_pts[:n_mels])
        fb *= enorm.unsqueeze(0)
    return fb


mel = {
    "htk": flat(melscale_fbanks(201, 0.0, 8000.0, 40, 16000)),
    "slaney_norm": flat(melscale_fbanks(257, 20.0, 7600.0, 64, 16000, norm="slaney", mel_scale="slaney")),
}

print(json.dumps({"cases": cases, "windows": windows, "mel": mel}))
