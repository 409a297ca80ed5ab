// The examples of conf/examples end to end, as a user runs them: images built from Debian
// packages by scripts/examples.sh (cached in <build>/examples) and imported into a real
// scar-emulator's ECR; `scar init` of the example's definition; inputs made by the example's
// own script inside its image and uploaded with `scar put`; outputs checked byte by byte
// (image headers parsed here, not by ImageMagick).
//
// The first run downloads the Debian packages (~150 MB) and builds the root filesystems;
// without Debian's archive the tests are skipped, except under CI=true, where they fail.

#include <scar/apigw/client.hpp>
#include <scar/batch/client.hpp>
#include <scar/config/function.hpp>
#include <scar/s3/client.hpp>
#include <scar/sandbox/container.hpp>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <thread>

#include <scar/testing/emulator_process.hpp>

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace std::chrono_literals;

const fs::path source_dir = SCAR_SOURCE_DIR;
const fs::path examples_conf = source_dir / "conf" / "examples";

void write(const fs::path& p, std::string_view text) {
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
}

std::string read(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

// ---------------------------------------------------------------------------------------
// Image headers: what a file says it is, read from its bytes.

struct picture {
    std::string format;  ///< "png" or "jpeg"
    std::uint32_t width = 0;
    std::uint32_t height = 0;
    bool gray = false;  ///< one channel (PNG gray or gray+alpha, a palette of grays; 1-component JPEG)
};

std::uint32_t be(std::string_view b, std::size_t at, int bytes) {
    std::uint32_t v = 0;
    for (int i = 0; i < bytes; ++i)
        v = (v << 8) | static_cast<unsigned char>(b[at + static_cast<std::size_t>(i)]);
    return v;
}

std::optional<picture> parse_png(std::string_view b) {
    if (b.size() < 33 || b.substr(0, 8) != "\x89PNG\r\n\x1a\n" || b.substr(12, 4) != "IHDR")
        return std::nullopt;
    picture p{"png", be(b, 16, 4), be(b, 20, 4), false};
    const auto color_type = static_cast<unsigned char>(b[25]);
    p.gray = color_type == 0 || color_type == 4;
    if (color_type == 3) {  // a palette: gray when every entry is
        for (std::size_t at = 8; at + 12 <= b.size();) {
            const auto len = be(b, at, 4);
            if (b.substr(at + 4, 4) == "PLTE" && at + 8 + len <= b.size()) {
                p.gray = true;
                for (std::size_t e = at + 8; e + 3 <= at + 8 + len; e += 3)
                    p.gray = p.gray && b[e] == b[e + 1] && b[e + 1] == b[e + 2];
                break;
            }
            at += 12 + len;
        }
    }
    return p;
}

std::optional<picture> parse_jpeg(std::string_view b) {
    if (b.size() < 4 || static_cast<unsigned char>(b[0]) != 0xFF || static_cast<unsigned char>(b[1]) != 0xD8)
        return std::nullopt;
    for (std::size_t at = 2; at + 4 <= b.size();) {
        if (static_cast<unsigned char>(b[at]) != 0xFF) return std::nullopt;
        const auto marker = static_cast<unsigned char>(b[at + 1]);
        const auto len = be(b, at + 2, 2);
        // Start of frame: every SOFn but DHT (C4), JPG (C8) and DAC (CC).
        if (marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC) {
            if (at + 10 > b.size()) return std::nullopt;
            return picture{"jpeg", be(b, at + 7, 2), be(b, at + 5, 2), b[at + 9] == 1};
        }
        at += 2 + len;
    }
    return std::nullopt;
}

std::optional<picture> parse_picture(std::string_view b) {
    if (auto p = parse_png(b)) return p;
    return parse_jpeg(b);
}

TEST(PictureHeaders, ReadsPngAndJpeg) {
    std::string png = "\x89PNG\r\n\x1a\n";
    // IHDR: length 13, 160 x 120, 8 bits, colour type 0 (gray), then a CRC (not checked).
    png += std::string("\0\0\0\x0dIHDR\0\0\0\xa0\0\0\0\x78\x08\x00\0\0\0crc!", 25);
    auto p = parse_picture(png);
    ASSERT_TRUE(p);
    EXPECT_EQ(p->format, "png");
    EXPECT_EQ(p->width, 160U);
    EXPECT_EQ(p->height, 120U);
    EXPECT_TRUE(p->gray);
    png[25] = 2;  // RGB
    EXPECT_FALSE(parse_picture(png)->gray);
    // SOI, an APP0 of 4 bytes, SOF0: 8-bit, 46 high, 70 wide, 3 components.
    const std::string jpeg("\xff\xd8\xff\xe0\x00\x04\x00\x00\xff\xc0\x00\x11\x08\x00\x2e\x00\x46\x03", 18);
    p = parse_picture(jpeg);
    ASSERT_TRUE(p);
    EXPECT_EQ(p->format, "jpeg");
    EXPECT_EQ(p->width, 70U);
    EXPECT_EQ(p->height, 46U);
    EXPECT_FALSE(p->gray);
    EXPECT_FALSE(parse_picture("GIF89a"));
}

// ---------------------------------------------------------------------------------------
// MP4 (ISO base media) structure: the video track's size and sample count, read from the
// boxes (moov/trak/tkhd and mdia/minf/stbl/stsz), not by FFmpeg.

struct movie {
    std::uint32_t width = 0;  ///< tkhd's, integer part of 16.16
    std::uint32_t height = 0;
    std::uint32_t samples = 0;  ///< stsz's sample count: frames of a video track
    bool avc = false;           ///< an avc1 (H.264) sample entry in stsd
};

/// Walks the boxes of b[from, to); containers on the way to the video track are entered.
void walk_boxes(std::string_view b, std::size_t from, std::size_t to, movie& m, bool& ok) {
    for (std::size_t at = from; ok && at + 8 <= to;) {
        std::uint64_t size = be(b, at, 4);
        const auto type = b.substr(at + 4, 4);
        std::size_t header = 8;
        if (size == 1 && at + 16 <= to) {
            size = (std::uint64_t{be(b, at + 8, 4)} << 32) | be(b, at + 12, 4);
            header = 16;
        } else if (size == 0) {
            size = to - at;
        }
        if (size < header || at + size > to) {
            ok = false;
            return;
        }
        const auto body = at + header;
        const auto end = at + static_cast<std::size_t>(size);
        if (type == "moov" || type == "trak" || type == "mdia" || type == "minf" || type == "stbl") {
            walk_boxes(b, body, end, m, ok);
        } else if (type == "tkhd" && end - body >= 84) {
            if (be(b, end - 8, 4) != 0) {  // audio tracks have no size
                m.width = be(b, end - 8, 4) >> 16;
                m.height = be(b, end - 4, 4) >> 16;
            }
        } else if (type == "stsz" && end - body >= 12) {
            m.samples = be(b, body + 8, 4);
        } else if (type == "stsd") {
            m.avc = m.avc || b.substr(body, end - body).find("avc1") != std::string_view::npos;
        }
        at = end;
    }
}

std::optional<movie> parse_mp4(std::string_view b) {
    if (b.size() < 16 || b.substr(4, 4) != "ftyp") return std::nullopt;
    movie m;
    bool ok = true;
    walk_boxes(b, 0, b.size(), m, ok);
    if (!ok || m.samples == 0) return std::nullopt;
    return m;
}

TEST(MovieBoxes, ReadsTrackSizeAndSampleCount) {
    const auto box = [](std::string_view type, const std::string& body) {
        const auto n = static_cast<std::uint32_t>(8 + body.size());
        std::string out{
            static_cast<char>(n >> 24),
            static_cast<char>(n >> 16),
            static_cast<char>(n >> 8),
            static_cast<char>(n)};
        return out + std::string(type) + body;
    };
    // tkhd: 76 bytes of version, times, ids, matrix…, then 320.0 x 240.0 in 16.16.
    const auto tkhd = box("tkhd", std::string(76, '\0') + std::string("\x01\x40\0\0\0\xf0\0\0", 8));
    // stsz: version/flags, sample size 0, 36 samples.
    const auto stsz = box("stsz", std::string("\0\0\0\0\0\0\0\0\0\0\0\x24", 12));
    const auto stsd = box("stsd", std::string(8, '\0') + box("avc1", std::string(8, '\0')));
    const auto file = box("ftyp", "isom") +
                      box("moov", box("trak", tkhd + box("mdia", box("minf", box("stbl", stsd + stsz))))) +
                      box("mdat", "frames");
    const auto m = parse_mp4(file);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->width, 320U);
    EXPECT_EQ(m->height, 240U);
    EXPECT_EQ(m->samples, 36U);
    EXPECT_TRUE(m->avc);
    EXPECT_FALSE(parse_mp4(file.substr(0, file.size() - 3))) << "a box past the end of the file";
    EXPECT_FALSE(parse_mp4("\x89PNG\r\n\x1a\n........"));
}

// ---------------------------------------------------------------------------------------
// The definitions load as the CLI loads them, and chain as their comments say.

scar::config::definitions load_example(const std::string& name, const scar::testing::temp_dir& tmp) {
    const auto user_file = tmp.path() / "empty-user-config.toml";
    write(user_file, "");
    scar::config::load_options o;
    o.files = {examples_conf / name / (name + ".toml")};
    o.user_file = user_file;
    auto defs = scar::config::load(o);
    if (!defs) throw std::runtime_error(defs.error().message);
    return *defs;
}

TEST(ExampleDefinitions, LoadAndChain) {
    const scar::testing::temp_dir tmp("scar-examples-conf");
    const auto gray = load_example("grayify", tmp);
    ASSERT_EQ(gray.functions.size(), 1U);
    EXPECT_EQ(gray.functions[0].inputs.at(0).path(), "scar-in/images");
    EXPECT_EQ(gray.functions[0].outputs.at(0).path(), "scar-out/gray");
    EXPECT_TRUE(fs::exists(gray.functions[0].init_script));

    const auto video = load_example("video-frames", tmp);
    ASSERT_EQ(video.functions.size(), 2U);
    EXPECT_EQ(video.functions[0].outputs.at(0), video.functions[1].inputs.at(0))
        << "video-split's frames are frame-gray's input: the chain";

    const auto run = load_example("run-script", tmp);
    ASSERT_EQ(run.functions.size(), 1U);
    EXPECT_TRUE(run.functions[0].inputs.empty());
    EXPECT_EQ(run.functions[0].container_environment.at("GREETING"), "hello");

    const auto batch = load_example("batch-stage", tmp);
    ASSERT_EQ(batch.functions.size(), 2U);
    EXPECT_EQ(batch.functions[0].outputs.at(0), batch.functions[1].inputs.at(0))
        << "batch-prepare's PNGs are batch-render's input: the chain";
    EXPECT_EQ(batch.functions[0].mode, scar::config::execution_mode::lambda);
    EXPECT_EQ(batch.functions[1].mode, scar::config::execution_mode::batch);
    EXPECT_EQ(batch.functions[1].batch.environment.at("VIDEO_FPS"), "12");

    const auto http = load_example("http-api", tmp);
    ASSERT_EQ(http.functions.size(), 2U);
    for (const auto& fn : http.functions) {
        ASSERT_TRUE(fn.api_gateway) << fn.name << " has an endpoint";
        EXPECT_EQ(fn.api_gateway->name, fn.name);
        EXPECT_EQ(fn.init_script, http.functions[0].init_script) << "one script behind both";
    }
    EXPECT_TRUE(http.functions[0].outputs.empty()) << "http-thumbnail answers with the file";
    EXPECT_EQ(http.functions[1].outputs.at(0).path(), "scar-http/thumbnails");
}

// ---------------------------------------------------------------------------------------
// End to end.

class Examples : public ::testing::Test {
protected:
    void SetUp() override {
        if (auto ok = scar::sandbox::check_available(); !ok) GTEST_SKIP() << ok.error().message;
        emu_ = std::make_unique<scar::testing::emulator_process>(work_.path() / "data");
        registry_ = emu_->url().substr(7);
        // The CLI finds the running emulator through $SCAR_HOME, as after `scar local up`.
        write(work_.path() / "home" / "emulator.pid", std::to_string(emu_->process().pid()));
        write(work_.path() / "home" / "emulator.endpoint", emu_->url());
        write(work_.path() / "no-user-config.toml", "");  // the machine's own scar config stays out
    }

    /// Builds (or finds cached) and imports the named images with scripts/examples.sh.
    /// Skips the test when Debian's archive is out of reach, unless CI=true.
    void images(const std::vector<std::string>& names, bool import = true) {
        scar::testing::process_options o;
        o.argv = {
            (source_dir / "scripts" / "examples.sh").string(),
            "--out",
            SCAR_EXAMPLES_DIR,
            "--endpoint",
            emu_->url()};
        for (const auto& n : names) o.argv.insert(o.argv.end(), {"--image", n});
        if (!import) o.argv.emplace_back("--no-import");
        o.env = env();
        o.env["SCAR"] = SCAR_CLI_BIN;
        const auto r = scar::testing::run(std::move(o), 840s);
        if (r.exit_code == 75) {
            const char* ci = std::getenv("CI");
            if (ci != nullptr && std::string_view(ci) == "true")
                FAIL() << "CI must build the example images: " << r.err;
            GTEST_SKIP() << "the example images cannot be built here (" << r.err
                         << "); they need Debian's package archive once, then build/examples caches them";
        }
        ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    }

    std::string image(const std::string& name) const { return registry_ + "/scar-examples/" + name + ":1"; }

    std::map<std::string, std::string> env() const {
        return {
            {"SCAR_HOME", (work_.path() / "home").string()},
            {"HOME", work_.path().string()},
            {"AWS_CONFIG_FILE", "/dev/null"},
            {"AWS_SHARED_CREDENTIALS_FILE", "/dev/null"},
            {"SCAR_CONFIG", (work_.path() / "no-user-config.toml").string()}};
    }

    scar::testing::run_result scar(std::vector<std::string> args, std::chrono::seconds timeout = 300s) {
        scar::testing::process_options o;
        o.argv = {SCAR_CLI_BIN};
        o.argv.insert(o.argv.end(), args.begin(), args.end());
        o.env = env();
        o.unset_env = {"AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN"};
        o.cwd = work_.path();
        return scar::testing::run(std::move(o), timeout);
    }

    /// `scar image …` against the emulator's ECR (reached as an ECR: the AWS variables).
    scar::testing::run_result scar_image(std::vector<std::string> args) {
        scar::testing::process_options o;
        o.argv = {SCAR_CLI_BIN, "image"};
        o.argv.insert(o.argv.end(), args.begin(), args.end());
        o.env = env();
        o.env.insert(
            {{"AWS_ENDPOINT_URL", emu_->url()},
             {"AWS_ACCESS_KEY_ID", "test"},
             {"AWS_SECRET_ACCESS_KEY", "test"},
             {"AWS_DEFAULT_REGION", "us-east-1"}}
        );
        return scar::testing::run(std::move(o), 300s);
    }

    /// Runs an example's input-making script (conf/examples/<example>/<script> DIR ARGS…)
    /// inside an example image, with `out` mounted as DIR, as the example's docs do.
    scar::testing::run_result make_inputs(
        const std::string& example,
        const std::string& image_name,
        const std::string& script,
        const fs::path& out,
        const std::vector<std::string>& args = {}
    ) {
        fs::create_directories(out);
        std::vector<std::string> argv = {
            "run",
            "-v",
            (examples_conf / example).string() + ":/example:ro",
            "-v",
            out.string() + ":/out",
            image(image_name),
            "--",
            "sh",
            "/example/" + script,
            "/out"};
        argv.insert(argv.end(), args.begin(), args.end());
        return scar_image(std::move(argv));
    }

    /// Deploys function `name` of an example with its image on this emulator.
    void init(const std::string& example, const std::string& name, const std::string& image_name) {
        const auto r = scar(
            {"init",
             "-f",
             (examples_conf / example / (example + ".toml")).string(),
             "-n",
             name,
             "--set",
             "image=" + image(image_name),
             "--supervisor",
             SCAR_SUPERVISOR_BUNDLE}
        );
        ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    }

    scar::s3::client s3() const {
        scar::s3::client_options o;
        o.endpoint = emu_->url();
        o.credentials = {"test", "test", "", "test"};
        return scar::s3::client(o);
    }

    /// The objects under bucket/prefix (folder markers left out), once there are at least
    /// `n` of them; asynchronous invocations write them, so this polls with a deadline.
    std::vector<std::string> wait_for_objects(
        const std::string& bucket,
        const std::string& prefix,
        std::size_t n
    ) const {
        auto c = s3();
        std::vector<std::string> keys;
        const auto deadline = std::chrono::steady_clock::now() + 120s;
        for (auto pause = 10ms; std::chrono::steady_clock::now() < deadline;
             pause = std::min(pause * 2, 250ms)) {
            keys.clear();
            if (auto listed = c.list_all(bucket, prefix)) {
                for (const auto& o : listed->objects)
                    if (!o.key.ends_with("/")) keys.push_back(o.key);
            }
            if (keys.size() >= n) break;
            std::this_thread::sleep_for(pause);  // polling the bucket: the objects are the event
        }
        std::sort(keys.begin(), keys.end());
        return keys;
    }

    std::string get(const std::string& bucket, const std::string& key) const {
        auto o = s3().get_object(bucket, key);
        return o ? o->body : std::string();
    }

    /// REPORT lines of a function's log (one per finished invocation).
    std::size_t reports(const std::string& fn) {
        const auto r = scar({"log", "-n", fn, "--json"});
        if (r.exit_code != 0) return 0;
        std::size_t n = 0;
        const auto lines = json::parse(r.out);  // named: a temporary's array would dangle
        for (const auto& l : lines.as_array())
            n += json::value_to<std::string>(l.at("message")).starts_with("REPORT ") ? 1 : 0;
        return n;
    }

    scar::testing::temp_dir work_{"scar-examples-e2e"};
    std::unique_ptr<scar::testing::emulator_process> emu_;
    std::string registry_;
};

/// Runs a program of an example rootfs in a sandboxed container; its stdout.
std::string run_in_rootfs(const std::string& name, std::vector<std::string> argv) {
    scar::sandbox::spec spec;
    spec.rootfs = fs::path(SCAR_EXAMPLES_DIR) / "rootfs" / name;
    spec.argv = std::move(argv);
    spec.env = {"PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"};
    std::string out;
    spec.stdout_sink.callback = [&out](std::string_view s) { out += s; };
    spec.timeout = 60s;
    const auto ran = scar::sandbox::run(spec);
    if (!ran || !ran->ok())
        return "failed: " + (ran ? std::string(to_string(ran->how)) : ran.error().message);
    return out;
}

TEST_F(Examples, ImagesRunTheirProgramsInTheSandbox) {
    images({"busybox", "imagemagick", "ffmpeg"}, false);
    if (IsSkipped() || HasFatalFailure()) return;
    EXPECT_NE(
        run_in_rootfs("imagemagick", {"convert", "-version"}).find("Version: ImageMagick 6.9"),
        std::string::npos
    );
    EXPECT_NE(run_in_rootfs("ffmpeg", {"ffmpeg", "-version"}).find("ffmpeg version 5."), std::string::npos);
    EXPECT_NE(run_in_rootfs("ffmpeg", {"ffprobe", "-version"}).find("ffprobe version 5."), std::string::npos);
    EXPECT_EQ(run_in_rootfs("busybox", {"sh", "-c", "echo $((6 * 7))"}), "42\n");
    // Docs and manuals are not in the images.
    EXPECT_FALSE(fs::exists(fs::path(SCAR_EXAMPLES_DIR) / "rootfs" / "ffmpeg" / "usr" / "share" / "doc"));
}

TEST_F(Examples, GrayifyMakesGrayscaleCopiesOfEveryUpload) {
    images({"imagemagick"});
    if (IsSkipped() || HasFatalFailure()) return;
    const auto samples = work_.path() / "samples";
    const auto made = make_inputs("grayify", "imagemagick", "make-samples.sh", samples);
    ASSERT_EQ(made.exit_code, 0) << made.out << made.err;
    std::map<std::string, picture> inputs;
    for (const auto& e : fs::directory_iterator(samples)) {
        const auto p = parse_picture(read(e.path()));
        ASSERT_TRUE(p) << e.path() << " is neither PNG nor JPEG";
        EXPECT_FALSE(p->gray) << e.path() << ": a sample must be in colour for the test to mean something";
        inputs[e.path().filename().string()] = *p;
    }
    ASSERT_EQ(inputs.size(), 4U);

    // The imported image's own command (CMD convert -version) runs through scar too.
    const auto version = scar_image({"run", image("imagemagick")});
    EXPECT_EQ(version.exit_code, 0) << version.err;
    EXPECT_NE(version.out.find("Version: ImageMagick 6.9"), std::string::npos) << version.out;

    ASSERT_NO_FATAL_FAILURE(init("grayify", "grayify", "imagemagick"));
    const auto put = scar({"put", "-b", "scar-in/images", "-p", samples.string()});
    ASSERT_EQ(put.exit_code, 0) << put.err;
    const auto keys = wait_for_objects("scar-out", "gray/", inputs.size());
    ASSERT_EQ(keys.size(), inputs.size()) << scar({"log", "-n", "grayify"}).out;
    for (const auto& [name, in] : inputs) {
        const auto out = parse_picture(get("scar-out", "gray/" + name));
        ASSERT_TRUE(out) << "gray/" << name << " is not an image";
        EXPECT_EQ(out->format, in.format) << name;
        EXPECT_EQ(out->width, in.width) << name;
        EXPECT_EQ(out->height, in.height) << name;
        EXPECT_TRUE(out->gray) << "gray/" << name << " is not grayscale";
    }
    const auto log = scar({"log", "-n", "grayify"});
    EXPECT_NE(log.out.find("grayify: images/rose.jpg -> rose.jpg (70x46 Gray)"), std::string::npos)
        << log.out;
}

TEST_F(Examples, VideoFramesSplitsAVideoAndProcessesEveryFrame) {
    images({"ffmpeg", "imagemagick"});
    if (IsSkipped() || HasFatalFailure()) return;
    constexpr int seconds = 2, fps = 5, frames = seconds * fps;
    const auto video = work_.path() / "video";
    const auto made = make_inputs(
        "video-frames",
        "ffmpeg",
        "make-video.sh",
        video,
        {std::to_string(seconds), std::to_string(fps)}
    );
    ASSERT_EQ(made.exit_code, 0) << made.out << made.err;
    ASSERT_TRUE(fs::exists(video / "clip.mp4"));

    ASSERT_NO_FATAL_FAILURE(init("video-frames", "video-split", "ffmpeg"));
    ASSERT_NO_FATAL_FAILURE(init("video-frames", "frame-gray", "imagemagick"));
    const auto put = scar({"put", "-b", "scar-video/input", "-p", (video / "clip.mp4").string()});
    ASSERT_EQ(put.exit_code, 0) << put.err;

    const auto processed = wait_for_objects("scar-video", "processed/", frames);
    ASSERT_EQ(processed.size(), static_cast<std::size_t>(frames))
        << scar({"log", "-n", "video-split"}).out << scar({"log", "-n", "frame-gray"}).out;
    const auto split = wait_for_objects("scar-video", "frames/", frames);
    EXPECT_EQ(split.size(), static_cast<std::size_t>(frames)) << "one frame per 1/fps of the video, no more";
    EXPECT_EQ(split.front(), "frames/clip/0001.png");
    EXPECT_EQ(
        split.back(),
        "frames/clip/" + std::string(frames < 10 ? "000" : "00") + std::to_string(frames) + ".png"
    );
    for (const auto& key : processed) {
        const auto p = parse_picture(get("scar-video", key));
        ASSERT_TRUE(p) << key;
        EXPECT_EQ(p->format, "png") << key;
        EXPECT_EQ(p->width, 80U) << key << ": half of the video's 160x120";
        EXPECT_EQ(p->height, 60U) << key;
        EXPECT_TRUE(p->gray) << key;
    }
    const auto first = parse_picture(get("scar-video", split.front()));
    ASSERT_TRUE(first);
    EXPECT_EQ(first->width, 160U);
    EXPECT_FALSE(first->gray) << "the frames themselves are in colour";
    // The fan-out: one invocation of frame-gray per frame, one of video-split.
    EXPECT_EQ(reports("frame-gray"), static_cast<std::size_t>(frames));
    EXPECT_EQ(reports("video-split"), 1U);
    EXPECT_NE(
        scar({"log", "-n", "video-split"}).out.find("-> " + std::to_string(frames) + " frames"),
        std::string::npos
    );
}

TEST_F(Examples, RunScriptRunsAScriptInAPlainImage) {
    images({"busybox"});
    if (IsSkipped() || HasFatalFailure()) return;
    ASSERT_NO_FATAL_FAILURE(init("run-script", "run-script", "busybox"));
    const auto r =
        scar({"run", "-n", "run-script", "-s", (examples_conf / "run-script" / "hello.sh").string()});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(
        r.out,
        "hello from run-script (256 MB)\n"
        "root file system: read-only\n"
        "/tmp: writable\n"
        "primes below 60: 2 3 5 7 11 13 17 19 23 29 31 37 41 43 47 53 59\n"
    );
}

TEST_F(Examples, BatchStagePreparesInLambdaAndRendersOnBatch) {
    images({"imagemagick", "ffmpeg"});
    if (IsSkipped() || HasFatalFailure()) return;
    const auto photos = work_.path() / "photos";
    const auto made = make_inputs("batch-stage", "imagemagick", "make-samples.sh", photos);
    ASSERT_EQ(made.exit_code, 0) << made.out << made.err;
    std::vector<std::string> stems;
    for (const auto& e : fs::directory_iterator(photos)) stems.push_back(e.path().stem().string());
    std::sort(stems.begin(), stems.end());
    ASSERT_EQ(stems, (std::vector<std::string>{"logo", "plasma", "rose"}));

    ASSERT_NO_FATAL_FAILURE(init("batch-stage", "batch-prepare", "imagemagick"));
    ASSERT_NO_FATAL_FAILURE(init("batch-stage", "batch-render", "ffmpeg"));
    const auto ls = json::parse(scar({"ls", "--json"}).out);
    std::map<std::string, std::string> modes;
    for (const auto& f : ls.as_array())
        modes[json::value_to<std::string>(f.at("name"))] = json::value_to<std::string>(f.at("mode"));
    EXPECT_EQ(modes["batch-prepare"], "lambda");
    EXPECT_EQ(modes["batch-render"], "batch");

    const auto put = scar({"put", "-b", "scar-batch/uploads", "-p", photos.string()});
    ASSERT_EQ(put.exit_code, 0) << put.err;

    // Stage 1, in Lambda: every upload as a 320x240 PNG, whatever its size and format.
    const auto prepared = wait_for_objects("scar-batch", "prepared/", stems.size());
    ASSERT_EQ(prepared.size(), stems.size()) << scar({"log", "-n", "batch-prepare"}).out;
    for (std::size_t i = 0; i < stems.size(); ++i) {
        EXPECT_EQ(prepared[i], "prepared/" + stems[i] + ".png");
        const auto p = parse_picture(get("scar-batch", prepared[i]));
        ASSERT_TRUE(p) << prepared[i];
        EXPECT_EQ(p->format, "png") << prepared[i];
        EXPECT_EQ(p->width, 320U) << prepared[i];
        EXPECT_EQ(p->height, 240U) << prepared[i];
    }

    // Stage 2, on Batch: one job per prepared image, each a 3 s video at 12 fps.
    const auto videos = wait_for_objects("scar-batch", "videos/", stems.size());
    ASSERT_EQ(videos.size(), stems.size()) << scar({"log", "-n", "batch-render"}).out;
    for (std::size_t i = 0; i < stems.size(); ++i) {
        EXPECT_EQ(videos[i], "videos/" + stems[i] + ".mp4");
        const auto body = get("scar-batch", videos[i]);
        const auto m = parse_mp4(body);
        ASSERT_TRUE(m) << videos[i] << " is not an MP4 (" << body.size() << " bytes)";
        EXPECT_EQ(m->width, 320U) << videos[i];
        EXPECT_EQ(m->height, 240U) << videos[i];
        EXPECT_EQ(m->samples, 36U) << videos[i] << ": 3 s at 12 fps";
        EXPECT_TRUE(m->avc) << videos[i] << " is H.264";
        EXPECT_GT(body.size(), 5000U) << videos[i] << ": 36 frames of a zoom are not empty";
    }

    // The Lambda of batch-render only submitted: its log names each job; every job
    // SUCCEEDED and its log (scar log -ri) has the script's line.
    const auto dispatch = scar({"log", "-n", "batch-render"}).out;
    std::vector<std::string> jobs;
    const std::string marker = "delegated to AWS Batch as job ";
    for (auto at = dispatch.find(marker); at != std::string::npos; at = dispatch.find(marker, at + 1)) {
        const auto from = at + marker.size();
        jobs.push_back(dispatch.substr(from, dispatch.find_first_of(" \n", from) - from));
    }
    ASSERT_EQ(jobs.size(), stems.size()) << dispatch;
    EXPECT_EQ(reports("batch-render"), stems.size()) << "one Lambda invocation per prepared image";
    EXPECT_EQ(reports("batch-prepare"), stems.size());
    for (const auto& job : jobs) {
        scar::testing::run_result log;
        const auto deadline = std::chrono::steady_clock::now() + 60s;
        for (auto pause = 20ms; std::chrono::steady_clock::now() < deadline;
             pause = std::min(pause * 2, 500ms)) {
            log = scar({"log", "-n", "batch-render", "-ri", job});
            if (log.out.find("Batch job status: SUCCEEDED") != std::string::npos ||
                log.out.find("Batch job status: FAILED") != std::string::npos)
                break;
            std::this_thread::sleep_for(pause);  // the job's end is the event; Batch has no push
        }
        ASSERT_EQ(log.exit_code, 0) << log.err;
        EXPECT_NE(log.out.find("Batch job status: SUCCEEDED"), std::string::npos) << log.out;
        EXPECT_NE(log.out.find("batch-render: job " + job + ", prepared/"), std::string::npos) << log.out;
        EXPECT_NE(log.out.find("(36 frames at 12 fps"), std::string::npos) << log.out;
    }

    // scar rm of the definition removes both functions and batch-render's Batch resources.
    const auto rm = scar({"rm", "-f", (examples_conf / "batch-stage" / "batch-stage.toml").string()});
    ASSERT_EQ(rm.exit_code, 0) << rm.out << rm.err;
    EXPECT_EQ(json::parse(scar({"ls", "--json"}).out).as_array().size(), 0U);
    scar::batch::client batch({emu_->url(), "us-east-1", {"test", "test", "", "test"}});
    EXPECT_TRUE(batch.describe_compute_environments({"batch-render"}).value().empty());
    EXPECT_TRUE(batch.describe_job_queues({"batch-render"}).value().empty());
}

TEST_F(Examples, HttpApiAnswersWithThumbnailsAndStoresThemAsynchronously) {
    images({"imagemagick"});
    if (IsSkipped() || HasFatalFailure()) return;
    const auto photos = work_.path() / "photos";
    const auto made = make_inputs("grayify", "imagemagick", "make-samples.sh", photos);
    ASSERT_EQ(made.exit_code, 0) << made.out << made.err;
    const auto logo = photos / "logo.png";  // 160x120, colour
    const auto rose = photos / "rose.jpg";  // 70x46, colour

    ASSERT_NO_FATAL_FAILURE(init("http-api", "http-thumbnail", "imagemagick"));
    ASSERT_NO_FATAL_FAILURE(init("http-api", "http-thumbnail-store", "imagemagick"));

    // The plain table shows each function's URL; --json has the same.
    const auto table = scar({"ls"});
    ASSERT_EQ(table.exit_code, 0) << table.err;
    EXPECT_NE(table.out.find("API URL"), std::string::npos) << table.out;
    std::map<std::string, std::string> urls;
    const auto listed = json::parse(scar({"ls", "--json"}).out);  // named: see reports()
    for (const auto& f : listed.as_array())
        urls[json::value_to<std::string>(f.at("name"))] = json::value_to<std::string>(f.at("api_url"));
    ASSERT_EQ(urls.size(), 2U);
    for (const auto& [name, url] : urls) {
        EXPECT_TRUE(url.starts_with(emu_->url() + "/restapis/")) << name << ": " << url;
        EXPECT_NE(table.out.find(url), std::string::npos) << name << "'s URL is not in the table:\n"
                                                          << table.out;
    }

    // Synchronous, binary in and out: a 64-pixel-wide gray PNG; the same bytes through curl.
    const auto via_scar = work_.path() / "thumb-scar.png";
    const auto inv = scar(
        {"invoke", "-n", "http-thumbnail", "-db", logo.string(), "-p", "width=64", "-o", via_scar.string()}
    );
    ASSERT_EQ(inv.exit_code, 0) << inv.out << inv.err;
    const auto thumb = read(via_scar);
    const auto p = parse_picture(thumb);
    ASSERT_TRUE(p) << "the answer is not an image (" << thumb.size() << " bytes): " << thumb.substr(0, 200);
    EXPECT_EQ(p->format, "png");
    EXPECT_EQ(p->width, 64U) << "?width=64 reached the script as CONT_VAR_width";
    EXPECT_EQ(p->height, 48U) << "160x120 scaled to 64 wide";
    EXPECT_TRUE(p->gray);

    const auto via_curl = work_.path() / "thumb-curl.png";
    scar::testing::process_options curl;
    curl.argv = {
        "curl",
        "-sS",
        "--fail-with-body",
        "--data-binary",
        "@" + logo.string(),
        "-o",
        via_curl.string(),
        urls["http-thumbnail"] + "?width=64"};
    const auto c = scar::testing::run(std::move(curl), 60s);
    ASSERT_EQ(c.exit_code, 0) << c.out << c.err;
    EXPECT_TRUE(read(via_curl) == thumb) << "curl's answer differs from scar invoke's ("
                                         << read(via_curl).size() << " vs " << thumb.size() << " bytes)";

    // The default width, and a bad one: an HTTP 500 whose body says what to fix.
    const auto wide = work_.path() / "thumb-default.png";
    ASSERT_EQ(
        scar({"invoke", "-n", "http-thumbnail", "-db", rose.string(), "-o", wide.string()}).exit_code,
        0
    );
    const auto dp = parse_picture(read(wide));
    ASSERT_TRUE(dp);
    EXPECT_EQ(dp->width, 128U);
    EXPECT_TRUE(dp->gray);
    const auto bad = scar({"invoke", "-n", "http-thumbnail", "-db", rose.string(), "-p", "width=huge"});
    EXPECT_NE(bad.exit_code, 0);
    EXPECT_NE((bad.out + bad.err).find("width must be a number of pixels"), std::string::npos)
        << bad.out << bad.err;

    // The storing endpoint, synchronously: the answer is the script's line, the same
    // thumbnail is in the bucket.
    const auto store = [&](const std::string& name, bool async) {
        std::vector<std::string> args{
            "invoke",
            "-n",
            "http-thumbnail-store",
            "-db",
            logo.string(),
            "-p",
            "width=64",
            "-p",
            "name=" + name};
        if (async) args.emplace_back("-a");
        return scar(std::move(args));
    };
    const auto stored = store("logo-sync", false);
    ASSERT_EQ(stored.exit_code, 0) << stored.out << stored.err;
    EXPECT_NE(stored.out.find("-> logo-sync.png (64x48 Gray"), std::string::npos) << stored.out;
    EXPECT_TRUE(get("scar-http", "thumbnails/logo-sync.png") == thumb)
        << "the stored thumbnail differs from the one answered";

    // Asynchronously: the call returns at once, the thumbnail follows in the bucket.
    const auto async = store("logo-async", true);
    ASSERT_EQ(async.exit_code, 0) << async.out << async.err;
    EXPECT_NE(async.out.find("launched asynchronously"), std::string::npos) << async.out;
    const auto keys = wait_for_objects("scar-http", "thumbnails/logo-async", 1);
    ASSERT_EQ(keys, (std::vector<std::string>{"thumbnails/logo-async.png"}))
        << scar({"log", "-n", "http-thumbnail-store"}).out;
    EXPECT_TRUE(get("scar-http", "thumbnails/logo-async.png") == thumb);
    EXPECT_NE(scar({"log", "-n", "http-thumbnail-store"}).out.find("API Gateway request"), std::string::npos);

    const auto rm = scar({"rm", "-f", (examples_conf / "http-api" / "http-api.toml").string()});
    ASSERT_EQ(rm.exit_code, 0) << rm.out << rm.err;
    EXPECT_EQ(json::parse(scar({"ls", "--json"}).out).as_array().size(), 0U);
    scar::apigw::client api({emu_->url(), "us-east-1", {"test", "test", "", "test"}});
    EXPECT_TRUE(api.list_rest_apis().value().empty()) << "scar rm deletes both REST APIs";
}

}  // namespace
