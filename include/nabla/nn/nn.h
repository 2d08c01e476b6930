// The nn namespace: modules, layers, losses, initialisers.
#pragma once
#include "nabla/nn/autoencoder.h"
#include "nabla/nn/containers.h"
#include "nabla/nn/gan.h"
#include "nabla/nn/init.h"
#include "nabla/nn/layers.h"
#include "nabla/nn/loss.h"
#include "nabla/nn/module.h"
#include "nabla/nn/norm.h"
#include "nabla/nn/rbm.h"
#include "nabla/nn/recurrent.h"
#include "nabla/nn/sampling.h"
#include "nabla/nn/transformer.h"
