// The data pipeline: datasets, loaders, transforms and readers (namespace nabla::data).
#pragma once
#include "nabla/data/dataset.h"
#include "nabla/data/idx.h"
#include "nabla/data/loader.h"
#include "nabla/data/transforms.h"
