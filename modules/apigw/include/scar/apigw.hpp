#pragma once
/// @file
/// API Gateway: the REST API control-plane client and invoke URLs.

#include <scar/apigw/client.hpp>
