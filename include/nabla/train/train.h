// Training: fit/evaluate/predict, metrics, callbacks and the history of a run.
#pragma once
#include "nabla/train/callbacks.h"
#include "nabla/train/fit.h"
#include "nabla/train/gan.h"
#include "nabla/train/history.h"
#include "nabla/train/metrics.h"
