// One-step-ahead forecasting of a real series with an LSTM, evaluated walk-forward against the
// seasonal-naive forecast. Series (CSV files of Debian's python3-statsmodels):
//   sunspots  yearly sunspot numbers 1700-2008; season 11 years (the solar cycle)
//   co2       weekly CO2 at Mauna Loa 1958-2001 (gaps filled by linear interpolation);
//             season 52 weeks
// The last --test-fraction of the series is forecast walk-forward in --folds folds: before
// each fold the model is trained (the first time from scratch, then fine-tuned) on every step
// before the fold, then predicts each step of the fold from the --window true steps before it.
// Values are normalised with the mean and deviation of the first training part only. Writes
// forecast vs truth as an SVG plot.
//   forecast [--series sunspots|co2] [--epochs N] [--refit-epochs N] [--window N] [--hidden N]
//            [--folds N] [--test-fraction X] [--batch-size N] [--lr X] [--seed N]
//            [--data DIR] [--svg FILE]
#include <nabla/data/data.h>
#include <nabla/nabla.h>
#include <nabla/nn/nn.h>
#include <nabla/optim/optimizer.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "../common/flags.h"
#include "svg_plot.h"

namespace nb = nabla;
namespace nn = nabla::nn;
namespace nd = nabla::data;

namespace {

struct Args {
  std::string series = "sunspots";
  int epochs = 60;
  int refit_epochs = 20;
  int64_t window = 0;  // 0: 24 (sunspots) or 104 (co2)
  int64_t hidden = 48;
  int64_t folds = 4;
  double test_fraction = 0.2;
  int64_t batch_size = 32;
  double lr = 5e-3;
  uint64_t seed = 1;
  std::string data = "/usr/lib/python3/dist-packages/statsmodels/datasets";
  std::string svg;  // default: forecast_<series>.svg
};

Args parse(int argc, char** argv) {
  Args a;
  examples::Flags()
      .add("--series", a.series)
      .add("--epochs", a.epochs)
      .add("--refit-epochs", a.refit_epochs)
      .add("--window", a.window)
      .add("--hidden", a.hidden)
      .add("--folds", a.folds)
      .add("--test-fraction", a.test_fraction)
      .add("--batch-size", a.batch_size)
      .add("--lr", a.lr)
      .add("--seed", a.seed)
      .add("--data", a.data)
      .add("--svg", a.svg)
      .parse(argc, argv);
  if (a.series != "sunspots" && a.series != "co2")
    throw nb::ValueError("--series must be sunspots or co2, got " + a.series);
  if (a.folds < 1) throw nb::ValueError("--folds must be >= 1");
  return a;
}

struct Series {
  std::vector<double> values;
  std::vector<double> time;    // in years, for the plot
  std::vector<bool> observed;  // false where a gap was filled (not scored)
  int64_t season;
  std::string name, unit, season_name;
};

Series load(const Args& args) {
  Series s;
  if (args.series == "sunspots") {
    nd::CsvDataset csv(
        args.data + "/sunspots/sunspots.csv",
        {.target = "SUNACTIVITY", .target_type = nd::CsvTarget::regression, .features = {"YEAR"}});
    s.values = csv.targets().to_vector<double>();
    s.time = csv.inputs().to_vector<double>();
    s.observed.assign(s.values.size(), true);
    s.season = 11;
    s.name = "yearly sunspot number";
    s.unit = "sunspots";
    s.season_name = "11 years";
    return s;
  }
  const std::string path = args.data + "/co2/co2.csv";
  // Missing weeks are empty fields: read them as NaN and interpolate between the neighbours.
  nd::CsvDataset csv(
      path, {.features = {"co2"}, .missing = nd::CsvMissing::fill, .fill_value = std::nan("")});
  s.values = csv.inputs().to_vector<double>();
  std::vector<int64_t> known;
  for (int64_t i = 0; i < int64_t(s.values.size()); ++i) {
    s.observed.push_back(!std::isnan(s.values[size_t(i)]));
    if (s.observed.back()) known.push_back(i);
  }
  if (known.empty()) throw nb::ValueError("co2: no values in " + path);
  for (int64_t i = 0; i < int64_t(s.values.size()); ++i) {
    if (!std::isnan(s.values[size_t(i)])) continue;
    auto hi = std::lower_bound(known.begin(), known.end(), i);
    if (hi == known.begin())
      s.values[size_t(i)] = s.values[size_t(*hi)];
    else if (hi == known.end())
      s.values[size_t(i)] = s.values[size_t(known.back())];
    else {
      int64_t b = *hi, a = *(hi - 1);
      double w = double(i - a) / double(b - a);
      s.values[size_t(i)] = (1 - w) * s.values[size_t(a)] + w * s.values[size_t(b)];
    }
  }
  std::printf("co2: %zu weeks, %zu missing filled by interpolation\n", s.values.size(),
              s.values.size() - known.size());
  // The file's first row is 1958-03-29 and every row is one week later (gaps included).
  for (size_t i = 0; i < s.values.size(); ++i)
    s.time.push_back(1958.0 + (87.0 + 7.0 * double(i)) / 365.25);
  s.season = 52;
  s.name = "weekly CO2 at Mauna Loa";
  s.unit = "ppm";
  s.season_name = "52 weeks";
  return s;
}

class Forecaster : public nn::Module {
 public:
  explicit Forecaster(int64_t hidden)
      : lstm_(register_module("lstm", nn::LSTM(1, hidden, {.batch_first = true}))),
        head_(register_module("head", nn::Linear(hidden, 1))) {}
  // x (N, window, 1) -> the next value (N, 1).
  nb::Tensor forward(const nb::Tensor& x) override {
    nb::Tensor out = lstm_->forward(x);  // (N, window, H)
    return head_->forward(out.select(1, out.shape()[1] - 1));
  }
  std::string describe() const override { return "Forecaster"; }

 private:
  std::shared_ptr<nn::LSTM> lstm_;
  std::shared_ptr<nn::Linear> head_;
};

double train(Forecaster& model, nb::optim::Adam& opt, const nb::Tensor& series, int64_t window,
             int epochs, const Args& args, uint64_t seed) {
  auto ds = std::make_shared<nd::TimeSeriesDataset>(series, nd::WindowOptions{.window = window});
  nd::DataLoader loader(ds, {.batch_size = args.batch_size, .shuffle = true, .seed = seed});
  double last = 0;
  for (int e = 0; e < epochs; ++e) {
    double sum = 0;
    int64_t n = 0;
    for (const nd::Batch& b : loader) {
      nb::Tensor pred = model.forward(b.inputs);
      nb::Tensor loss = nn::mse_loss(pred, b.targets.reshape({-1, 1}));
      opt.zero_grad();
      loss.backward();
      nb::optim::clip_grad_norm_(model.parameters(), 1.0);
      opt.step();
      sum += loss.item<double>();
      ++n;
    }
    last = sum / double(std::max<int64_t>(n, 1));
  }
  return last;
}

}  // namespace

int main(int argc, char** argv) try {
  Args args = parse(argc, argv);
  nb::manual_seed(args.seed);
  Series s = load(args);
  const int64_t T = int64_t(s.values.size());
  const int64_t window = args.window > 0 ? args.window : (args.series == "co2" ? 104 : 24);
  const int64_t test_begin = T - int64_t(std::llround(double(T) * args.test_fraction));
  if (test_begin - window < 2 * window || test_begin < s.season || test_begin >= T)
    throw nb::ValueError("series of " + std::to_string(T) + " steps is too short for window " +
                         std::to_string(window) + " and test fraction " +
                         std::to_string(args.test_fraction));

  // Normalisation from the first training part only.
  double mean = 0, var = 0;
  for (int64_t i = 0; i < test_begin; ++i) mean += s.values[size_t(i)];
  mean /= double(test_begin);
  for (int64_t i = 0; i < test_begin; ++i)
    var += (s.values[size_t(i)] - mean) * (s.values[size_t(i)] - mean);
  const double sd = std::sqrt(var / double(test_begin));
  std::vector<float> z(static_cast<size_t>(T));
  for (int64_t i = 0; i < T; ++i) z[size_t(i)] = float((s.values[size_t(i)] - mean) / sd);
  nb::Tensor series = nb::tensor(z, {T, 1});

  std::printf(
      "%s: %lld steps; walk-forward one-step-ahead forecasts of the last %lld (from %.0f)"
      " in %lld folds; window %lld\n",
      s.name.c_str(), (long long)T, (long long)(T - test_begin), s.time[size_t(test_begin)],
      (long long)args.folds, (long long)window);

  Forecaster model(args.hidden);
  nb::optim::Adam opt(model.parameters(), {.lr = args.lr});
  std::vector<double> forecast;
  auto start = std::chrono::steady_clock::now();
  for (int64_t f = 0; f < args.folds; ++f) {
    int64_t begin = test_begin + (T - test_begin) * f / args.folds;
    int64_t end = test_begin + (T - test_begin) * (f + 1) / args.folds;
    if (begin == end) continue;
    // Train on everything before the fold (fine-tune after the first fold).
    double loss = train(model, opt, series.slice(0, 0, begin), window,
                        f == 0 ? args.epochs : args.refit_epochs, args, args.seed + uint64_t(f));
    nb::NoGradGuard no_grad;
    model.eval();
    nd::TimeSeriesDataset windows(series.slice(0, begin - window, end),
                                  {.window = window, .horizon = 1});
    std::vector<nb::Tensor> xs;
    for (int64_t i = 0; i < windows.size(); ++i) xs.push_back(windows.get(i).input);
    std::vector<float> p = model.forward(nb::stack(xs, 0)).to_vector<float>();
    for (float v : p) forecast.push_back(double(v) * sd + mean);
    model.train();
    std::printf("fold %lld: trained on %lld steps (train mse %.4f), forecast %.0f-%.0f\n",
                (long long)(f + 1), (long long)begin, loss, s.time[size_t(begin)],
                s.time[size_t(end - 1)]);
    std::fflush(stdout);
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  // Scored on observed steps only (the baselines may read filled-in values, as the model does).
  double mae_model = 0, mae_seasonal = 0, mae_last = 0, n = 0;
  std::vector<double> seasonal;
  for (int64_t t = test_begin; t < T; ++t) {
    double truth = s.values[size_t(t)];
    seasonal.push_back(s.values[size_t(t - s.season)]);
    if (!s.observed[size_t(t)]) continue;
    n += 1;
    mae_model += std::abs(forecast[size_t(t - test_begin)] - truth);
    mae_seasonal += std::abs(seasonal.back() - truth);
    mae_last += std::abs(s.values[size_t(t - 1)] - truth);
  }
  mae_model /= n;
  mae_seasonal /= n;
  mae_last /= n;
  double lower = 100.0 * (1.0 - mae_model / mae_seasonal);
  std::printf("\ntraining and forecasting: %.1f s\n", secs);
  std::printf("naive (last value) MAE %.3f %s, for reference\n", mae_last, s.unit.c_str());
  std::printf("seasonal-naive baseline: season %s (y[t] = y[t - %lld])\n", s.season_name.c_str(),
              (long long)s.season);
  std::printf("MAE model %.3f vs seasonal-naive %.3f (%.1f%% lower)\n", mae_model, mae_seasonal,
              lower);
  std::printf("beats seasonal naive: %s\n", mae_model < mae_seasonal ? "yes" : "no");

  std::string svg = args.svg.empty() ? "forecast_" + args.series + ".svg" : args.svg;
  std::vector<double> test_time(s.time.begin() + test_begin, s.time.end());
  std::vector<double> test_truth(s.values.begin() + test_begin, s.values.end());
  int64_t context = std::min<int64_t>(test_begin, 3 * (T - test_begin));
  svgplot::Plot plot{
      .title = s.name + ": one-step LSTM forecast vs truth", .x_label = "year", .y_label = s.unit};
  plot.lines.push_back({"history", "#999999", false,
                        std::vector<double>(s.time.begin() + (test_begin - context),
                                            s.time.begin() + test_begin + 1),
                        std::vector<double>(s.values.begin() + (test_begin - context),
                                            s.values.begin() + test_begin + 1)});
  plot.lines.push_back({"truth", "#000000", false, test_time, test_truth});
  plot.lines.push_back({"seasonal naive", "#e69f00", true, test_time, seasonal});
  plot.lines.push_back({"LSTM", "#0072b2", false, test_time, forecast});
  svgplot::write(svg, plot);
  std::printf("wrote %s\n", svg.c_str());
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "forecast: %s\n", e.what());
  return 1;
}
