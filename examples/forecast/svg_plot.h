// A line plot written as a standalone SVG file (axes with round ticks, a legend), atomically.
#pragma once
#include <nabla/error.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "io/atomic_file.h"

namespace svgplot {

struct Line {
  std::string label, color;
  bool dashed = false;
  std::vector<double> x, y;
};

struct Plot {
  std::string title, x_label, y_label;
  std::vector<Line> lines;
  double width = 900, height = 420;
};

inline std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '<')
      out += "&lt;";
    else if (c == '>')
      out += "&gt;";
    else if (c == '&')
      out += "&amp;";
    else if (c == '"')
      out += "&quot;";
    else
      out += c;
  }
  return out;
}

inline std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

// About `target` round tick values (1, 2 or 5 times a power of ten apart) covering [lo, hi].
inline std::vector<double> ticks(double lo, double hi, int target = 6) {
  double span = hi - lo;
  if (!(span > 0)) return {lo};
  double raw = span / target, mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag * (raw / mag < 1.5 ? 1 : raw / mag < 3.5 ? 2 : raw / mag < 7.5 ? 5 : 10);
  std::vector<double> t;
  for (double v = std::ceil(lo / step) * step; v <= hi + step * 1e-9; v += step)
    t.push_back(std::abs(v) < step * 1e-9 ? 0 : v);
  return t;
}

// IOError (nabla's) when the file cannot be written; ValueError for a line whose x and y differ
// in length or a plot with no points.
inline void write(const std::string& path, const Plot& p) {
  double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
  for (const Line& l : p.lines) {
    if (l.x.size() != l.y.size())
      throw nabla::ValueError("svgplot: line \"" + l.label + "\" has " +
                              std::to_string(l.x.size()) + " x and " + std::to_string(l.y.size()) +
                              " y values");
    for (size_t i = 0; i < l.x.size(); ++i) {
      if (!std::isfinite(l.x[i]) || !std::isfinite(l.y[i])) continue;
      x0 = std::min(x0, l.x[i]), x1 = std::max(x1, l.x[i]);
      y0 = std::min(y0, l.y[i]), y1 = std::max(y1, l.y[i]);
    }
  }
  if (!(x0 <= x1)) throw nabla::ValueError("svgplot: nothing to plot");
  if (x1 == x0) x1 = x0 + 1;
  if (y1 == y0) y1 = y0 + 1;
  double pad = (y1 - y0) * 0.05;
  y0 -= pad, y1 += pad;
  const double left = 70, right = 20, top = 40, bottom = 50;
  const double w = p.width - left - right, h = p.height - top - bottom;
  auto sx = [&](double x) { return left + (x - x0) / (x1 - x0) * w; };
  auto sy = [&](double y) { return top + (1 - (y - y0) / (y1 - y0)) * h; };

  std::string s;
  s += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + num(p.width) + "\" height=\"" +
       num(p.height) + "\" font-family=\"sans-serif\" font-size=\"12\">\n";
  s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  s += "<text x=\"" + num(p.width / 2) + "\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">" +
       escape(p.title) + "</text>\n";
  for (double t : ticks(x0, x1)) {
    s += "<line x1=\"" + num(sx(t)) + "\" y1=\"" + num(top) + "\" x2=\"" + num(sx(t)) + "\" y2=\"" +
         num(top + h) + "\" stroke=\"#eeeeee\"/>\n";
    s += "<text x=\"" + num(sx(t)) + "\" y=\"" + num(top + h + 16) + "\" text-anchor=\"middle\">" +
         num(t) + "</text>\n";
  }
  for (double t : ticks(y0, y1)) {
    s += "<line x1=\"" + num(left) + "\" y1=\"" + num(sy(t)) + "\" x2=\"" + num(left + w) +
         "\" y2=\"" + num(sy(t)) + "\" stroke=\"#eeeeee\"/>\n";
    s += "<text x=\"" + num(left - 6) + "\" y=\"" + num(sy(t) + 4) + "\" text-anchor=\"end\">" +
         num(t) + "</text>\n";
  }
  s += "<rect x=\"" + num(left) + "\" y=\"" + num(top) + "\" width=\"" + num(w) + "\" height=\"" +
       num(h) + "\" fill=\"none\" stroke=\"#333333\"/>\n";
  s += "<text x=\"" + num(left + w / 2) + "\" y=\"" + num(p.height - 10) +
       "\" text-anchor=\"middle\">" + escape(p.x_label) + "</text>\n";
  s += "<text transform=\"translate(16," + num(top + h / 2) +
       ") rotate(-90)\" text-anchor=\"middle\">" + escape(p.y_label) + "</text>\n";
  double ly = top + 14;
  s += "<rect x=\"" + num(left + 4) + "\" y=\"" + num(top + 2) + "\" width=\"150\" height=\"" +
       num(16.0 * double(p.lines.size()) + 6) +
       "\" fill=\"white\" fill-opacity=\"0.85\" stroke=\"#cccccc\"/>\n";
  for (const Line& l : p.lines) {
    std::string pts;
    for (size_t i = 0; i < l.x.size(); ++i)
      if (std::isfinite(l.x[i]) && std::isfinite(l.y[i]))
        pts += num(sx(l.x[i])) + "," + num(sy(l.y[i])) + " ";
    std::string dash = l.dashed ? " stroke-dasharray=\"5,4\"" : "";
    s += "<polyline fill=\"none\" stroke=\"" + l.color + "\" stroke-width=\"1.6\"" + dash +
         " points=\"" + pts + "\"/>\n";
    s += "<line x1=\"" + num(left + 10) + "\" y1=\"" + num(ly - 4) + "\" x2=\"" + num(left + 34) +
         "\" y2=\"" + num(ly - 4) + "\" stroke=\"" + l.color + "\" stroke-width=\"2\"" + dash +
         "/>\n";
    s +=
        "<text x=\"" + num(left + 40) + "\" y=\"" + num(ly) + "\">" + escape(l.label) + "</text>\n";
    ly += 16;
  }
  s += "</svg>\n";
  nabla::write_file_atomically(path, {s});
}

}  // namespace svgplot
