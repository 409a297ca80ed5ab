// The authentication sweep (issue 12): for every service the emulator serves, one request
// that would change something (create a resource, store an object, invoke a function, issue
// a token) is sent correctly signed — it must work — and then unsigned, with a wrong
// secret, an unknown access key id, a date outside the 15-minute window, an expired
// presigned URL, and as a replay of a captured valid signature on another path, method,
// query or body. Each must be refused with the service's own error (S3's XML, the JSON
// services' x-amzn-ErrorType / __type, the registry's errors[]) and have no effect, which a
// correctly signed request then checks. One table row per service × case; the table is in
// docs/reliability.md ("Security").

#include <scar/core/crypto.hpp>
#include <scar/core/encoding.hpp>
#include <scar/sigv4/signer.hpp>
#include <scar/testing/emulator_process.hpp>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "load_support.hpp"

namespace {

namespace json = boost::json;
namespace http = scar::http;
namespace load = scar::load;
using namespace std::chrono_literals;

enum class attack {
    valid,             ///< control: correctly signed (Authorization header), must work
    valid_presigned,   ///< control: a presigned URL valid now, must work
    no_auth,           ///< (a) no Authorization at all
    wrong_secret,      ///< (b) signed with a secret that is not the access key's
    unknown_key,       ///< (c) signed with an access key id the emulator does not know
    stale_date,        ///< (d) X-Amz-Date 20 minutes ago
    future_date,       ///< (d) X-Amz-Date 20 minutes ahead
    expired_presign,   ///< (d) presigned 2 h ago for 1 h
    replay_path,       ///< (e) a valid Authorization sent to another path
    replay_method,     ///< (e) … with another method
    replay_query,      ///< (e) … with a query added
    replay_body,       ///< (e) … with another body
    replay_body_hash,  ///< (e) … with another body and the signed body's hash in x-amz-content-sha256
    // The registry's Basic authentication (ECR's /v2/ API):
    basic_valid,          ///< control: the emulator's access key and secret
    basic_none,           ///< no Authorization
    basic_wrong_secret,   ///< the access key with a wrong secret
    basic_unknown_user,   ///< a user that is neither the access key nor AWS
    basic_unknown_token,  ///< user AWS with a token GetAuthorizationToken never issued
    basic_sigv4,          ///< a SigV4 Authorization instead of Basic
};

const char* name_of(attack a) {
    switch (a) {
        case attack::valid:
            return "Valid";
        case attack::valid_presigned:
            return "ValidPresigned";
        case attack::no_auth:
            return "NoAuthorization";
        case attack::wrong_secret:
            return "WrongSecret";
        case attack::unknown_key:
            return "UnknownAccessKey";
        case attack::stale_date:
            return "DateTwentyMinutesOld";
        case attack::future_date:
            return "DateTwentyMinutesAhead";
        case attack::expired_presign:
            return "ExpiredPresignedUrl";
        case attack::replay_path:
            return "ReplayOtherPath";
        case attack::replay_method:
            return "ReplayOtherMethod";
        case attack::replay_query:
            return "ReplayOtherQuery";
        case attack::replay_body:
            return "ReplayOtherBody";
        case attack::replay_body_hash:
            return "ReplayOtherBodyClaimingSignedHash";
        case attack::basic_valid:
            return "BasicValid";
        case attack::basic_none:
            return "BasicNone";
        case attack::basic_wrong_secret:
            return "BasicWrongSecret";
        case attack::basic_unknown_user:
            return "BasicUnknownUser";
        case attack::basic_unknown_token:
            return "BasicUnknownToken";
        case attack::basic_sigv4:
            return "SigV4InsteadOfBasic";
    }
    return "?";
}

enum class wire { s3_xml, aws_json, registry };

/// The emulator every row uses, started once for the suite.
struct world {
    std::unique_ptr<scar::testing::emulator_process> emu;
    std::string url;
};
world& the_world() {
    static world w;
    return w;
}

/// One service: the request that changes something for resource `id`, where a replay goes
/// instead, and how to see whether the change happened.
struct target {
    std::string name;
    std::string service;  ///< the SigV4 service name
    wire format;
    std::function<http::request(const std::string& id)> make;
    std::function<std::string(const std::string& id)> other_path;
    /// True when the change `make(id)` asks for happened (checked with a valid request).
    std::function<bool(const std::string& id, const http::response& answer)> happened;
};

http::response signed_call(
    const std::string& service,
    const std::string& method,
    const std::string& target,
    std::string body = {},
    http::header_list headers = {}
) {
    return load::send(
        load::signed_request(the_world().url, service, method, target, std::move(body), std::move(headers))
    );
}

http::response json11_call(const std::string& service, const std::string& op, const json::object& body) {
    return signed_call(service, "POST", "/", json::serialize(body), load::json11_headers(op));
}

std::string basic(const std::string& user, const std::string& pass) {
    return "Basic " + scar::encoding::base64_encode(user + ":" + pass);
}

std::string blob_for(const std::string& id) {
    return "layer bytes of " + id;
}
std::string digest_of(const std::string& data) {
    return "sha256:" + scar::encoding::to_hex(scar::crypto::sha256_of(data));
}

/// Whether function `fn`'s log holds `marker`, after a valid invocation whose own marker
/// has reached the log: the function's one environment handles invocations in order, so
/// anything sent before the fence would be logged before it.
bool logged(const std::string& fn, const std::string& marker) {
    const std::string fence = marker + "-fence";
    const auto r = signed_call(
        "lambda",
        "POST",
        "/2015-03-31/functions/" + fn + "/invocations",
        R"({"marker":")" + fence + "\"}"
    );
    EXPECT_EQ(r.status, 200) << r.body;
    const bool fenced = load::poll_until(
        [&] { return !load::log_messages(the_world().url, "/aws/lambda/" + fn, fence).empty(); },
        20s
    );
    EXPECT_TRUE(fenced) << "the fence invocation of " << fn << " never reached its log";
    for (const auto& line : load::log_messages(the_world().url, "/aws/lambda/" + fn, marker))
        if (line.find("\"" + marker + "\"") != std::string::npos) return true;  // not its fence
    return false;
}

std::vector<target> targets() {
    const std::string& url = the_world().url;
    const auto json_req =
        [url](const std::string& method, const std::string& path, const json::object& body) {
            return load::make_request(url, method, path, json::serialize(body));
        };
    const auto json11_req = [url](const std::string& op, const json::object& body) {
        return load::make_request(url, "POST", "/", json::serialize(body), load::json11_headers(op));
    };
    std::vector<target> t;
    t.push_back(
        {"S3",
         "s3",
         wire::s3_xml,
         [url](const std::string& id) {
             return load::make_request(url, "PUT", "/sweep/" + id, "object " + id);
         },
         [](const std::string& id) { return "/sweep/" + id + "-elsewhere"; },
         [](const std::string& id, const http::response&) {
             return signed_call("s3", "GET", "/sweep/" + id).status == 200 ||
                    signed_call("s3", "GET", "/sweep/" + id + "-elsewhere").status == 200;
         }}
    );
    t.push_back(
        {"LambdaControlPlane",
         "lambda",
         wire::aws_json,
         [json_req](const std::string& id) {
             return json_req(
                 "POST",
                 "/2015-03-31/functions",
                 {{"FunctionName", id},
                  {"Runtime", "provided.al2023"},
                  {"Handler", "h"},
                  {"Role", "arn:aws:iam::000000000000:role/sweep"},
                  {"Code", {{"ZipFile", load::zip_base64({{"bootstrap", "#!/bin/sh\n", ""}})}}}}
             );
         },
         [](const std::string&) { return std::string("/2018-10-31/layers/sweep-layer/versions"); },
         [](const std::string& id, const http::response&) {
             return signed_call("lambda", "GET", "/2015-03-31/functions/" + id).status == 200 ||
                    signed_call("lambda", "GET", "/2018-10-31/layers/sweep-layer/versions")
                            .body.find("LayerVersionArn") != std::string::npos;
         }}
    );
    t.push_back(
        {"LambdaInvoke",
         "lambda",
         wire::aws_json,
         [url](const std::string& id) {
             return load::make_request(
                 url,
                 "POST",
                 "/2015-03-31/functions/sweep/invocations",
                 R"({"marker":")" + id + "\"}"
             );
         },
         [](const std::string&) { return std::string("/2015-03-31/functions/sweep-other/invocations"); },
         [](const std::string& id, const http::response&) {
             return logged("sweep", id) || logged("sweep-other", id);
         }}
    );
    t.push_back(
        {"CloudWatchLogs",
         "logs",
         wire::aws_json,
         [json11_req](const std::string& id) {
             return json11_req("Logs_20140328.CreateLogGroup", {{"logGroupName", "/sweep/" + id}});
         },
         [](const std::string&) { return std::string("/logs"); },
         [](const std::string& id, const http::response&) {
             const auto r = json11_call(
                 "logs",
                 "Logs_20140328.DescribeLogGroups",
                 {{"logGroupNamePrefix", "/sweep/" + id}}
             );
             return !json::parse(r.body).at("logGroups").as_array().empty();
         }}
    );
    t.push_back(
        {"EcrControlPlane",
         "ecr",
         wire::aws_json,
         [json11_req](const std::string& id) {
             return json11_req(
                 "AmazonEC2ContainerRegistry_V20150921.CreateRepository",
                 {{"repositoryName", "sweep/" + id}}
             );
         },
         [](const std::string&) { return std::string("/v1"); },
         [](const std::string& id, const http::response&) {
             return json11_call(
                        "ecr",
                        "AmazonEC2ContainerRegistry_V20150921.DescribeRepositories",
                        {{"repositoryNames", json::array{"sweep/" + id}}}
                    ).status == 200;
         }}
    );
    t.push_back(
        {"EcrAuthorizationToken",
         "ecr",
         wire::aws_json,
         [json11_req](const std::string&) {
             return json11_req("AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken", {});
         },
         [](const std::string&) { return std::string("/token"); },
         [url](const std::string&, const http::response& answer) {
             // A token was issued when the answer carries one that opens the registry.
             if (answer.body.find("authorizationToken") == std::string::npos) return false;
             const auto token =
                 json::parse(answer.body).at("authorizationData").at(0).at("authorizationToken");
             auto req = load::make_request(
                 url,
                 "GET",
                 "/v2/",
                 {},
                 {{"Authorization", "Basic " + std::string(token.as_string())}}
             );
             return load::send(req).status == 200;
         }}
    );
    t.push_back(
        {"Batch",
         "batch",
         wire::aws_json,
         [json_req](const std::string& id) {
             return json_req(
                 "POST",
                 "/v1/createcomputeenvironment",
                 {{"computeEnvironmentName", id}, {"type", "UNMANAGED"}}
             );
         },
         [](const std::string&) { return std::string("/v1/createjobqueue"); },
         [](const std::string& id, const http::response&) {
             const auto r = signed_call(
                 "batch",
                 "POST",
                 "/v1/describecomputeenvironments",
                 json::serialize(json::object{{"computeEnvironments", json::array{id}}})
             );
             return !json::parse(r.body).at("computeEnvironments").as_array().empty();
         }}
    );
    t.push_back(
        {"ApiGatewayControlPlane",
         "apigateway",
         wire::aws_json,
         [json_req](const std::string& id) {
             return json_req("POST", "/restapis", {{"name", id}});
         },
         [](const std::string&) { return std::string("/restapis/sweep"); },
         [](const std::string& id, const http::response&) {
             const auto r = signed_call("apigateway", "GET", "/restapis?limit=500");
             return r.body.find("\"name\":\"" + id + "\"") != std::string::npos;
         }}
    );
    t.push_back(
        {"EcrRegistry",
         "",
         wire::registry,
         [url](const std::string& id) {
             const std::string data = blob_for(id);
             return load::make_request(
                 url,
                 "POST",
                 "/v2/sweep/registry/blobs/uploads/?digest=" + digest_of(data),
                 data
             );
         },
         nullptr,
         [url](const std::string& id, const http::response&) {
             auto req = load::make_request(
                 url,
                 "HEAD",
                 "/v2/sweep/registry/blobs/" + digest_of(blob_for(id)),
                 {},
                 {{"Authorization", basic("test", "test")}}
             );
             return load::send(req).status == 200;
         }}
    );
    return t;
}

/// One row of the table: a service, an attack, what the emulator must answer.
struct row {
    std::string service;
    attack what;
    int status;        ///< 0: any 2xx
    std::string code;  ///< the error code; empty for the controls
};

std::vector<row> table() {
    std::vector<row> rows;
    const std::vector<attack> sigv4_attacks = {
        attack::valid,
        attack::valid_presigned,
        attack::no_auth,
        attack::wrong_secret,
        attack::unknown_key,
        attack::stale_date,
        attack::future_date,
        attack::expired_presign,
        attack::replay_path,
        attack::replay_method,
        attack::replay_query,
        attack::replay_body,
        attack::replay_body_hash};
    for (const char* svc :
         {"S3",
          "LambdaControlPlane",
          "LambdaInvoke",
          "CloudWatchLogs",
          "EcrControlPlane",
          "EcrAuthorizationToken",
          "Batch",
          "ApiGatewayControlPlane"}) {
        const bool s3 = std::string(svc) == "S3";
        for (const attack a : sigv4_attacks) {
            row r{svc, a, 403, ""};
            switch (a) {
                case attack::valid:
                case attack::valid_presigned:
                    r.status = 0;
                    break;
                case attack::no_auth:
                    r.code = s3 ? "AccessDenied" : "MissingAuthenticationTokenException";
                    break;
                case attack::wrong_secret:
                    r.code = s3 ? "SignatureDoesNotMatch" : "InvalidSignatureException";
                    break;
                case attack::unknown_key:
                    r.code = s3 ? "InvalidAccessKeyId" : "UnrecognizedClientException";
                    break;
                case attack::stale_date:
                case attack::future_date:
                    r.code = s3 ? "RequestTimeTooSkewed" : "InvalidSignatureException";
                    break;
                case attack::expired_presign:
                    r.code = s3 ? "AccessDenied" : "AccessDeniedException";
                    break;
                case attack::replay_path:
                case attack::replay_method:
                case attack::replay_query:
                    r.code = s3 ? "SignatureDoesNotMatch" : "InvalidSignatureException";
                    break;
                case attack::replay_body:
                case attack::replay_body_hash:
                    // S3 signs x-amz-content-sha256 and checks the body against it.
                    if (s3) {
                        r.status = 400;
                        r.code = "XAmzContentSHA256Mismatch";
                    } else {
                        r.code = "InvalidSignatureException";
                    }
                    break;
                default:
                    break;
            }
            rows.push_back(r);
        }
    }
    rows.push_back({"EcrRegistry", attack::basic_valid, 0, ""});
    for (const attack a :
         {attack::basic_none,
          attack::basic_wrong_secret,
          attack::basic_unknown_user,
          attack::basic_unknown_token,
          attack::basic_sigv4})
        rows.push_back({"EcrRegistry", a, 401, "DENIED"});
    return rows;
}

/// The error code in `r`, read the way the service's clients read it.
std::string code_of(const http::response& r, wire format) {
    if (format == wire::s3_xml) {
        const auto a = r.body.find("<Code>");
        const auto b = r.body.find("</Code>");
        return a == std::string::npos || b == std::string::npos ? std::string()
                                                                : r.body.substr(a + 6, b - a - 6);
    }
    boost::system::error_code ec;
    const auto doc = json::parse(r.body, ec);
    if (format == wire::registry) {
        if (ec || !doc.is_object() || !doc.as_object().contains("errors")) return {};
        return std::string(doc.at("errors").at(0).at("code").as_string());
    }
    // botocore: x-amzn-ErrorType first (the part before ':'), else __type (after '#').
    if (auto h = r.header("x-amzn-errortype")) return std::string(h->substr(0, h->find(':')));
    if (!ec && doc.is_object()) {
        if (const auto* t = doc.as_object().if_contains("__type"); t != nullptr && t->is_string()) {
            const std::string type(t->as_string());
            return type.substr(type.find('#') == std::string::npos ? 0 : type.find('#') + 1);
        }
    }
    return {};
}

/// Sends row `r`'s request and checks the answer and the effect.
void check(const row& r, const std::vector<target>& all) {
    const auto& url = the_world().url;
    target tgt;
    for (const auto& t : all)
        if (t.name == r.service) tgt = t;
    ASSERT_FALSE(tgt.name.empty());

    // A resource name of its own per row (lower case: ECR repository names).
    std::string id = "row-" + scar::encoding::to_lower(r.service + "-" + name_of(r.what));
    const std::string other_id = id + "-b";
    http::request req = tgt.make(id);
    const auto now = scar::clock::system().now();
    const scar::aws::credentials good = load::emulator_credentials;
    switch (r.what) {
        case attack::valid:
            load::sign(req, tgt.service);
            break;
        case attack::valid_presigned:
        case attack::expired_presign: {
            const bool expired = r.what == attack::expired_presign;
            const auto p =
                scar::sigv4::signing_params::make(good, "us-east-1", tgt.service, expired ? now - 2h : now);
            req.url = scar::sigv4::presign(req, p, expired ? 1h : 5min).value();
            break;
        }
        case attack::no_auth:
            break;
        case attack::wrong_secret:
            load::sign(req, tgt.service, {"test", "not-the-secret", "", "t"});
            break;
        case attack::unknown_key:
            load::sign(req, tgt.service, {"AKIAUNKNOWNKEY000000", "test", "", "t"});
            break;
        case attack::stale_date:
            load::sign(req, tgt.service, good, now - 20min);
            break;
        case attack::future_date:
            load::sign(req, tgt.service, good, now + 20min);
            break;
        case attack::replay_path: {
            load::sign(req, tgt.service);
            req.url = url + tgt.other_path(id);
            break;
        }
        case attack::replay_method:
            load::sign(req, tgt.service);
            req.method = req.method == "POST" ? "PUT" : "POST";
            break;
        case attack::replay_query:
            load::sign(req, tgt.service);
            req.url += req.url.find('?') == std::string::npos ? "?x=1" : "&x=1";
            break;
        case attack::replay_body:
        case attack::replay_body_hash: {
            load::sign(req, tgt.service);
            const std::string signed_hash = scar::encoding::to_hex(scar::crypto::sha256_of(req.body));
            auto other = tgt.make(other_id).body;
            if (other == req.body) other = req.body + " ";  // a body that names no resource
            req.body = std::move(other);
            if (r.what == attack::replay_body_hash)
                scar::http::set_header(req.headers, "x-amz-content-sha256", signed_hash);
            break;
        }
        case attack::basic_valid:
            scar::http::set_header(req.headers, "Authorization", basic("test", "test"));
            break;
        case attack::basic_none:
            break;
        case attack::basic_wrong_secret:
            scar::http::set_header(req.headers, "Authorization", basic("test", "not-the-secret"));
            break;
        case attack::basic_unknown_user:
            scar::http::set_header(req.headers, "Authorization", basic("nobody", "test"));
            break;
        case attack::basic_unknown_token:
            scar::http::set_header(
                req.headers,
                "Authorization",
                basic("AWS", "0123456789abcdef0123456789abcdef0123456789abcdef")
            );
            break;
        case attack::basic_sigv4:
            load::sign(req, "ecr");
            break;
    }
    const auto answer = load::send(req);

    if (r.status == 0) {
        EXPECT_GE(answer.status, 200) << answer.body;
        EXPECT_LT(answer.status, 300) << answer.body;
        EXPECT_TRUE(tgt.happened(id, answer)) << "the control request had no effect";
        return;
    }
    EXPECT_EQ(answer.status, r.status) << answer.body;
    EXPECT_EQ(code_of(answer, tgt.format), r.code) << answer.body;
    if (tgt.format == wire::s3_xml) {
        EXPECT_NE(answer.body.find("<Error>"), std::string::npos) << answer.body;
    }
    if (tgt.format == wire::aws_json) {
        EXPECT_NE(scar::encoding::to_lower(answer.body).find("\"message\""), std::string::npos)
            << answer.body;
    }
    EXPECT_FALSE(tgt.happened(id, answer)) << "a refused request took effect";
    EXPECT_FALSE(tgt.happened(other_id, answer)) << "a refused request took effect (the other resource)";
}

// One test for the whole table (one emulator for all rows: a test per row would start 110
// emulators under ctest); each row's failures name the row.
TEST(AuthSweep, EveryServiceRefusesBadSignaturesWithItsOwnErrorAndNoEffect) {
    auto& w = the_world();
    w.emu = std::make_unique<scar::testing::emulator_process>(
        std::filesystem::path{},
        std::vector<std::string>{"--no-fsync"}
    );
    w.url = w.emu->url();
    // What the rows need: a bucket, two functions to invoke, a repository to push to.
    ASSERT_EQ(w.emu->s3("PUT", "/sweep").status, 200);
    load::create_function(w.url, "sweep");
    load::create_function(w.url, "sweep-other");
    ASSERT_EQ(
        json11_call(
            "ecr",
            "AmazonEC2ContainerRegistry_V20150921.CreateRepository",
            {{"repositoryName", "sweep/registry"}}
        ).status,
        200
    );
    const auto all = targets();
    const auto rows = table();
    for (const auto& r : rows) {
        const std::string name = r.service + "_" + name_of(r.what);
        SCOPED_TRACE(name);
        check(r, all);
        std::printf(
            "[ ROW      ] %-24s %-34s %s %s\n",
            r.service.c_str(),
            name_of(r.what),
            r.status == 0 ? "2xx" : std::to_string(r.status).c_str(),
            r.code.c_str()
        );
    }
    EXPECT_EQ(rows.size(), 110u);
    w.emu.reset();
}

}  // namespace
