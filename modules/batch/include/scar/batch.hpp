#pragma once
/// @file
/// Umbrella header of the Batch module: the AWS Batch client and its job/queue model.

#include <scar/batch/client.hpp>
