#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "train/common.h"
#include "train/progress.h"

namespace nb = nabla;
namespace nt = nabla::train;
using train_test::read_text;
using train_test::TempDir;

TEST(History, ColumnsCsvAndJson) {
  nt::History h;
  h.append({{"epoch", 1},
            {"loss", 0.5},
            {"val_loss", 0.75},
            {"lr", 0.1},
            {"accuracy", 0.8},
            {"seconds", 1.25},
            {"val_accuracy", 0.7},
            {"samples_per_s", 1000}});
  h.append({{"epoch", 2},
            {"loss", 0.25},
            {"val_loss", 0.5},
            {"lr", 0.05},
            {"accuracy", 0.9},
            {"seconds", 1.5},
            {"val_accuracy", 0.8},
            {"samples_per_s", 1200},
            {"extra", 3}});
  EXPECT_EQ(h.columns(),
            (std::vector<std::string>{"epoch", "loss", "accuracy", "extra", "val_loss",
                                      "val_accuracy", "lr", "seconds", "samples_per_s"}));
  EXPECT_EQ(h["loss"], (std::vector<double>{0.5, 0.25}));
  EXPECT_TRUE(std::isnan(h["extra"][0]));
  EXPECT_DOUBLE_EQ(h.last("extra"), 3);
  EXPECT_TRUE(h.contains("val_accuracy"));
  try {
    h["val_acc"];
    FAIL();
  } catch (const nb::ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("'val_acc'"), std::string::npos);
  }
  EXPECT_EQ(h.to_csv(),
            "epoch,loss,accuracy,extra,val_loss,val_accuracy,lr,seconds,samples_per_s\n"
            "1,0.5,0.8,,0.75,0.7,0.1,1.25,1000\n"
            "2,0.25,0.9,3,0.5,0.8,0.05,1.5,1200\n");
  TempDir dir;
  h.save_csv(dir / "h.csv");
  EXPECT_EQ(read_text(dir / "h.csv"), h.to_csv());
  h.save_json(dir / "h.json");
  const auto j = nlohmann::ordered_json::parse(read_text(dir / "h.json"));
  std::vector<std::string> keys;
  for (auto& [k, v] : j.items()) keys.push_back(k);
  EXPECT_EQ(keys, h.columns());
  EXPECT_EQ(j["epoch"], nlohmann::json::parse("[1, 2]"));
  EXPECT_TRUE(j["extra"][0].is_null());
  EXPECT_DOUBLE_EQ(j["val_loss"][1].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(j["lr"][1].get<double>(), 0.05);
  // No temp files left behind; a directory that does not exist is an IOError.
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path), {}), 2);
  EXPECT_THROW(h.save_csv(dir / "no/such/dir/h.csv"), nb::IOError);
  EXPECT_THROW(nt::History().last("loss"), nb::ValueError);
}

TEST(History, CsvQuotesOddKeys) {
  nt::History h;
  h.append({{"a,b", 1}, {"q\"", 2}});
  EXPECT_EQ(h.to_csv(), "\"a,b\",\"q\"\"\"\n1,2\n");
}

TEST(Progress, TerminalLineIsRewrittenInPlace) {
  using nt::detail::Progress;
  std::ostringstream os;
  Progress p(&os, /*terminal=*/true, 5);
  const auto t0 = Progress::Clock::time_point{};
  p.begin_epoch(2, 469, t0);
  EXPECT_TRUE(p.due(1, t0));
  p.show(120, 15360, {{"loss", 0.41234}, {"accuracy", 0.85123}}, t0 + std::chrono::seconds(10));
  EXPECT_EQ(os.str(),
            "\repoch 2/5  [=======>                      ] 120/469  loss 0.4123  accuracy 0.8512"
            "  1536 samples/s  ETA 29s");
  // At most ten updates a second.
  EXPECT_FALSE(p.due(121, t0 + std::chrono::milliseconds(10050)));
  EXPECT_TRUE(p.due(121, t0 + std::chrono::milliseconds(10100)));
  EXPECT_FALSE(p.due(469, t0 + std::chrono::seconds(100)));  // the summary shows the last batch
  os.str("");
  p.end_epoch(469, 60000, {{"loss", 0.3}, {"val_loss", 0.35}}, 40, 42.5);
  EXPECT_EQ(os.str(),
            "\repoch 2/5  [==============================] 469/469  loss 0.3000  val_loss 0.3500"
            "  1500 samples/s  42.5s"
            "  \n");  // blanks cover the longer line before
}

TEST(Progress, PlainLinesEveryTenthOfAnEpoch) {
  using nt::detail::Progress;
  std::ostringstream os;
  Progress p(&os, /*terminal=*/false, 1);
  const auto t0 = Progress::Clock::time_point{};
  p.begin_epoch(1, 25, t0);
  int shown = 0;
  for (int64_t b = 1; b <= 25; ++b)
    if (p.due(b, t0)) {
      p.show(b, b * 4, {{"loss", 1}}, t0 + std::chrono::seconds(b));
      ++shown;
    }
  EXPECT_EQ(shown, 9);  // batches 3, 5, 8, 10, 13, 15, 18, 20, 23
  EXPECT_EQ(os.str().substr(0, os.str().find('\n')),
            "epoch 1/1  3/25  loss 1.0000  4 samples/s  ETA 22s");
  Progress silent(nullptr, false, 1);
  silent.begin_epoch(1, 10);
  EXPECT_FALSE(silent.due(5));
  EXPECT_EQ(nt::detail::format_duration(59.4), "59s");
  EXPECT_EQ(nt::detail::format_duration(185), "3m05s");
  EXPECT_EQ(nt::detail::format_duration(7320), "2h02m");
}
