#pragma once
/// @file
/// Umbrella header of the sandbox module: containers from a rootfs with Linux namespaces,
/// limits, timeout and output capture (see scar/sandbox/container.hpp).

#include <scar/sandbox/container.hpp>
