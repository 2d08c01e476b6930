// The data pipeline: datasets, loaders, transforms and readers (namespace nabla::data).
#pragma once
#include "nabla/data/corruption.h"
#include "nabla/data/csv.h"
#include "nabla/data/dataset.h"
#include "nabla/data/idx.h"
#include "nabla/data/image_folder.h"
#include "nabla/data/loader.h"
#include "nabla/data/text.h"
#include "nabla/data/timeseries.h"
#include "nabla/data/transforms.h"
#include "nabla/data/wav.h"
