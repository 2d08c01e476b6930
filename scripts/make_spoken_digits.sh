#!/usr/bin/env bash
# Synthesises the spoken-digit data set of examples/spoken_digits with espeak-ng (Debian's
# espeak-ng package): the words "zero".."nine" spoken by many voices (an English accent plus
# a voice variant), each word REPS times at a random speed and pitch, as 22050 Hz WAV files
#   OUT_DIR/<accent>+<variant>/<digit>_<rep>.wav
# Existing files are kept, so a second run only fills gaps. Speeds and pitches are drawn
# from a fixed seed per voice, so every machine makes the same set.
#   scripts/make_spoken_digits.sh OUT_DIR [REPS] [full|small]
set -euo pipefail
out=${1:?usage: make_spoken_digits.sh OUT_DIR [REPS] [full|small]}
reps=${2:-3}
size=${3:-full}
command -v espeak-ng >/dev/null || { echo "espeak-ng is not installed (apt-get install espeak-ng)" >&2; exit 1; }

words=(zero one two three four five six seven eight nine)
if [ "$size" = small ]; then
  accents=(en-us en)
  variants=(m1 m3 f1 f2 m7 f4)
else
  accents=(en-us en en-gb-scotland en-gb-x-rp en-029 en-us-nyc)
  variants=(m1 m2 m3 m4 m5 m6 f1 f2 f3 klatt m7 m8 f4 f5 klatt2)
fi

# One voice: its words, REPS times each.
make_voice() {
  local voice=$1 dir=$out/$1 seed
  seed=$(printf '%s' "$voice" | cksum | cut -d' ' -f1)
  RANDOM=$((seed % 32768))
  mkdir -p "$dir"
  for ((r = 0; r < reps; ++r)); do
    for d in 0 1 2 3 4 5 6 7 8 9; do
      local speed=$((120 + RANDOM % 100)) pitch=$((20 + RANDOM % 61)) f=$dir/${d}_${r}.wav
      [ -s "$f" ] && continue
      espeak-ng -v "$voice" -s "$speed" -p "$pitch" -w "$f.tmp" "${words[$d]}" && mv "$f.tmp" "$f"
    done
  done
}
export -f make_voice
export out reps
words_str="${words[*]}"
export words_str

mkdir -p "$out"
for a in "${accents[@]}"; do
  for v in "${variants[@]}"; do echo "$a+$v"; done
done | xargs -P "$(( $(nproc) * 4 ))" -I{} bash -c 'words=($words_str); make_voice "$1"' _ {}
echo "spoken digits in $out: $(find "$out" -name '*.wav' | wc -l) files"
