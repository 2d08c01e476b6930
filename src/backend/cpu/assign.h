// Writes src into dst's (possibly strided) view: the one place in-place updates happen.
#pragma once
#include "ir/node.h"

namespace nabla::cpu {

// dst and src have the same dtype; src broadcasts to dst's shape.
void assign(Node& dst, const Node& src);

}  // namespace nabla::cpu
