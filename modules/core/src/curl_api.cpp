#include "curl_api.hpp"

#include <mutex>
#include <optional>
#include <string>

#include <dlfcn.h>

namespace scar::http::detail {
namespace {

constexpr const char* install_hint =
    "; scar's HTTP client needs libcurl 7.66 or later: apt-get install libcurl4";

/// Resolves `name` into `slot`; false (and `missing` set) when libcurl lacks it.
template <class Fn>
bool resolve(void* lib, const char* name, Fn& slot, std::string& missing) {
    void* sym = ::dlsym(lib, name);
    if (sym == nullptr) {
        missing += missing.empty() ? name : std::string(", ") + name;
        return false;
    }
    // POSIX guarantees that a dlsym result converts to a function pointer.
    slot = reinterpret_cast<Fn>(sym);  // NOLINT(cppcoreguidelines-pro-type-reinterpret-cast)
    return true;
}

result<const curl_api*> load(curl_api& api) {
    // RTLD_NOW: every relocation is paid here, not in the middle of a transfer; the handle
    // is never closed (libcurl keeps global state until the process ends).
    void* lib = ::dlopen(libcurl_soname, RTLD_NOW | RTLD_LOCAL);
    if (lib == nullptr) {
        const char* why = ::dlerror();
        return make_error(
            "MissingLibrary",
            std::string("cannot load ") + libcurl_soname + ": " + (why != nullptr ? why : "not found") +
                install_hint
        );
    }
    std::string missing;
    bool ok = true;
    ok &= resolve(lib, "curl_global_init", api.global_init, missing);
    ok &= resolve(lib, "curl_easy_init", api.easy_init, missing);
    ok &= resolve(lib, "curl_easy_cleanup", api.easy_cleanup, missing);
    ok &= resolve(lib, "curl_easy_reset", api.easy_reset, missing);
    ok &= resolve(lib, "curl_easy_perform", api.easy_perform, missing);
    ok &= resolve(lib, "curl_easy_setopt", api.easy_setopt, missing);
    ok &= resolve(lib, "curl_easy_getinfo", api.easy_getinfo, missing);
    ok &= resolve(lib, "curl_easy_strerror", api.easy_strerror, missing);
    ok &= resolve(lib, "curl_slist_append", api.slist_append, missing);
    ok &= resolve(lib, "curl_slist_free_all", api.slist_free_all, missing);
    ok &= resolve(lib, "curl_multi_init", api.multi_init, missing);
    ok &= resolve(lib, "curl_multi_cleanup", api.multi_cleanup, missing);
    ok &= resolve(lib, "curl_multi_add_handle", api.multi_add_handle, missing);
    ok &= resolve(lib, "curl_multi_remove_handle", api.multi_remove_handle, missing);
    ok &= resolve(lib, "curl_multi_perform", api.multi_perform, missing);
    ok &= resolve(lib, "curl_multi_poll", api.multi_poll, missing);
    ok &= resolve(lib, "curl_multi_info_read", api.multi_info_read, missing);
    ok &= resolve(lib, "curl_multi_strerror", api.multi_strerror, missing);
    if (!ok) {
        return make_error(
            "MissingLibrary",
            std::string(libcurl_soname) + " lacks " + missing + " (too old?)" + install_hint
        );
    }
    if (const CURLcode rc = api.global_init(CURL_GLOBAL_DEFAULT); rc != CURLE_OK) {
        return make_error(
            "MissingLibrary",
            std::string("libcurl could not initialise: ") + api.easy_strerror(rc) + " (curl " +
                std::to_string(static_cast<int>(rc)) + "); is its TLS library (libssl3) installed?"
        );
    }
    return &api;
}

}  // namespace

result<const curl_api*> curl_api::get() {
    static curl_api api;
    static std::optional<result<const curl_api*>> loaded;
    static std::once_flag once;
    std::call_once(once, [] { loaded.emplace(load(api)); });
    return *loaded;
}

}  // namespace scar::http::detail
