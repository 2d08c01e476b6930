// The cookie-file reader shared by examples/char_lm and examples/lang_id.
#include "../../examples/common/fortunes.h"

#include <gtest/gtest.h>
#include <nabla/error.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "../../examples/forecast/svg_plot.h"

namespace fs = std::filesystem;

namespace {

fs::path temp_dir(const std::string& name) {
  fs::path d = fs::temp_directory_path() / ("nabla_seqex_" + name);
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

void write(const fs::path& p, const std::string& bytes) {
  std::ofstream(p, std::ios::binary) << bytes;
}

}  // namespace

TEST(Fortunes, Utf8Validation) {
  EXPECT_TRUE(fortunes::is_utf8("plain ASCII"));
  EXPECT_TRUE(
      fortunes::is_utf8("Gr\xC3\xBC\xC3\x9F"
                        "e \xE2\x82\xAC \xF0\x9F\x98\x80"));
  EXPECT_FALSE(
      fortunes::is_utf8("Gr\xFC\xDF"
                        "e"));                      // Latin-1
  EXPECT_FALSE(fortunes::is_utf8("\xC3"));          // truncated
  EXPECT_FALSE(fortunes::is_utf8("\xC0\xAF"));      // overlong
  EXPECT_FALSE(fortunes::is_utf8("\xED\xA0\x80"));  // surrogate
  EXPECT_FALSE(fortunes::is_utf8("\xE2\x82"));      // truncated 3-byte
  EXPECT_EQ(fortunes::latin1_to_utf8("Gr\xFC\xDF"
                                     "e"),
            "Gr\xC3\xBC\xC3\x9F"
            "e");
}

TEST(Fortunes, OverstrikeAndControlBytesAreRemoved) {
  EXPECT_EQ(fortunes::strip_overstrike("_\bb_\bo_\bo_\bk x\bx\r\nend\x07"), "book x\nend");
}

TEST(Fortunes, ReadsEntriesSplitByPercentLines) {
  fs::path d = temp_dir("read");
  write(d / "en", "First one\nline two\n%\n\n%\nSecond\n  \n%\nThird, no final percent\n");
  write(d / "en.dat", "binary index");
  write(d / "latin",
        "Gr\xFC\xDF"
        "e\n%\nzwei\n");
  fs::create_symlink(d / "en", d / "link");
  EXPECT_EQ(fortunes::files_in(d.string()),
            (std::vector<std::string>{(d / "en").string(), (d / "latin").string()}));
  EXPECT_EQ(fortunes::read_file((d / "en").string()),
            (std::vector<std::string>{"First one\nline two", "Second", "Third, no final percent"}));
  EXPECT_EQ(fortunes::read_file((d / "latin").string()),
            (std::vector<std::string>{"Gr\xC3\xBC\xC3\x9F"
                                      "e",
                                      "zwei"}));
  EXPECT_EQ(fortunes::read_dir(d.string(), {"latin"}).size(), 3u);
  EXPECT_THROW(fortunes::read_file((d / "missing").string()), nabla::IOError);
  EXPECT_THROW(fortunes::files_in((d / "missing").string()), nabla::IOError);
  fs::remove_all(d);
}

TEST(SvgPlot, TicksAreRoundAndCoverTheRange) {
  EXPECT_EQ(svgplot::ticks(0, 10, 5), (std::vector<double>{0, 2, 4, 6, 8, 10}));
  std::vector<double> t = svgplot::ticks(1947, 2008);
  ASSERT_FALSE(t.empty());
  EXPECT_GE(t.front(), 1947);
  EXPECT_LE(t.back(), 2008);
  EXPECT_EQ(t[1] - t[0], 10);
}

TEST(SvgPlot, WritesAPolylinePerLineAndRejectsBadInput) {
  fs::path d = temp_dir("svg");
  svgplot::Plot p{.title = "a <b> & c", .x_label = "x", .y_label = "y"};
  p.lines.push_back({"truth", "#000", false, {1, 2, 3}, {4, 5, 6}});
  p.lines.push_back({"model", "#00f", true, {1, 2, 3}, {4, 6, 5}});
  svgplot::write((d / "p.svg").string(), p);
  std::ifstream in(d / "p.svg");
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(s.find("a &lt;b&gt; &amp; c"), std::string::npos);
  size_t lines = 0;
  for (size_t at = s.find("<polyline"); at != std::string::npos; at = s.find("<polyline", at + 1))
    ++lines;
  EXPECT_EQ(lines, 2u);
  EXPECT_EQ(s.substr(s.size() - 7), "</svg>\n");
  p.lines.push_back({"bad", "#f00", false, {1, 2}, {1}});
  EXPECT_THROW(svgplot::write((d / "q.svg").string(), p), nabla::ValueError);
  EXPECT_THROW(svgplot::write((d / "r.svg").string(), svgplot::Plot{}), nabla::ValueError);
  EXPECT_THROW(svgplot::write((d / "no_dir" / "p.svg").string(),
                              svgplot::Plot{.lines = {{"l", "#000", false, {1}, {1}}}}),
               nabla::IOError);
  fs::remove_all(d);
}
