// Rows for the random ops. Each run draws from a generator in a fixed state; the reference
// re-derives every value from (seed, offset, index) with its own Philox 4x32-10 and the
// counter layout documented in include/nabla/random.h, so a wrong counter, word, bit
// mapping or distribution transform fails the row.
#include <algorithm>
#include <cmath>
#include <numbers>

#include "op_table/op_table.h"

namespace nabla::optable {
namespace {

// Counter 2^32 - 3 makes draws cross into the counter's high word; the seed uses both key words.
constexpr uint64_t kSeed = 0x9e3779b97f4a7c15ull, kOffset = (uint64_t(1) << 32) - 3;

Generator fixed_generator() {
  Generator g;
  g.set_state({kSeed, kOffset});
  return g;
}

// Random123's Philox 4x32-10, written from the paper: R = 10 rounds of
// (L0, R0, L1, R1) -> (hi(M1 R1) ^ L1' ... ) with a Weyl-sequence key schedule.
struct RefPhilox {
  static std::array<uint32_t, 4> at(uint64_t counter) {
    std::array<uint32_t, 4> x{uint32_t(counter & 0xffffffffu), uint32_t(counter >> 32), 0, 0};
    uint32_t key[2] = {uint32_t(kSeed & 0xffffffffu), uint32_t(kSeed >> 32)};
    for (int round = 0; round < 10; ++round) {
      uint64_t a = uint64_t(0xD2511F53u) * x[0];
      uint64_t b = uint64_t(0xCD9E8D57u) * x[2];
      std::array<uint32_t, 4> y;
      y[0] = uint32_t(b >> 32) ^ x[1] ^ key[0];
      y[1] = uint32_t(b);
      y[2] = uint32_t(a >> 32) ^ x[3] ^ key[1];
      y[3] = uint32_t(a);
      x = y;
      key[0] += 0x9E3779B9u;
      key[1] += 0xBB67AE85u;
    }
    return x;
  }
  // The 32-bit word for element i of a one-word-per-element draw.
  static uint32_t word(int64_t i) { return at(kOffset + uint64_t(i / 4))[std::size_t(i % 4)]; }
  // The 64-bit value for element i of a two-words-per-element draw.
  static uint64_t word64(int64_t i) {
    auto b = at(kOffset + uint64_t(i / 2));
    std::size_t h = std::size_t(2 * (i % 2));
    return (uint64_t(b[h]) << 32) | b[h + 1];
  }
};

double u24(uint32_t w) { return double(w >> 8) / 16777216.0; }
double u53(uint64_t w) { return double(w >> 11) / 9007199254740992.0; }

// Output of the sample's shape, value f(i) at flat index i.
Ref generate(const Ref& like, const std::function<double(int64_t)>& f) {
  Ref r{like.shape, std::vector<double>(like.v.size())};
  for (std::size_t i = 0; i < r.v.size(); ++i) r.v[i] = f(int64_t(i));
  return r;
}

Ref normal_ref(const Ref& like, double mean, double sd, bool wide) {
  return generate(like, [&](int64_t i) {
    double u1, u2;
    if (wide) {
      u1 = u53(RefPhilox::word64(i - i % 2)) + 1.0 / 9007199254740992.0;
      u2 = u53(RefPhilox::word64(i - i % 2 + 1));
    } else {
      u1 = u24(RefPhilox::word(i - i % 2)) + 1.0 / 16777216.0;
      u2 = u24(RefPhilox::word(i - i % 2 + 1));
    }
    double r = std::sqrt(-2 * std::log(u1)), theta = 2 * std::numbers::pi * u2;
    return mean + sd * (i % 2 == 0 ? r * std::cos(theta) : r * std::sin(theta));
  });
}

// Shapes to draw: 0-d, empty, small, odd-sized and above the threading grain.
std::vector<std::vector<Arg>> shapes() {
  return {{Arg{.shape = {}}},
          {Arg{.shape = {0, 3}}},
          {Arg{.shape = {3, 5}}},
          {Arg{.shape = {7}}},
          {Arg{.shape = {3, 45001}}}};
}

const std::vector<DType> k32 = {float32, float16, bfloat16};

NABLA_OP_ROWS(
    Row{.op = "uniform",
        .samples = shapes(),
        .run =
            [](const std::vector<Tensor>& in) {
              Generator g = fixed_generator();
              return uniform(-1.5, 2.5, in[0].shape(), in[0].dtype(), &g);
            },
        .ref =
            [](const std::vector<Ref>& in) {
              return generate(in[0], [](int64_t i) { return -1.5 + 4 * u24(RefPhilox::word(i)); });
            },
        .dtypes = k32,
        .grad = false},
    Row{.op = "uniform",
        .variant = "float64",
        .samples = shapes(),
        .run =
            [](const std::vector<Tensor>& in) {
              Generator g = fixed_generator();
              return uniform(-1.5, 2.5, in[0].shape(), float64, &g);
            },
        .ref =
            [](const std::vector<Ref>& in) {
              return generate(in[0],
                              [](int64_t i) { return -1.5 + 4 * u53(RefPhilox::word64(i)); });
            },
        .dtypes = {float64},
        .grad = false},
    Row{.op = "uniform",
        .variant = "rand_like",
        .samples = shapes(),
        .run =
            [](const std::vector<Tensor>& in) {
              Generator g = fixed_generator();
              return rand_like(in[0], &g);
            },
        .ref =
            [](const std::vector<Ref>& in) {
              return generate(in[0], [](int64_t i) { return u24(RefPhilox::word(i)); });
            },
        .dtypes = {float32},
        .grad = false},
    Row{.op = "normal",
        .samples = shapes(),
        .run =
            [](const std::vector<Tensor>& in) {
              Generator g = fixed_generator();
              return normal(0.5, 2.0, in[0].shape(), in[0].dtype(), &g);
            },
        .ref = [](const std::vector<Ref>& in) { return normal_ref(in[0], 0.5, 2.0, false); },
        .dtypes = k32,
        .grad = false,
        .tol_scale = 2},
    Row{.op = "normal",
        .variant = "float64",
        .samples = shapes(),
        .run =
            [](const std::vector<Tensor>& in) {
              Generator g = fixed_generator();
              return randn_like(in[0], &g);
            },
        .ref = [](const std::vector<Ref>& in) { return normal_ref(in[0], 0.0, 1.0, true); },
        .dtypes = {float64},
        .grad = false,
        .tol_scale = 10},
    Row{.op = "randint",
        .samples = shapes(),
        .run =
            [](const std::vector<Tensor>& in) {
              Generator g = fixed_generator();
              return randint(-20, 100, in[0].shape(), in[0].dtype(), &g);
            },
        .ref =
            [](const std::vector<Ref>& in) {
              return generate(in[0], [](int64_t i) {
                return -20.0 + double((uint64_t(RefPhilox::word(i)) * 120u) >> 32);
              });
            },
        .dtypes = {int64, int32, int8, float32, float64},
        .grad = false},
    Row{.op = "randint",
        .variant = "wide",
        .samples = shapes(),
        .run =
            [](const std::vector<Tensor>& in) {
              Generator g = fixed_generator();
              return randint(-(int64_t(1) << 40), int64_t(1) << 41, in[0].shape(), int64, &g);
            },
        .ref =
            [](const std::vector<Ref>& in) {
              return generate(in[0], [](int64_t i) {
                unsigned __int128 range = uint64_t(3) << 40;
                return double(-(int64_t(1) << 40) + int64_t((RefPhilox::word64(i) * range) >> 64));
              });
            },
        .dtypes = {int64},
        .grad = false},
    Row{.op = "bernoulli",
        .samples = {{Arg{.shape = {}, .lo = 0, .hi = 1}},
                    {Arg{.shape = {0}, .lo = 0, .hi = 1}},
                    {Arg{.shape = {4, 6}, .non_contiguous = true, .lo = 0, .hi = 1}},
                    {Arg{.shape = {50001}, .lo = 0, .hi = 1}}},
        .run =
            [](const std::vector<Tensor>& in) {
              Generator g = fixed_generator();
              return bernoulli(in[0], &g);
            },
        .ref =
            [](const std::vector<Ref>& in) {
              return generate(in[0], [&](int64_t i) {
                return double(RefPhilox::word(i)) / 4294967296.0 < in[0].v[std::size_t(i)] ? 1.0
                                                                                           : 0.0;
              });
            },
        .dtypes = {float32, float64, float16, bfloat16},
        .grad = false},
    Row{.op = "bernoulli",
        .variant = "scalar",
        .samples = shapes(),
        .run =
            [](const std::vector<Tensor>& in) {
              Generator g = fixed_generator();
              return bernoulli(0.3, in[0].shape(), in[0].dtype(), &g);
            },
        .ref =
            [](const std::vector<Ref>& in) {
              return generate(in[0], [](int64_t i) {
                return double(RefPhilox::word(i)) / 4294967296.0 < 0.3 ? 1.0 : 0.0;
              });
            },
        .dtypes = {float32, bool_, uint8, int64},
        .grad = false},
    Row{.op = "permutation",
        .samples = {{Arg{.shape = {0}}},
                    {Arg{.shape = {1}}},
                    {Arg{.shape = {17}}},
                    {Arg{.shape = {40001}}}},
        .run =
            [](const std::vector<Tensor>& in) {
              Generator g = fixed_generator();
              return permutation(in[0].numel(), in[0].dtype(), &g);
            },
        .ref =
            [](const std::vector<Ref>& in) {
              std::vector<int64_t> order(in[0].v.size());
              std::vector<uint64_t> key(order.size());
              for (std::size_t i = 0; i < order.size(); ++i) {
                order[i] = int64_t(i);
                key[i] = RefPhilox::word64(int64_t(i));
              }
              std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
                return key[std::size_t(a)] < key[std::size_t(b)];
              });
              return generate(in[0], [&](int64_t i) { return double(order[std::size_t(i)]); });
            },
        .dtypes = {int64, int32},
        .grad = false});

}  // namespace
}  // namespace nabla::optable
