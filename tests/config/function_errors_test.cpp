// Every error the configuration can report, with its exact message: what is wrong, where
// (file:line:col: key) and what would be valid.

#include <scar/config/function.hpp>
#include <scar/testing/process.hpp>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace {

namespace cfg = scar::config;
namespace fs = std::filesystem;

/// A valid function header (3 lines) that cases append keys to.
constexpr std::string_view fn = "[[function]]\nname = \"f\"\nimage = \"busybox\"\n";

struct error_case {
    const char* name;
    std::string toml;  ///< "{fn}" stands for `fn`
    std::string message;
};

std::string expand(std::string s, std::string_view from, std::string_view to) {
    for (auto p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size()))
        s.replace(p, from.size(), to);
    return s;
}

std::ostream& operator<<(std::ostream& os, const error_case& c) {
    return os << c.name;
}

class ConfigError : public ::testing::TestWithParam<error_case> {
protected:
    void SetUp() override {
        std::ofstream(dir_.path() / "script.sh") << "echo hi\n";
        fs::create_directories(dir_.path() / "folder.sh");
    }
    [[nodiscard]] const fs::path& dir() const { return dir_.path(); }

private:
    scar::testing::temp_dir dir_{"scar-config-errors"};
};

TEST_P(ConfigError, MessageSaysWhereWhatAndHowToFix) {
    const auto& c = GetParam();
    const auto r = cfg::parse(expand(c.toml, "{fn}", fn), "t.toml", dir());
    ASSERT_FALSE(r) << "accepted:\n" << c.toml;
    EXPECT_EQ(r.error().code, "ConfigInvalid");
    EXPECT_EQ(r.error().message, expand(c.message, "{dir}", dir().string()));
}

const error_case cases[] = {
    // TOML itself.
    {"Syntax",
     "[[function]]\nname = \n",
     "t.toml:2:8: Error while parsing key-value pair: expected value, saw '\\n'; fix the TOML syntax "
     "(https://toml.io/en/v1.0.0)"},
    {"SyntaxRedefinedKey",
     "{fn}memory = 1\nmemory = 2\n",
     "t.toml:5:10: Error while parsing key-value pair: cannot redefine existing integer 'memory'; "
     "fix the TOML syntax (https://toml.io/en/v1.0.0)"},

    // Unknown keys: a likely typo, SCAR's name for it, or the keys that are valid there.
    {"UnknownKeyTypo",
     "{fn}timout = 30\n",
     "t.toml:4:1: function[0].timout: unknown key; did you mean 'timeout'?"},
    {"UnknownKeyCase",
     "{fn}Memory = 1024\n",
     "t.toml:4:1: function[0].Memory: unknown key; did you mean 'memory'?"},
    {"UnknownKeyListsValidOnes",
     "{fn}xyzzy = 1\n",
     "t.toml:4:1: function[0].xyzzy: unknown key; valid keys here: name, image, description, memory, "
     "timeout, timeout_threshold, ephemeral_storage, execution_mode, log_level, architecture, role, layers, "
     "init_script, run_script, file_stage_in, environment, container, input, output, api_gateway, "
     "cloudwatch, batch, deployment"},
    {"UnknownTopLevel",
     "[[functions]]\nname = \"f\"\n",
     "t.toml:1:3: functions: unknown key; write one [[function]] table per function (SCAR's functions.aws "
     "list)"},
    {"UnknownStorageType",
     "[storage.gcs.mine]\n",
     "t.toml:1:10: storage.gcs: unknown key; valid keys here: s3, minio"},
    {"ScarLambdaLevel",
     "{fn}[function.lambda]\nmemory = 1024\n",
     "t.toml:4:11: function[0].lambda: unknown key; scar has no [lambda] level: write its keys directly in "
     "[[function]]"},
    {"ScarStorageProvider",
     "{fn}[[function.input]]\nstorage_provider = \"s3\"\npath = \"in-bucket\"\n",
     "t.toml:5:1: function[0].input[0].storage_provider: unknown key; SCAR's 'storage_provider' is 'storage' "
     "here"},
    {"ScarContainerImage",
     "{fn}[function.container]\nimage = \"x\"\n",
     "t.toml:5:1: function[0].container.image: unknown key; SCAR's container.image is 'image' in "
     "[[function]]"},
    {"ScarEnableGpu",
     "{fn}[function.batch]\nenable_gpu = true\n",
     "t.toml:5:1: function[0].batch.enable_gpu: unknown key; SCAR's 'enable_gpu' is 'gpu' here"},
    {"ScarLogRetention",
     "{fn}[function.cloudwatch]\nlog_retention_policy_in_days = 7\n",
     "t.toml:5:1: function[0].cloudwatch.log_retention_policy_in_days: unknown key; SCAR's "
     "'log_retention_policy_in_days' is 'log_retention_days' here"},
    {"ScarVerify",
     "[storage.minio.m]\nendpoint = \"http://h:9000\"\nverify = false\n",
     "t.toml:3:1: storage.minio.m.verify: unknown key; SCAR's 'verify' is 'verify_tls' here"},
    {"ScarVariables",
     "{fn}[function.environment.Variables]\nA = \"b\"\n",
     "t.toml:4:23: function[0].environment.Variables: SCAR's 'Variables' level is gone: write the variables "
     "directly in [function.environment]"},
    {"FiltersOnInput",
     "{fn}[[function.input]]\npath = \"in-bucket\"\nsuffix = [\".png\"]\n",
     "t.toml:6:1: function[0].input[0].suffix: unknown key; filters apply to outputs only (every upload "
     "under an input path triggers the function); remove it or move it to a [[function.output]]"},
    {"NameInDefaults",
     "[defaults.function]\nname = \"x\"\n",
     "t.toml:2:1: defaults.function.name: unknown key; each function names itself; set name in [[function]]"},
    {"DeploymentInDefaults",
     "[defaults.function.deployment]\ntarget = \"aws\"\n",
     "t.toml:1:20: defaults.function.deployment: unknown key; set the top-level [deployment] table instead"},

    // Types, each with the fix when there is an obvious one.
    {"IntegerInQuotes",
     "{fn}memory = \"1024\"\n",
     "t.toml:4:10: function[0].memory: expected an integer, got a string (\"1024\"); write it without "
     "quotes: 1024"},
    {"IntegerWithDecimalPoint",
     "{fn}memory = 1024.0\n",
     "t.toml:4:10: function[0].memory: expected an integer, got a float (1024); write it without a decimal "
     "point: 1024"},
    {"BooleanInQuotes",
     "{fn}file_stage_in = \"true\"\n",
     "t.toml:4:17: function[0].file_stage_in: expected a boolean, got a string (\"true\"); write it without "
     "quotes: true"},
    {"StringNotQuoted",
     "{fn}description = 5\n",
     "t.toml:4:15: function[0].description: expected a string, got an integer (5); quote it"},
    {"DateForString",
     "{fn}description = 1979-05-27\n",
     "t.toml:4:15: function[0].description: expected a string, got a date/time (1979-05-27)"},
    {"StringForArray",
     "{fn}[[function.output]]\npath = \"out-bucket\"\nsuffix = \".png\"\n",
     "t.toml:6:10: function[0].output[0].suffix: expected an array of strings, got a string (\".png\"); "
     "write it as an array: [\".png\"]"},
    {"ArrayElementNotString",
     "{fn}layers = [\"a\", 2]\n",
     "t.toml:4:16: function[0].layers[1]: expected a string, got an integer (2)"},
    {"TableForArrayOfTables",
     "[function]\nname = \"f\"\n",
     "t.toml:1:1: function: expected an array of tables, got a table; write [[function]] (two brackets) for "
     "each entry"},
    {"ArrayOfTablesOfStrings",
     "{fn}input = [\"in-bucket\"]\n",
     "t.toml:4:10: function[0].input[0]: expected a table, got a string (\"in-bucket\"); write "
     "[[function.input]] tables"},
    {"ScalarForTable",
     "{fn}batch = 4\n",
     "t.toml:4:9: function[0].batch: expected a table, got an integer (4)"},
    {"VariableNotString",
     "{fn}[function.environment]\nPORT = 8080\n",
     "t.toml:5:8: function[0].environment.PORT: expected a string, got an integer (8080); quote it"},
    {"VariableIsTable",
     "{fn}[function.environment.SUB]\nA = \"b\"\n",
     "t.toml:4:1: function[0].environment.SUB: expected a string, got a table"},

    // Ranges and enumerations.
    {"BelowMinimum",
     "{fn}memory = 64\n",
     "t.toml:4:10: function[0].memory: 64 is below the minimum 128; use 128–10240"},
    {"AboveMaximum",
     "{fn}timeout = 901\n",
     "t.toml:4:11: function[0].timeout: 901 is above the maximum 900; use 1–900"},
    {"BelowMinimumOnly",
     "{fn}[function.batch]\nmemory = 2\n",
     "t.toml:5:10: function[0].batch.memory: 2 is below the minimum 4; use ≥ 4"},
    {"EphemeralStorage",
     "{fn}ephemeral_storage = 256\n",
     "t.toml:4:21: function[0].ephemeral_storage: 256 is below the minimum 512; use 512–10240"},
    {"EnumTypo",
     "{fn}execution_mode = \"lamda\"\n",
     "t.toml:4:18: function[0].execution_mode: 'lamda' is not one of lambda, batch, lambda-batch; did you "
     "mean 'lambda'?"},
    {"EnumUpperCase",
     "{fn}log_level = \"DEBUG\"\n",
     "t.toml:4:13: function[0].log_level: 'DEBUG' is not one of debug, info, warning, error; did you mean "
     "'debug'?"},
    {"EnumFar",
     "{fn}architecture = \"sparc\"\n",
     "t.toml:4:16: function[0].architecture: 'sparc' is not one of x86_64, arm64"},
    {"IntegerEnum",
     "{fn}[function.cloudwatch]\nlog_retention_days = 45\n",
     "t.toml:5:22: function[0].cloudwatch.log_retention_days: 45 is not one of 1, 3, 5, 7, 14, 30, 60, 90, "
     "120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653"},
    {"DeploymentTarget",
     "[deployment]\ntarget = \"cloud\"\n",
     "t.toml:2:10: deployment.target: 'cloud' is not one of local, aws"},
    {"TooLarge",
     "{fn}[function.batch]\nmemory = 3000000000\n",
     "t.toml:5:10: function[0].batch.memory: 3000000000 is too large; use at most 2147483647"},
    {"ProviderId",
     "[storage.minio.\"a.b\"]\nendpoint = \"http://h:9000\"\n",
     "t.toml:1:16: storage.minio.\"a.b\": an id is 1–64 letters, digits, - and _"},

    // The function itself.
    {"NoName",
     "[[function]]\nimage = \"busybox\"\n",
     "t.toml:1:1: function[0]: no name; set name = \"<name>\" (1–64 letters, digits, - and _)"},
    {"BadName",
     "[[function]]\nname = \"gray ify\"\nimage = \"busybox\"\n",
     "t.toml:2:8: function[0].name: 'gray ify' is not a function name; use 1–64 letters, digits, - and _"},
    {"NoImage",
     "[[function]]\nname = \"f\"\n",
     "t.toml:1:1: function[0]: no image; set image = \"<repository>[:tag]\" (e.g. \"grycap/imagemagick\")"},
    {"ImageWithSpace",
     "[[function]]\nname = \"f\"\nimage = \"busy box\"\n",
     "t.toml:3:9: function[0].image: 'busy box' is not an image reference: it contains white space"},
    {"DuplicateName",
     "{fn}{fn}",
     "t.toml:5:8: function[1].name: 'f' is already the name of the function at t.toml:2:8; give each "
     "function its own name"},
    {"ThresholdNotBelowTimeout",
     "{fn}timeout = 60\ntimeout_threshold = 60\n",
     "t.toml:5:21: function[0].timeout_threshold: 60 leaves the script no time (timeout is 60); use 0–59"},
    {"BadRole",
     "{fn}role = \"arn:aws:iam::12:role/x\"\n",
     "t.toml:4:8: function[0].role: 'arn:aws:iam::12:role/x' is not an IAM role ARN; use "
     "arn:aws:iam::<12-digit account>:role/<name>"},
    {"NoRoleOnAws",
     "[deployment]\ntarget = \"aws\"\n{fn}",
     "t.toml:3:1: function[0].role: deploying to AWS needs the function's IAM role; set role = "
     "\"arn:aws:iam::<account>:role/<name>\""},
    {"BadLayer",
     "{fn}layers = [\"tools\"]\n",
     "t.toml:4:11: function[0].layers[0]: 'tools' is not a layer version ARN; use "
     "arn:aws:lambda:<region>:<account>:layer:<name>:<version>"},
    {"DuplicateLayer",
     "{fn}layers = [\"arn:aws:lambda:us-east-1:123456789012:layer:t:1\", "
     "\"arn:aws:lambda:us-east-1:123456789012:layer:t:1\"]\n",
     "t.toml:4:62: function[0].layers[1]: 'arn:aws:lambda:us-east-1:123456789012:layer:t:1' is listed twice; "
     "list each layer once"},
    {"TooManyLayers",
     "{fn}layers = [\"arn:aws:lambda:us-east-1:123456789012:layer:a:1\", "
     "\"arn:aws:lambda:us-east-1:123456789012:layer:b:1\", "
     "\"arn:aws:lambda:us-east-1:123456789012:layer:c:1\", "
     "\"arn:aws:lambda:us-east-1:123456789012:layer:d:1\", "
     "\"arn:aws:lambda:us-east-1:123456789012:layer:e:1\", "
     "\"arn:aws:lambda:us-east-1:123456789012:layer:f:1\"]\n",
     "t.toml:4:10: function[0].layers: 6 layers; Lambda allows at most 5"},
    {"BadRegion",
     "{fn}[function.deployment]\nregion = \"useast1\"\n",
     "t.toml:5:10: function[0].deployment.region: 'useast1' is not an AWS region name; use one like "
     "us-east-1 or eu-west-3"},
    {"BadEndpoint",
     "[deployment]\nendpoint = \"localhost:4566\"\n{fn}",
     "t.toml:2:12: deployment.endpoint: 'localhost:4566' is not an endpoint URL; use http(s)://host[:port]"},

    // Variables.
    {"LambdaVariableName",
     "{fn}[function.environment]\nA = \"x\"\n",
     "t.toml:5:1: function[0].environment.A: not a Lambda variable name; use a letter, then letters, digits "
     "and _ (2 or more)"},
    {"LambdaReservedVariable",
     "{fn}[function.environment]\nAWS_REGION = \"x\"\n",
     "t.toml:5:1: function[0].environment.AWS_REGION: reserved by Lambda, which sets it; choose another "
     "name"},
    {"ScriptVariableName",
     "{fn}[function.container.environment]\nMY-VAR = \"x\"\n",
     "t.toml:5:1: function[0].container.environment.MY-VAR: not a variable name; use letters, digits and _, "
     "not starting with a digit"},
    {"SupervisorVariable",
     "{fn}[function.container.environment]\nINPUT_FILE_PATH = \"x\"\n",
     "t.toml:5:1: function[0].container.environment.INPUT_FILE_PATH: set by the supervisor on every "
     "invocation; choose another name"},
    {"BatchVariable",
     "{fn}[function.batch.environment]\nAWS_BATCH_X = \"x\"\n",
     "t.toml:5:1: function[0].batch.environment.AWS_BATCH_X: names starting with AWS_BATCH are reserved by "
     "Batch; choose another name"},

    // Scripts.
    {"MissingScript",
     "{fn}init_script = \"missing.sh\"\n",
     "t.toml:4:15: function[0].init_script: '{dir}/missing.sh' does not exist; a relative path starts at the "
     "directory of the file that sets it ({dir})"},
    {"ScriptIsDirectory",
     "{fn}run_script = \"folder.sh\"\n",
     "t.toml:4:14: function[0].run_script: '{dir}/folder.sh' is not a regular file; name the script itself"},

    // Inputs and outputs.
    {"NoPath",
     "{fn}[[function.input]]\nstorage = \"s3\"\n",
     "t.toml:4:1: function[0].input[0]: no path; set path = \"bucket/folder\""},
    {"StorageType",
     "{fn}[[function.output]]\nstorage = \"gcs\"\npath = \"out-bucket\"\n",
     "t.toml:5:11: function[0].output[0].storage: 'gcs' is not a storage type; use s3 or minio, as \"s3\", "
     "\"s3.<id>\" or \"minio.<id>\""},
    {"UndefinedProvider",
     "{fn}[[function.input]]\nstorage = \"minio.mine\"\npath = \"in-bucket\"\n",
     "t.toml:5:11: function[0].input[0].storage: no storage provider 'minio.mine'; define it in a "
     "[storage.minio.mine] table (here or in the user file), or use one of: s3.default"},
    {"PathIsUrl",
     "{fn}[[function.input]]\npath = \"s3://in-bucket/x\"\n",
     "t.toml:5:8: function[0].input[0].path: 's3://in-bucket/x' is a URL; write bucket/folder: "
     "'in-bucket/x'"},
    {"PathLeadingSlash",
     "{fn}[[function.input]]\npath = \"/in-bucket/x\"\n",
     "t.toml:5:8: function[0].input[0].path: '/in-bucket/x' starts with '/'; write bucket/folder: "
     "'in-bucket/x'"},
    {"PathEmpty",
     "{fn}[[function.input]]\npath = \"\"\n",
     "t.toml:5:8: function[0].input[0].path: the path is empty; write bucket/folder (or just bucket)"},
    {"PathEmptyFolder",
     "{fn}[[function.input]]\npath = \"in-bucket/a//b\"\n",
     "t.toml:5:8: function[0].input[0].path: 'in-bucket/a//b' has an empty, '.' or '..' folder; write "
     "bucket/folder/sub without them"},
    {"BucketTooShort",
     "{fn}[[function.input]]\npath = \"ab/x\"\n",
     "t.toml:5:8: function[0].input[0].path: 'ab' is not a valid bucket name (it has 2 characters); use 3–63 "
     "lowercase letters, digits, '.' and '-', starting and ending with a letter or digit"},
    {"BucketUpperCase",
     "{fn}[[function.input]]\npath = \"In-bucket\"\n",
     "t.toml:5:8: function[0].input[0].path: 'In-bucket' is not a valid bucket name ('I' is not allowed); "
     "use 3–63 lowercase letters, digits, '.' and '-', starting and ending with a letter or digit"},
    {"BucketEdge",
     "{fn}[[function.input]]\npath = \"in-bucket-\"\n",
     "t.toml:5:8: function[0].input[0].path: 'in-bucket-' is not a valid bucket name (it must start and end "
     "with a letter or digit); use 3–63 lowercase letters, digits, '.' and '-', starting and ending with a "
     "letter or digit"},
    {"BucketDots",
     "{fn}[[function.input]]\npath = \"in..bucket\"\n",
     "t.toml:5:8: function[0].input[0].path: 'in..bucket' is not a valid bucket name (it has two adjacent "
     "dots); use 3–63 lowercase letters, digits, '.' and '-', starting and ending with a letter or digit"},
    {"BucketIp",
     "{fn}[[function.input]]\npath = \"192.168.1.1\"\n",
     "t.toml:5:8: function[0].input[0].path: '192.168.1.1' is not a valid bucket name (it is formatted as an "
     "IP address); use 3–63 lowercase letters, digits, '.' and '-', starting and ending with a letter or "
     "digit"},
    {"BucketPrefix",
     "{fn}[[function.input]]\npath = \"xn--bucket\"\n",
     "t.toml:5:8: function[0].input[0].path: 'xn--bucket' is not a valid bucket name (the prefix 'xn--' is "
     "reserved); use 3–63 lowercase letters, digits, '.' and '-', starting and ending with a letter or "
     "digit"},
    {"BucketSuffix",
     "{fn}[[function.input]]\npath = \"bucket-s3alias\"\n",
     "t.toml:5:8: function[0].input[0].path: 'bucket-s3alias' is not a valid bucket name (the suffix "
     "'-s3alias' is reserved); use 3–63 lowercase letters, digits, '.' and '-', starting and ending with a "
     "letter or digit"},
    {"OutputInsideInput",
     "{fn}[[function.input]]\npath = \"work/in\"\n[[function.output]]\npath = \"work/in/out\"\n",
     "t.toml:7:8: function[0].output[0].path: 'work/in/out' is inside the input 'work/in', so every output "
     "would trigger the function again; write the outputs to another folder"},
    {"OverlappingInputs",
     "{fn}[[function.input]]\npath = \"work/in\"\n[[function]]\nname = \"g\"\nimage = "
     "\"busybox\"\n[[function.input]]\npath = \"work\"\n",
     "t.toml:10:8: function[1].input[0].path: 'work' overlaps the input 'work/in' of 'f' (t.toml:5:8); S3 "
     "refuses overlapping notifications, so use separate folders"},

    // Storage providers.
    {"MinioWithoutEndpoint",
     "[storage.minio.mine]\naccess_key = \"a\"\nsecret_key = \"s\"\n",
     "t.toml:1:1: storage.minio.mine: no endpoint; a minio provider needs endpoint = "
     "\"http(s)://host:port\""},
    {"DefaultWithCredentials",
     "[storage.s3.default]\naccess_key = \"a\"\nsecret_key = \"s\"\n",
     "t.toml:1:1: storage.s3.default: s3.default uses the function's own credentials; put explicit ones in "
     "another provider ([storage.s3.<id>])"},
    {"AccessKeyAlone",
     "[storage.s3.other]\naccess_key = \"a\"\n",
     "t.toml:1:1: storage.s3.other: access_key without secret_key; set both or neither"},
    {"SecretKeyAlone",
     "[storage.s3.other]\nsecret_key = \"s\"\n",
     "t.toml:1:1: storage.s3.other: secret_key without access_key; set both or neither"},
    {"SessionTokenAlone",
     "[storage.s3.other]\nsession_token = \"t\"\n",
     "t.toml:1:1: storage.s3.other: session_token without access_key and secret_key; set all three or none"},
    {"ProviderEndpoint",
     "[storage.minio.mine]\nendpoint = \"minio:9000\"\n",
     "t.toml:2:12: storage.minio.mine.endpoint: 'minio:9000' is not an endpoint URL; use "
     "http(s)://host[:port]"},
    {"ProviderRegion",
     "[storage.s3.other]\nregion = \"Europe\"\n",
     "t.toml:2:10: storage.s3.other.region: 'Europe' is not an AWS region name; use one like us-east-1 or "
     "eu-west-3"},

    // Batch.
    {"BatchTimeout",
     "{fn}[function.batch]\ntimeout = 30\n",
     "t.toml:5:11: function[0].batch.timeout: 30 is below Batch's minimum of 60 s; use 0 (no limit) or ≥ 60"},
    {"BatchVcpus",
     "{fn}execution_mode = \"batch\"\n[function.batch]\nvcpus = 4\n",
     "t.toml:6:9: function[0].batch.vcpus: 4 vCPUs do not fit in the compute environment (max_vcpus = 2); "
     "raise batch.max_vcpus or lower batch.vcpus"},
    {"BatchSubnetId",
     "{fn}[function.batch]\nsubnets = [\"net-1\"]\n",
     "t.toml:5:12: function[0].batch.subnets[0]: 'net-1' is not a subnet-<hex> id"},
    {"BatchSecurityGroupId",
     "{fn}[function.batch]\nsecurity_groups = [\"default\"]\n",
     "t.toml:5:20: function[0].batch.security_groups[0]: 'default' is not a sg-<hex> id"},
    {"BatchWithoutInstanceTypes",
     "{fn}execution_mode = \"lambda-batch\"\n[function.batch]\ninstance_types = []\n",
     "t.toml:1:1: function[0].batch.instance_types: execution_mode = \"lambda-batch\" needs an instance "
     "type; \"optimal\" lets Batch choose"},
    {"BatchOnAwsWithoutNetwork",
     "{fn}role = \"arn:aws:iam::123456789012:role/scar\"\nexecution_mode = "
     "\"batch\"\n[function.deployment]\ntarget = \"aws\"\n",
     "t.toml:1:1: function[0].batch.subnets: execution_mode = \"batch\" on AWS needs the compute "
     "environment's subnets; set subnets = [\"subnet-…\"]\nt.toml:1:1: function[0].batch.security_groups: "
     "execution_mode = \"batch\" on AWS needs the compute environment's security groups; set security_groups "
     "= [\"sg-…\"]"},

    // API Gateway.
    {"ApiWithoutName",
     "{fn}[function.api_gateway]\nstage = \"prod\"\n",
     "t.toml:5:9: function[0].api_gateway: no name; set name = \"<api name>\" to create the API, or remove "
     "the table"},
    {"ApiStage",
     "{fn}[function.api_gateway]\nname = \"api\"\nstage = \"my stage\"\n",
     "t.toml:6:9: function[0].api_gateway.stage: 'my stage' is not a stage name; use letters, digits, - and "
     "_"},
    {"ApiPath",
     "{fn}[function.api_gateway]\nname = \"api\"\npath = \"a/b\"\n",
     "t.toml:6:8: function[0].api_gateway.path: 'a/b' is not a path segment; use letters, digits, ., - and "
     "_"},
    {"ApiMediaType",
     "{fn}[function.api_gateway]\nname = \"api\"\nbinary_media_types = [\"png\"]\n",
     "t.toml:6:23: function[0].api_gateway.binary_media_types[0]: 'png' is not a media type; use "
     "type/subtype (image/png, */*)"},

    // Every problem is reported, not just the first.
    {"AllErrorsAtOnce",
     "[[function]]\nname = \"f\"\nmemory = 64\ntimeout = 0\n",
     "t.toml:3:10: function[0].memory: 64 is below the minimum 128; use 128–10240\nt.toml:4:11: "
     "function[0].timeout: 0 is below the minimum 1; use 1–900\nt.toml:1:1: function[0]: no image; set image "
     "= \"<repository>[:tag]\" (e.g. \"grycap/imagemagick\")"},
};

INSTANTIATE_TEST_SUITE_P(Parse, ConfigError, ::testing::ValuesIn(cases), [](const auto& p) {
    return std::string(p.param.name);
});

// Errors whose inputs are too long for the table, or that need files or the environment.

class ConfigLoadError : public ::testing::Test {
protected:
    fs::path write(const std::string& name, std::string_view text) {
        const fs::path p = dir_.path() / name;
        std::ofstream(p, std::ios::binary) << text;
        return p;
    }
    fs::path no_user() { return write("empty-user.toml", ""); }
    [[nodiscard]] const fs::path& dir() const { return dir_.path(); }

    std::string error_of(const cfg::load_options& opts) {
        const auto r = cfg::load(opts);
        EXPECT_FALSE(r);
        if (r) return {};
        EXPECT_EQ(r.error().code, "ConfigInvalid");
        return r.error().message;
    }

private:
    scar::testing::temp_dir dir_{"scar-config-load"};
};

TEST_F(ConfigLoadError, LambdaVariablesOver4KB) {
    const std::string text =
        std::string(fn) + "[function.environment]\nBIG = \"" + std::string(4100, 'x') + "\"\n";
    const auto r = cfg::parse(text, "t.toml");
    ASSERT_FALSE(r);
    EXPECT_EQ(
        r.error().message,
        "t.toml:5:7: function[0].environment: the variables take 4103 bytes; Lambda allows 4096 in all"
    );
}

TEST_F(ConfigLoadError, DescriptionOver256Characters) {
    const auto r =
        cfg::parse(std::string(fn) + "description = \"" + std::string(257, 'd') + "\"\n", "t.toml");
    ASSERT_FALSE(r);
    EXPECT_EQ(
        r.error().message,
        "t.toml:4:15: function[0].description: longer than 256 characters, which Lambda refuses; shorten it"
    );
}

TEST_F(ConfigLoadError, ApiNameOver128Characters) {
    const auto r = cfg::parse(
        std::string(fn) + "[function.api_gateway]\nname = \"" + std::string(129, 'a') + "\"\n",
        "t.toml"
    );
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message, "t.toml:5:8: function[0].api_gateway.name: longer than 128 characters");
}

TEST_F(ConfigLoadError, MissingDefinitionFile) {
    const auto missing = dir() / "nope.toml";
    EXPECT_EQ(
        error_of({.files = {missing}, .user_file = no_user()}),
        "cannot read '" + missing.string() +
            "': No such file or directory; check the path of the definition file"
    );
}

TEST_F(ConfigLoadError, DefinitionFileIsADirectory) {
    EXPECT_EQ(
        error_of({.files = {dir()}, .user_file = no_user()}),
        "cannot read '" + dir().string() + "': it is a directory; check the path of the definition file"
    );
}

TEST_F(ConfigLoadError, ScarConfigNamesAMissingFile) {
    const auto missing = (dir() / "missing.toml").string();
    ::setenv("SCAR_CONFIG", missing.c_str(), 1);
    const std::string message = error_of({});
    ::unsetenv("SCAR_CONFIG");
    EXPECT_EQ(
        message,
        "cannot read '" + missing +
            "': No such file or directory; create it or unset SCAR_CONFIG, which names it"
    );
}

TEST_F(ConfigLoadError, FunctionsInTheUserFile) {
    const auto user = write("user.toml", std::string(fn));
    EXPECT_EQ(
        error_of({.user_file = user}),
        user.string() +
            ":1:3: function: functions belong in definition files (scar init -f FILE), not in the user file; "
            "put shared keys in [defaults.function]"
    );
}

TEST_F(ConfigLoadError, UserFileErrorsNameTheUserFile) {
    const auto user = write("user.toml", "[defaults.function]\nmemory = 64\n");
    const auto file = write("fn.toml", std::string(fn));
    EXPECT_EQ(
        error_of({.files = {file}, .user_file = user}),
        user.string() + ":2:10: defaults.function.memory: 64 is below the minimum 128; use 128–10240"
    );
}

TEST_F(ConfigLoadError, DuplicateNamesAcrossFiles) {
    const auto a = write("a.toml", std::string(fn));
    const auto b = write("b.toml", "\n" + std::string(fn));
    EXPECT_EQ(
        error_of({.files = {a, b}, .user_file = no_user()}),
        b.string() + ":3:8: function[0].name: 'f' is already the name of the function at " + a.string() +
            ":2:8; give each function its own name"
    );
}

TEST_F(ConfigLoadError, Overrides) {
    const auto file = write("fn.toml", std::string(fn));
    const std::pair<const char*, const char*> overrides[] = {
        {"memory", "override 'memory': expected key=value (memory=1024, container.environment.NAME=value)"},
        {"my key=1",
         "override 'my key=1': 'my key' is not a key; write a dotted name like memory or "
         "container.environment.NAME"},
        {"memroy=1024", "override 'memroy=1024': memroy: unknown key; did you mean 'memory'?"},
        {"memory=lots", "override 'memory=lots': memory: expected an integer, got a string (\"lots\")"},
        {"memory=64", "override 'memory=64': memory: 64 is below the minimum 128; use 128–10240"},
    };
    for (const auto& [override_text, message] : overrides) {
        EXPECT_EQ(error_of({.files = {file}, .user_file = no_user(), .overrides = {override_text}}), message);
    }
}

TEST_F(ConfigLoadError, OverridesAloneWithoutImage) {
    EXPECT_EQ(
        error_of({.user_file = no_user(), .overrides = {"name=f"}}),
        "overrides: function: no image; set image = \"<repository>[:tag]\" (e.g. \"grycap/imagemagick\")"
    );
}

}  // namespace
