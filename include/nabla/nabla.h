// The whole public API of nabla.
#pragma once
#include "nabla/autograd.h"
#include "nabla/device.h"
#include "nabla/dtype.h"
#include "nabla/error.h"
#include "nabla/memory.h"
#include "nabla/ops/binary.h"
#include "nabla/ops/conv.h"
#include "nabla/ops/creation.h"
#include "nabla/ops/creation.h"
#include "nabla/ops/reduce.h"
#include "nabla/shape.h"
#include "nabla/tensor.h"
