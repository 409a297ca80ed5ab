// scar dlq: the emulator's dead-letter store — asynchronous events that failed for good —
// listed, redriven or purged.

#include <scar/lambda/client.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <iomanip>
#include <iostream>
#include <memory>

#include "../commands.hpp"
#include "../support.hpp"

namespace scar::cli {
namespace {

namespace json = boost::json;

struct dlq_flags {
    std::string name;
    std::vector<std::string> ids;
    bool all = false;
    bool redrive = false;
    bool purge = false;
    bool as_json = false;
    target_flags where;
};

/// `text` on one line, cut to `width` characters.
std::string cell(std::string text, std::size_t width) {
    for (auto& c : text)
        if (c == '\n' || c == '\r' || c == '\t') c = ' ';
    if (text.size() > width) text = text.substr(0, width - 3) + "...";
    return text;
}

void print_list(const std::vector<lambda::dead_letter>& all, const dlq_flags& f) {
    if (f.as_json) {
        json::array out;
        for (const auto& d : all) {
            out.push_back(json::object{
                {"id", d.id},
                {"function", d.function_name},
                {"function_arn", d.function_arn},
                {"request_id", d.request_id},
                {"payload", d.payload},
                {"condition", d.condition},
                {"error_type", d.error_type},
                {"error_message", d.error_message},
                {"attempts", d.attempts},
                {"accepted", d.accepted},
                {"first_attempt", d.first_attempt},
                {"last_attempt", d.last_attempt},
                {"dead_lettered", d.dead_lettered}});
        }
        std::cout << json::serialize(out) << "\n";
        return;
    }
    if (all.empty()) {
        std::cout << "no dead letters" << (f.name.empty() ? "" : " for " + f.name) << "\n";
        return;
    }
    std::cout << std::left << std::setw(23) << "ID" << std::setw(20) << "FUNCTION" << std::setw(18)
              << "CONDITION" << std::setw(9) << "ATTEMPTS" << std::setw(26) << "DEAD-LETTERED"
              << std::setw(42) << "ERROR"
              << "PAYLOAD\n";
    for (const auto& d : all) {
        const auto error = d.error_type.empty() ? std::string("-") : d.error_type + ": " + d.error_message;
        std::cout << std::left << std::setw(23) << d.id << std::setw(20) << cell(d.function_name, 19)
                  << std::setw(18) << d.condition << std::setw(9) << d.attempts << std::setw(26)
                  << d.dead_lettered << std::setw(42) << cell(error, 40) << cell(d.payload, 60) << "\n";
    }
}

int redrive(lambda::client& c, const dlq_flags& f) {
    lambda::redrive_report report;
    if (f.ids.empty()) {
        report = need(c.redrive_dead_letters(f.name));
    } else {
        for (const auto& id : f.ids) {
            auto one = c.redrive_dead_letter(id);
            if (one) {
                report.redriven.push_back(std::move(*one));
            } else {
                report.failed.emplace_back(id, one.error());
            }
        }
    }
    if (f.as_json) {
        json::array redriven;
        json::array failed;
        for (const auto& r : report.redriven)
            redriven.push_back(
                json::object{{"id", r.id}, {"function", r.function_name}, {"request_id", r.request_id}}
            );
        for (const auto& [id, e] : report.failed)
            failed.push_back(json::object{{"id", id}, {"code", e.code}, {"message", e.message}});
        std::cout << json::serialize(json::object{{"redriven", redriven}, {"failed", failed}}) << "\n";
    } else {
        for (const auto& r : report.redriven)
            std::cout << "redriven " << r.id << ": " << r.function_name << ", request id " << r.request_id
                      << "\n";
        for (const auto& [id, e] : report.failed) std::cerr << "scar: " << id << ": " << e.what() << "\n";
        if (report.redriven.empty() && report.failed.empty()) std::cout << "no dead letters to redrive\n";
    }
    return report.failed.empty() ? 0 : 1;
}

int purge(lambda::client& c, const dlq_flags& f) {
    std::size_t deleted = 0;
    if (f.ids.empty()) {
        deleted = need(c.purge_dead_letters(f.name));
    } else {
        for (const auto& id : f.ids) {
            need(c.delete_dead_letter(id));
            ++deleted;
        }
    }
    if (f.as_json) {
        std::cout << json::serialize(json::object{{"deleted", deleted}}) << "\n";
    } else {
        std::cout << "deleted " << deleted << " dead letter" << (deleted == 1 ? "" : "s") << "\n";
    }
    return 0;
}

int run_dlq(const dlq_flags& f) {
    if ((f.redrive || f.purge) && f.name.empty() && f.ids.empty() && !f.all) {
        fail(make_error(
            "InvalidArgument",
            std::string("say which dead letters to ") + (f.redrive ? "redrive" : "purge") +
                ": -n FUNCTION, --id ID (repeatable) or -a (all)"
        ));
    }
    if (f.where.target == "aws") fail(lambda::emulator_only_error("AWS (--target aws)"));
    const auto t = resolve(f.where);
    if (!t.local) fail(lambda::emulator_only_error("AWS"));
    auto c = lambda_client(t);
    if (f.redrive) return redrive(c, f);
    if (f.purge) return purge(c, f);
    std::vector<lambda::dead_letter> all;
    if (f.ids.empty()) {
        all = need(c.all_dead_letters(f.name));
    } else {
        for (auto& d : need(c.all_dead_letters(f.name)))
            if (std::find(f.ids.begin(), f.ids.end(), d.id) != f.ids.end()) all.push_back(std::move(d));
    }
    print_list(all, f);
    return 0;
}

}  // namespace

void add_dlq(CLI::App& app) {
    auto f = std::make_shared<dlq_flags>();
    auto* c = app.add_subcommand(
        "dlq",
        "the emulator's dead-letter store: asynchronous events that failed every attempt (list, redrive, "
        "purge)"
    );
    c->add_option("-n,--name", f->name, "only this function's entries");
    auto* ids = c->add_option("--id", f->ids, "only these entries (repeatable; ids from the listing)");
    auto* all = c->add_flag("-a,--all", f->all, "every entry (with --redrive or --purge)");
    ids->excludes(all);
    auto* redrive = c->add_flag(
        "--redrive",
        f->redrive,
        "queue the entries again as asynchronous invocations of their function; each leaves the store once "
        "queued"
    );
    auto* purge = c->add_flag("--purge", f->purge, "delete the entries");
    redrive->excludes(purge);
    c->add_flag("--json", f->as_json, "print as JSON");
    add_target_flags(c, f->where);
    c->final_callback([f] { std::exit(run_dlq(*f)); });
}

}  // namespace scar::cli
