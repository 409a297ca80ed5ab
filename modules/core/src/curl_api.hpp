#pragma once
// libcurl, loaded on first use.
//
// No program links libcurl: relocating it and its ~35 libraries (GSSAPI, LDAP, nghttp2,
// ssh, idn2, psl…) cost every program that links scar::core 15-20 ms at exec, whether or
// not it ever sent a request (docs/benchmarks.md). `curl_api::get` opens libcurl.so.4 with
// dlopen the first time a transfer needs it, resolves the functions http_client.cpp calls
// and runs curl_global_init, once per process (std::call_once).
//
// <curl/curl.h> is included for its types and constants only; its functions are reached
// through the table. The variadic curl_easy_setopt and curl_easy_getinfo are wrapped in
// typed functions so that each option gets exactly the type libcurl reads.

#define CURL_DISABLE_TYPECHECK 1
#include <scar/core/error.hpp>

#include <curl/curl.h>

namespace scar::http::detail {

/// The soname opened with dlopen (libcurl4, OpenSSL flavour, the one the headers of
/// libcurl4-openssl-dev describe).
inline constexpr const char* libcurl_soname = SCAR_LIBCURL_SONAME;

struct curl_api {
    decltype(&::curl_global_init) global_init = nullptr;
    decltype(&::curl_easy_init) easy_init = nullptr;
    decltype(&::curl_easy_cleanup) easy_cleanup = nullptr;
    decltype(&::curl_easy_reset) easy_reset = nullptr;
    decltype(&::curl_easy_perform) easy_perform = nullptr;
    decltype(&::curl_easy_setopt) easy_setopt = nullptr;
    decltype(&::curl_easy_getinfo) easy_getinfo = nullptr;
    decltype(&::curl_easy_strerror) easy_strerror = nullptr;
    decltype(&::curl_slist_append) slist_append = nullptr;
    decltype(&::curl_slist_free_all) slist_free_all = nullptr;
    decltype(&::curl_multi_init) multi_init = nullptr;
    decltype(&::curl_multi_cleanup) multi_cleanup = nullptr;
    decltype(&::curl_multi_add_handle) multi_add_handle = nullptr;
    decltype(&::curl_multi_remove_handle) multi_remove_handle = nullptr;
    decltype(&::curl_multi_perform) multi_perform = nullptr;
    decltype(&::curl_multi_poll) multi_poll = nullptr;
    decltype(&::curl_multi_info_read) multi_info_read = nullptr;
    decltype(&::curl_multi_strerror) multi_strerror = nullptr;

    /// The table, loaded and initialised on the first call (thread-safe); later calls
    /// return the same table or the same error.
    /// Errors: MissingLibrary — libcurl.so.4 cannot be opened, or lacks a function (older
    /// than 7.66); the message names the package to install.
    [[nodiscard]] static result<const curl_api*> get();

    // Typed curl_easy_setopt: the variadic argument must have exactly the type libcurl
    // reads for the option (long, curl_off_t, a pointer, a callback).
    void set_long(CURL* h, CURLoption opt, long v) const noexcept { easy_setopt(h, opt, v); }
    void set_offset(CURL* h, CURLoption opt, curl_off_t v) const noexcept { easy_setopt(h, opt, v); }
    void set_string(CURL* h, CURLoption opt, const char* v) const noexcept { easy_setopt(h, opt, v); }
    void set_pointer(CURL* h, CURLoption opt, void* v) const noexcept { easy_setopt(h, opt, v); }
    void set_list(CURL* h, CURLoption opt, curl_slist* v) const noexcept { easy_setopt(h, opt, v); }
    void set_callback(CURL* h, CURLoption opt, curl_write_callback f) const noexcept {
        easy_setopt(h, opt, f);
    }
    void set_callback(CURL* h, CURLoption opt, curl_xferinfo_callback f) const noexcept {
        easy_setopt(h, opt, f);
    }
    /// CURLINFO_PRIVATE, the only information read back.
    [[nodiscard]] void* private_data(CURL* h) const noexcept {
        char* p = nullptr;
        easy_getinfo(h, CURLINFO_PRIVATE, &p);
        return p;
    }
};

}  // namespace scar::http::detail
