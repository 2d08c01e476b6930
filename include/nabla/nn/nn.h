// The nn namespace: modules, layers, losses, initialisers.
#pragma once
#include "nabla/nn/containers.h"
#include "nabla/nn/init.h"
#include "nabla/nn/layers.h"
#include "nabla/nn/loss.h"
#include "nabla/nn/module.h"
#include "nabla/nn/norm.h"
#include "nabla/nn/rbm.h"
