#pragma once
/// @file
/// Umbrella header of the S3 module: the client, its errors, bucket notification
/// configurations and S3 event records.

#include <scar/s3/client.hpp>
#include <scar/s3/errors.hpp>
#include <scar/s3/event.hpp>
#include <scar/s3/notification.hpp>
