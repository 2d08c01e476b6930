// The oneDNN CPU engine shared by every kernel that calls oneDNN, and a stream per thread
// (streams are cheap; one per thread keeps concurrent callers apart).
#pragma once
#include <dnnl.hpp>

namespace nabla::cpu {

dnnl::engine& dnnl_engine();
dnnl::stream& dnnl_stream();

}  // namespace nabla::cpu
