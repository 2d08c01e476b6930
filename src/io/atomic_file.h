// Writing files so that readers and crashes never see a half-written one.
#pragma once
#include <string>
#include <string_view>

namespace nabla {

// Writes `parts` in order to a temp file next to `path`, fsyncs it, renames it over `path`
// and fsyncs the directory. Throws IOError naming the file on any failure.
void write_file_atomically(const std::string& path, std::initializer_list<std::string_view> parts);

}  // namespace nabla
