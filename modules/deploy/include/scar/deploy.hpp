#pragma once
/// @file
/// Umbrella header of the deploy module: `scar init`, `rm` and `ls` as library calls.

#include <scar/deploy/deploy.hpp>
#include <scar/deploy/cost.hpp>
