#pragma once
/// @file
/// scar::image: image references, the registry v2 client, manifests and indexes, safe
/// layer extraction, the local content-addressed store, pulling, and building images
/// without a daemon. See docs/images.md.

#include <scar/image/auth.hpp>
#include <scar/image/build.hpp>
#include <scar/image/extract.hpp>
#include <scar/image/manifest.hpp>
#include <scar/image/pull.hpp>
#include <scar/image/reference.hpp>
#include <scar/image/registry.hpp>
#include <scar/image/store.hpp>
