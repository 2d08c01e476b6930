#include <gtest/gtest.h>

#include <cmath>

#include "train/common.h"

namespace nb = nabla;
namespace nt = nabla::train;

namespace {
nb::Tensor scores(std::vector<float> v, int64_t n, int64_t c) { return nb::tensor(v, {n, c}); }
nb::Tensor classes(std::vector<int64_t> v) { return nb::tensor(v, {int64_t(v.size())}); }

// Six examples over three classes; the argmax predictions are 0 1 1 2 0 2 and the targets
// 0 1 2 2 1 2.
nb::Tensor six_outputs() {
  return scores({0.9f, 0.05f, 0.05f,  // 0
                 0.1f, 0.8f, 0.1f,    // 1
                 0.2f, 0.5f, 0.3f,    // 1
                 0.1f, 0.2f, 0.7f,    // 2
                 0.6f, 0.3f, 0.1f,    // 0
                 0.3f, 0.3f, 0.4f},   // 2
                6, 3);
}
nb::Tensor six_targets() { return classes({0, 1, 2, 2, 1, 2}); }
}  // namespace

TEST(Metrics, AccuracyOverBatchesAndReset) {
  nt::Accuracy acc;
  EXPECT_TRUE(std::isnan(acc.result()));
  acc.update(six_outputs(), six_targets());
  EXPECT_DOUBLE_EQ(acc.result(), 4.0 / 6);
  acc.update(scores({1, 0, 0, 0, 0, 1}, 2, 3), classes({0, 0}));  // one more right, one wrong
  EXPECT_DOUBLE_EQ(acc.result(), 5.0 / 8);
  acc.reset();
  acc.update(scores({1, 0, 0}, 1, 3), classes({0}));
  EXPECT_DOUBLE_EQ(acc.result(), 1.0);
}

TEST(Metrics, AccuracyAcceptsOneHotColumnAndBinaryTargets) {
  nt::Accuracy a;
  a.update(six_outputs(), scores({1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 1, 0, 1, 0, 0, 0, 1}, 6, 3));
  EXPECT_DOUBLE_EQ(a.result(), 4.0 / 6);
  nt::Accuracy col;
  col.update(six_outputs(), nb::tensor(std::vector<int32_t>{0, 1, 2, 2, 1, 2}, {6, 1}));
  EXPECT_DOUBLE_EQ(col.result(), 4.0 / 6);
  nt::Accuracy bin;  // threshold 0.5: predictions 1 0 1 0, targets 1 1 1 0
  bin.update(nb::tensor(std::vector<float>{0.7f, 0.2f, 0.51f, 0.5f}, {4, 1}),
             nb::tensor(std::vector<float>{1, 1, 1, 0}));
  EXPECT_DOUBLE_EQ(bin.result(), 0.75);
}

TEST(Metrics, TopK) {
  nt::TopKAccuracy top2(2);
  EXPECT_EQ(top2.name(), "top2_accuracy");
  // Example 2 (target 2, scores .2 .5 .3) is second: counted; example 4 (target 1, scores
  // .6 .3 .1) is second: counted; all others are first.
  top2.update(six_outputs(), six_targets());
  EXPECT_DOUBLE_EQ(top2.result(), 1.0);
  nt::TopKAccuracy top1(1);
  top1.update(six_outputs(), six_targets());
  EXPECT_DOUBLE_EQ(top1.result(), 4.0 / 6);
  auto top5 = nt::make_metric("top5_accuracy");
  EXPECT_EQ(top5->name(), "top5_accuracy");
  // 7 classes, target 6 has the 6th highest score: outside the top 5.
  top5->update(scores({7, 6, 5, 4, 3, 1, 2}, 1, 7), classes({6}));
  top5->update(scores({7, 6, 5, 4, 3, 1, 2}, 1, 7), classes({4}));
  EXPECT_DOUBLE_EQ(top5->result(), 0.5);
  EXPECT_THROW(nt::TopKAccuracy(0), nb::ValueError);
  EXPECT_THROW(top5->update(nb::tensor(std::vector<float>{0.3f, 0.8f}), classes({0, 1})),
               nb::ShapeError);
}

TEST(Metrics, ConfusionMatrixCountsAndPrints) {
  nt::ConfusionMatrix m(3);
  m.update(six_outputs(), six_targets());
  // rows: targets, columns: predictions
  const int64_t expected[3][3] = {{1, 0, 0}, {1, 1, 0}, {0, 1, 2}};
  for (int t = 0; t < 3; ++t)
    for (int p = 0; p < 3; ++p) EXPECT_EQ(m.count(t, p), expected[t][p]) << t << "," << p;
  EXPECT_EQ(m.total(), 6);
  EXPECT_DOUBLE_EQ(m.result(), 4.0 / 6);
  EXPECT_EQ(m.to_string(),
            "target\\pred  0  1  2\n"
            "          0  1  0  0\n"
            "          1  1  1  0\n"
            "          2  0  1  2\n");
  EXPECT_NE(m.to_string({"cat", "dog", "emu"}).find("dog    1    1    0"), std::string::npos)
      << m.to_string({"cat", "dog", "emu"});
  std::ostringstream os;
  os << m;
  EXPECT_EQ(os.str(), m.to_string());
  m.reset();
  EXPECT_EQ(m.total(), 0);
  EXPECT_THROW(nt::ConfusionMatrix(0), nb::ValueError);
  EXPECT_THROW(m.update(scores({1, 0}, 1, 2), classes({0})), nb::ShapeError);  // 2 classes
  EXPECT_THROW(m.update(scores({1, 0, 0}, 1, 3), classes({3})), nb::IndexError);
  EXPECT_THROW(m.update(scores({1, 0, 0}, 1, 3), classes({-1})), nb::IndexError);
  EXPECT_THROW(m.count(3, 0), nb::IndexError);
  EXPECT_THROW(m.to_string({"a"}), nb::ValueError);
}

TEST(Metrics, MacroPrecisionRecallF1MatchHandComputedValues) {
  // Per class from the confusion matrix above:
  //   precision: 1/2, 1/2, 2/2    recall: 1/1, 1/2, 2/3
  //   f1: 2/3, 1/2, 4/5
  auto p = nt::make_metric("precision"), r = nt::make_metric("recall"), f = nt::make_metric("f1");
  for (auto* m : {p.get(), r.get(), f.get()}) {
    m->update(six_outputs().slice(0, 0, 3), six_targets().slice(0, 0, 3));
    m->update(six_outputs().slice(0, 3, 6), six_targets().slice(0, 3, 6));
  }
  EXPECT_NEAR(p->result(), (0.5 + 0.5 + 1.0) / 3, 1e-12);
  EXPECT_NEAR(r->result(), (1.0 + 0.5 + 2.0 / 3) / 3, 1e-12);
  EXPECT_NEAR(f->result(), (2.0 / 3 + 0.5 + 0.8) / 3, 1e-12);
}

TEST(Metrics, MacroAveragesSkipClassesNeverSeenAndCountUnpredictedAsZero) {
  // 4 classes; class 3 never occurs; class 2 is a target never predicted.
  // targets 0 0 1 2, predictions 0 1 1 1.
  auto out = scores({1, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0}, 4, 4);
  auto tgt = classes({0, 0, 1, 2});
  auto p = nt::make_metric("precision"), r = nt::make_metric("recall");
  p->update(out, tgt);
  r->update(out, tgt);
  EXPECT_NEAR(p->result(), (1.0 + 1.0 / 3 + 0.0) / 3, 1e-12);
  EXPECT_NEAR(r->result(), (0.5 + 1.0 + 0.0) / 3, 1e-12);
  EXPECT_THROW(p->update(scores({1, 0}, 1, 2), classes({0})), nb::ShapeError);
}

TEST(Metrics, BinaryPrecisionRecall) {
  // predictions 1 1 0 0 1, targets 1 0 0 1 1: class 1 precision 2/3 recall 2/3, class 0 1/2 1/2.
  auto out = nb::tensor(std::vector<float>{0.9f, 0.6f, 0.1f, 0.4f, 0.8f});
  auto tgt = nb::tensor(std::vector<int64_t>{1, 0, 0, 1, 1});
  auto p = nt::make_metric("precision");
  p->update(out, tgt);
  EXPECT_NEAR(p->result(), (2.0 / 3 + 0.5) / 2, 1e-12);
  nt::ConfusionMatrix m(2);
  m.update(out, tgt);
  EXPECT_EQ(m.count(1, 1), 2);
  EXPECT_EQ(m.count(0, 1), 1);
}

TEST(Metrics, MeanErrors) {
  auto mae = nt::make_metric("mae"), mse = nt::make_metric("mse");
  auto out = nb::tensor(std::vector<float>{1, 2, 3, 4}, {2, 2});
  auto tgt = nb::tensor(std::vector<double>{1, 0, 4, 4}, {2, 2});
  mae->update(out, tgt);
  mse->update(out, tgt);
  EXPECT_DOUBLE_EQ(mae->result(), 3.0 / 4);
  EXPECT_DOUBLE_EQ(mse->result(), 5.0 / 4);
  mae->update(nb::tensor(std::vector<float>{2}, {1, 1}), nb::tensor(std::vector<float>{0}));
  EXPECT_DOUBLE_EQ(mae->result(), 5.0 / 5);
  EXPECT_THROW(mse->update(out, nb::zeros({2, 3})), nb::ShapeError);
}

TEST(Metrics, BadInputs) {
  try {
    nt::make_metric("acuracy");
    FAIL() << "no error";
  } catch (const nb::ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("'acuracy'"), std::string::npos) << e.what();
  }
  EXPECT_THROW(nt::make_metric("top0_accuracy"), nb::ValueError);
  EXPECT_THROW(nt::make_metric("topx_accuracy"), nb::ValueError);
  EXPECT_THROW(nt::make_metric(""), nb::ValueError);
  for (const char* name :
       {"accuracy", "top2_accuracy", "precision", "recall", "f1", "mae", "mse"}) {
    auto m = nt::make_metric(name);
    // batch of 6 outputs against 5 targets
    EXPECT_THROW(m->update(six_outputs(), classes({0, 1, 2, 2, 1})), nb::ShapeError) << name;
    EXPECT_THROW(m->update(nb::tensor(std::vector<float>{1}, {}), classes({0})), nb::ShapeError)
        << name;
    EXPECT_THROW(m->update(six_outputs(), nb::Tensor()), nb::ValueError) << name;
  }
  nt::Accuracy acc;
  EXPECT_THROW(acc.update(nb::zeros({2, 3, 4}), classes({0, 1})), nb::ShapeError);
  EXPECT_THROW(acc.update(six_outputs(), nb::zeros({6, 2})), nb::ShapeError);
  EXPECT_THROW(acc.update(scores({1, 0, 0}, 1, 3), nb::tensor(std::vector<float>{0.5f})),
               nb::IndexError);
}
