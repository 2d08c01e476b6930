// CSV reader: header, delimiters, quotes, typed columns, missing values and bad files.
#include "nabla/data/csv.h"

#include <gtest/gtest.h>

#include "data/temp_dir.h"
#include "nabla/data/loader.h"

namespace nd = nabla::data;
using nabla::testing::error_of;

namespace {

class CsvTest : public nabla::testing::TempDirTest {};

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

TEST_F(CsvTest, ReadsFeaturesAndStringClasses) {
  std::string p = write("iris.csv",
                        "sepal,petal,species\n"
                        "5.1,1.4,setosa\n"
                        "7.0,4.7,versicolor\r\n"
                        "\n"
                        " 6.3 ,+6.0, virginica\n"
                        "4.9,1e0,setosa");  // no final newline
  nd::CsvDataset d(p, {.target = "species"});
  EXPECT_EQ(d.size(), 4);
  EXPECT_EQ(d.feature_names(), (std::vector<std::string>{"sepal", "petal"}));
  EXPECT_EQ(d.target_name(), "species");
  EXPECT_EQ(d.classes(), (std::vector<std::string>{"setosa", "versicolor", "virginica"}));
  EXPECT_EQ(d.inputs().dtype(), nabla::float32);
  EXPECT_EQ(d.inputs().shape(), (nabla::Shape{4, 2}));
  EXPECT_EQ(d.inputs().to_vector<float>(),
            (std::vector<float>{5.1f, 1.4f, 7.0f, 4.7f, 6.3f, 6.0f, 4.9f, 1.0f}));
  EXPECT_EQ(d.targets().dtype(), nabla::int64);
  EXPECT_EQ(d.targets().to_vector<int64_t>(), (std::vector<int64_t>{0, 1, 2, 0}));
  EXPECT_EQ(d.class_id("virginica"), 2);
  EXPECT_THROW(d.class_id("rose"), nabla::ValueError);
  // It is a TensorDataset: the loader batches it.
  nd::DataLoader loader(d, {.batch_size = 3});
  auto it = loader.begin();
  EXPECT_EQ(it->inputs.shape(), (nabla::Shape{3, 2}));
  EXPECT_EQ(it->targets.shape(), (nabla::Shape{3}));
}

TEST_F(CsvTest, NumericClassLabelsSortAsNumbers) {
  std::string p = write("d.csv", "x,y\n1,10\n2,2\n3,0\n4,2\n");
  nd::CsvDataset d(p, {.target = "y"});
  EXPECT_EQ(d.classes(), (std::vector<std::string>{"0", "2", "10"}));
  EXPECT_EQ(d.targets().to_vector<int64_t>(), (std::vector<int64_t>{2, 1, 0, 1}));
}

TEST_F(CsvTest, RegressionTargetAndChosenFeatures) {
  std::string p = write("r.csv", "a;b;c;y\n1;2;x;0.5\n3;4;z;-1.25\n");
  nd::CsvDataset d(p, {.delimiter = ';',
                       .target = "y",
                       .target_type = nd::CsvTarget::regression,
                       .features = {"b", "a"}});
  EXPECT_EQ(d.feature_names(), (std::vector<std::string>{"b", "a"}));
  EXPECT_EQ(d.inputs().to_vector<float>(), (std::vector<float>{2, 1, 4, 3}));
  EXPECT_EQ(d.targets().dtype(), nabla::float32);
  EXPECT_EQ(d.targets().to_vector<float>(), (std::vector<float>{0.5f, -1.25f}));
  EXPECT_TRUE(d.classes().empty());
}

TEST_F(CsvTest, NoHeaderNamesColumnsByIndexAndNoTargetIsUnlabelled) {
  std::string p = write("n.csv", "1\t2\n3\t4\n");
  nd::CsvDataset d(p, {.delimiter = '\t', .header = false});
  EXPECT_EQ(d.feature_names(), (std::vector<std::string>{"0", "1"}));
  EXPECT_FALSE(d.targets().defined());
  EXPECT_EQ(d.inputs().to_vector<float>(), (std::vector<float>{1, 2, 3, 4}));
  nd::CsvDataset t(p, {.delimiter = '\t', .header = false, .target = "1"});
  EXPECT_EQ(t.targets().to_vector<int64_t>(), (std::vector<int64_t>{0, 1}));
}

TEST_F(CsvTest, QuotedFields) {
  auto rows = nd::parse_csv("a,\"b,c\",\"say \"\"hi\"\"\"\n\"two\nlines\",  \"x\" ,\n");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].fields, (std::vector<std::string>{"a", "b,c", "say \"hi\""}));
  EXPECT_EQ(rows[1].fields, (std::vector<std::string>{"two\nlines", "x", ""}));
  EXPECT_EQ(rows[0].line, 1);
  EXPECT_EQ(rows[1].line, 2);
  // Quoted labels with delimiters inside, and line numbers after a multi-line field.
  std::string p = write("q.csv", "x,label\n1,\"New York, NY\"\n2,\"multi\nline\"\n3,\"\"\n");
  std::string msg = error_of<nabla::ValueError>([&] { nd::CsvDataset(p, {.target = "label"}); });
  EXPECT_TRUE(contains(msg, "line 5")) << msg;  // the empty label is missing
  EXPECT_TRUE(contains(msg, "\"label\"")) << msg;
}

TEST_F(CsvTest, MissingValuesErrorFillOrDrop) {
  std::string p = write("m.csv", "a,b,y\n1,2,0\n3,,1\n5,NA,0\n7,8,1\n");
  std::string msg = error_of<nabla::ValueError>([&] { nd::CsvDataset(p, {.target = "y"}); });
  EXPECT_TRUE(contains(msg, "m.csv")) << msg;
  EXPECT_TRUE(contains(msg, "line 3, column \"b\"")) << msg;
  EXPECT_TRUE(contains(msg, "missing")) << msg;
  nd::CsvDataset filled(p, {.target = "y", .missing = nd::CsvMissing::fill, .fill_value = -1});
  EXPECT_EQ(filled.inputs().to_vector<float>(), (std::vector<float>{1, 2, 3, -1, 5, -1, 7, 8}));
  nd::CsvDataset dropped(p, {.target = "y", .missing = nd::CsvMissing::drop});
  EXPECT_EQ(dropped.inputs().to_vector<float>(), (std::vector<float>{1, 2, 7, 8}));
  EXPECT_EQ(dropped.targets().to_vector<int64_t>(), (std::vector<int64_t>{0, 1}));
  // A missing target cannot be filled.
  std::string q = write("t.csv", "a,y\n1,0\n2,\n");
  msg = error_of<nabla::ValueError>(
      [&] { nd::CsvDataset(q, {.target = "y", .missing = nd::CsvMissing::fill}); });
  EXPECT_TRUE(contains(msg, "line 3, column \"y\": the target is missing")) << msg;
}

TEST_F(CsvTest, BadFilesAndOptionsNameTheFault) {
  std::string msg =
      error_of<nabla::IOError>([&] { nd::CsvDataset(path("nope.csv"), {.target = "y"}); });
  EXPECT_TRUE(contains(msg, "nope.csv") && contains(msg, "cannot open")) << msg;

  std::string ragged = write("ragged.csv", "a,b\n1,2\n3\n");
  msg = error_of<nabla::IOError>([&] { nd::CsvDataset{ragged}; });
  EXPECT_TRUE(contains(msg, "ragged.csv: line 3 has 1 fields, expected 2")) << msg;

  std::string open_quote = write("quote.csv", "a,b\n1,\"2\n3,4\n");
  msg = error_of<nabla::IOError>([&] { nd::CsvDataset{open_quote}; });
  EXPECT_TRUE(contains(msg, "line 2: quoted field is not closed")) << msg;

  std::string after_quote = write("after.csv", "a,b\n1,\"2\"x\n");
  msg = error_of<nabla::IOError>([&] { nd::CsvDataset{after_quote}; });
  EXPECT_TRUE(contains(msg, "after the closing quote")) << msg;

  std::string empty = write("empty.csv", "\n\n");
  msg = error_of<nabla::IOError>([&] { nd::CsvDataset{empty}; });
  EXPECT_TRUE(contains(msg, "no rows")) << msg;

  std::string text = write("text.csv", "a,name\n1,bob\n");
  msg = error_of<nabla::ValueError>([&] { nd::CsvDataset{text}; });
  EXPECT_TRUE(contains(msg, "line 2, column \"name\": expected a number, got \"bob\"")) << msg;
  msg = error_of<nabla::ValueError>([&] { nd::CsvDataset(text, {.target = "label"}); });
  EXPECT_TRUE(contains(msg, "no column named \"label\" (columns: \"a\", \"name\")")) << msg;
  msg = error_of<nabla::ValueError>(
      [&] { nd::CsvDataset(text, {.target = "a", .features = {"a"}}); });
  EXPECT_TRUE(contains(msg, "both the target and a feature")) << msg;
  msg = error_of<nabla::ValueError>(
      [&] { nd::CsvDataset(text, {.target = "name", .target_type = nd::CsvTarget::regression}); });
  EXPECT_TRUE(contains(msg, "regression")) << msg;
  EXPECT_THROW(nd::CsvDataset(text, {.delimiter = '"'}), nabla::ValueError);
}

TEST_F(CsvTest, HeaderOnlyGivesAnEmptyDataset) {
  nd::CsvDataset d(write("h.csv", "a,b,y\n"), {.target = "y"});
  EXPECT_EQ(d.size(), 0);
  EXPECT_EQ(d.inputs().shape(), (nabla::Shape{0, 2}));
}

// Any byte string parses to rows or raises a typed error; never a crash.
TEST_F(CsvTest, CorruptedFilesGiveTypedErrors) {
  std::string good = "a,b,label\n1,2,\"x\"\n3.5,-4,\"y, z\"\n5,6,x\n";
  std::vector<std::string> variants;
  for (size_t cut = 0; cut <= good.size(); ++cut) variants.push_back(good.substr(0, cut));
  const char junk[] = {'"', ',', '\n', '\r', '\0', 'e', '\xff'};
  for (size_t i = 0; i < good.size(); ++i)
    for (char j : junk) {
      std::string v = good;
      v[i] = j;
      variants.push_back(v);
    }
  int ok = 0;
  for (const std::string& v : variants) {
    std::string p = write("fuzz.csv", v);
    try {
      nd::CsvDataset d(p, {.target = "label"});
      EXPECT_EQ(d.inputs().size(0), d.targets().size(0));
      ++ok;
    } catch (const nabla::IOError&) {
    } catch (const nabla::ValueError&) {
    }
  }
  EXPECT_GT(ok, 0);
}

}  // namespace
