#pragma once
// The S3 conformance suite: one set of tests of scar::s3::client, run against every
// backend that has a factory (s3rver today, the emulator later). A backend joins with
//
//     INSTANTIATE_TEST_SUITE_P(Emulator, S3Conformance,
//         ::testing::Values(scar::s3::testing::backend_factory{"emulator", make_emulator_backend}),
//         scar::s3::testing::backend_name);
//
// in any source file of scar_s3_integration_tests.

#include <scar/s3/client.hpp>

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <ostream>
#include <string>

namespace scar::s3::testing {

/// What a backend does not do as S3 does; the tests skip exactly those checks. A
/// faithful backend (the emulator) keeps every default.
struct backend_limits {
    bool double_slash_keys = true;    ///< keys containing "//" can be stored
    bool dot_segment_keys = true;     ///< keys with "." and ".." segments can be stored
    bool notifications = true;        ///< Get/PutBucketNotificationConfiguration
    bool suffix_ranges = true;        ///< `Range: bytes=-N`
    bool continuation_tokens = true;  ///< ListObjectsV2 pages after the first
    bool quiet_delete = true;         ///< DeleteObjects honours <Quiet>
    bool multipart_etags = true;      ///< multipart ETags end in "-<parts>"
    bool abort_multipart = true;      ///< AbortMultipartUpload
};

/// A running S3 endpoint. Its destructor stops whatever it started (by PID).
class backend {
public:
    virtual ~backend() = default;
    /// Client options that reach it (endpoint, region, credentials, addressing).
    [[nodiscard]] virtual client_options options() const = 0;
    [[nodiscard]] virtual backend_limits limits() const { return {}; }
};

/// Makes (starts) a backend; throws std::runtime_error saying why it cannot, or returns
/// nullptr when the backend is not installed (the tests are then skipped).
struct backend_factory {
    std::string name;
    std::function<std::unique_ptr<backend>()> make;
};

/// How gtest prints a parameter: its name.
inline void PrintTo(const backend_factory& f, std::ostream* os) {
    *os << f.name;
}

/// Test names: "S3rver/S3Conformance.PutGet/s3rver".
inline std::string backend_name(const ::testing::TestParamInfo<backend_factory>& info) {
    return info.param.name;
}

/// The fixture: a started backend (one per factory, shared by the tests and stopped at the
/// end of the program), a client for it, and a fresh bucket per test, emptied and deleted
/// afterwards.
class S3Conformance : public ::testing::TestWithParam<backend_factory> {
protected:
    void SetUp() override;
    void TearDown() override;

    backend* backend_ = nullptr;
    std::unique_ptr<client> s3_;
    std::string bucket_;
};

}  // namespace scar::s3::testing
