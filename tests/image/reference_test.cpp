#include "scar/image/reference.hpp"

#include <gtest/gtest.h>

#include <string>

namespace {

using scar::image::parse_reference;

struct ref_case {
    const char* input;
    const char* registry;
    const char* repository;
    const char* tag;
    const char* digest;
};

const std::string d64 = "sha256:" + std::string(64, 'a');

// Docker's normalisation, as `docker pull` and distribution/reference ParseNormalizedNamed do it.
TEST(Reference, DockerNormalisationTable) {
    const std::string d = d64;
    const ref_case cases[] = {
        {"ubuntu", "docker.io", "library/ubuntu", "latest", ""},
        {"ubuntu:22.04", "docker.io", "library/ubuntu", "22.04", ""},
        {"library/ubuntu", "docker.io", "library/ubuntu", "latest", ""},
        {"docker.io/ubuntu", "docker.io", "library/ubuntu", "latest", ""},
        {"index.docker.io/ubuntu", "docker.io", "library/ubuntu", "latest", ""},
        {"grycap/imagemagick", "docker.io", "grycap/imagemagick", "latest", ""},
        {"docker.io/grycap/imagemagick:1.0", "docker.io", "grycap/imagemagick", "1.0", ""},
        {"localhost/app", "localhost", "app", "latest", ""},
        {"localhost:5000/app:v1", "localhost:5000", "app", "v1", ""},
        {"127.0.0.1:5000/team/app", "127.0.0.1:5000", "team/app", "latest", ""},
        {"[::1]:5000/app", "[::1]:5000", "app", "latest", ""},
        {"ghcr.io/org/sub/app:1.2.3", "ghcr.io", "org/sub/app", "1.2.3", ""},
        {"123456789012.dkr.ecr.us-east-1.amazonaws.com/fn:latest",
         "123456789012.dkr.ecr.us-east-1.amazonaws.com",
         "fn",
         "latest",
         ""},
        {"Registry/app", "Registry", "app", "latest", ""},  // uppercase first component is a host
        {"my-registry.example.com:443/a_b.c__d-e---f/x",
         "my-registry.example.com:443",
         "a_b.c__d-e---f/x",
         "latest",
         ""},
        {"foo_bar/baz", "docker.io", "foo_bar/baz", "latest", ""},
        {"foo__bar/b-a-z", "docker.io", "foo__bar/b-a-z", "latest", ""},
        {"app:TAG_with.dots-1", "docker.io", "library/app", "TAG_with.dots-1", ""},
    };
    for (const auto& c : cases) {
        auto r = parse_reference(c.input);
        ASSERT_TRUE(r) << c.input << ": " << r.error().message;
        EXPECT_EQ(r->registry, c.registry) << c.input;
        EXPECT_EQ(r->repository, c.repository) << c.input;
        EXPECT_EQ(r->tag, c.tag) << c.input;
        EXPECT_EQ(r->digest, c.digest) << c.input;
    }
}

TEST(Reference, Digests) {
    auto r = parse_reference("busybox@" + d64);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->tag, "");  // no default tag when pinned
    EXPECT_EQ(r->digest, d64);
    EXPECT_EQ(r->manifest_reference(), d64);
    EXPECT_EQ(r->str(), "docker.io/library/busybox@" + d64);
    EXPECT_EQ(r->familiar(), "busybox@" + d64);

    r = parse_reference("localhost:5000/x:v2@" + d64);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->tag, "v2");
    EXPECT_EQ(r->manifest_reference(), d64);  // the digest decides
    EXPECT_EQ(r->str(), "localhost:5000/x:v2@" + d64);
}

TEST(Reference, FormsAndEndpoints) {
    auto r = parse_reference("ubuntu");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->str(), "docker.io/library/ubuntu:latest");
    EXPECT_EQ(r->familiar(), "ubuntu:latest");
    EXPECT_EQ(r->endpoint_host(), "registry-1.docker.io");
    r = parse_reference("grycap/imagemagick");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->familiar(), "grycap/imagemagick:latest");
    r = parse_reference("localhost:5000/app");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->familiar(), "localhost:5000/app:latest");
    EXPECT_EQ(r->endpoint_host(), "localhost:5000");
}

TEST(Reference, InvalidReferencesSayWhy) {
    const std::pair<std::string, std::string> cases[] = {
        {"", "empty"},
        {"Ubuntu", "lowercase (use 'ubuntu')"},
        {"docker.io/Library/ubuntu", "lowercase"},
        {"ubuntu:", "tag"},
        {"ubuntu:-bad", "tag"},
        {"ubuntu:" + std::string(129, 'a'), "tag"},
        {"ubuntu@sha256:abc", "64 hex"},
        {"ubuntu@md5:" + std::string(32, 'a'), "unknown algorithm"},
        {"ubuntu@sha256:" + std::string(64, 'A'), "[0-9a-f]"},
        {"-app", "path component"},
        {"app-", "path component"},
        {"a..b", "path component"},
        {"a//b", "empty component"},
        {"host:port/app", "host"},
        {"-host.com/app", "host"},
        {"localhost:5000/", "missing"},
        {std::string(64, 'f'), "image ID"},
        {"a/" + std::string(260, 'b'), "255"},
        {"@" + d64, "missing"},
    };
    for (const auto& [input, why] : cases) {
        auto r = parse_reference(input);
        ASSERT_FALSE(r) << "accepted '" << input << "' as " << r->str();
        EXPECT_EQ(r.error().code, "InvalidReference") << input;
        EXPECT_NE(r.error().message.find(why), std::string::npos) << input << ": " << r.error().message;
    }
}

TEST(Reference, LoopbackHosts) {
    EXPECT_TRUE(scar::image::is_loopback_host("localhost:5000"));
    EXPECT_TRUE(scar::image::is_loopback_host("127.0.0.1:5000"));
    EXPECT_TRUE(scar::image::is_loopback_host("127.1.2.3"));
    EXPECT_TRUE(scar::image::is_loopback_host("[::1]:5000"));
    EXPECT_FALSE(scar::image::is_loopback_host("127.0.0.1.nip.io"));
    EXPECT_FALSE(scar::image::is_loopback_host("localhost.example.com"));
    EXPECT_FALSE(scar::image::is_loopback_host("docker.io"));
    EXPECT_FALSE(scar::image::is_loopback_host("[::2]:5000"));
}

TEST(Digest, ParseAndCompute) {
    auto d = scar::image::parse_digest(d64);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->algorithm, "sha256");
    EXPECT_EQ(d->str(), d64);
    EXPECT_EQ(
        scar::image::sha256_digest_of("").str(),
        "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    EXPECT_FALSE(scar::image::parse_digest("sha256"));
    EXPECT_EQ(scar::image::parse_digest("x").error().code, "InvalidDigest");
}

}  // namespace
