#pragma once
/// @file
/// AWS Signature Version 4: signing, presigning, chunked payloads and verification.

#include <scar/sigv4/canonical.hpp>
#include <scar/sigv4/chunked.hpp>
#include <scar/sigv4/signer.hpp>
#include <scar/sigv4/verifier.hpp>
