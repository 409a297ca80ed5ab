#include "container.hpp"

#include <csignal>

namespace scar::emulator::lambda {

result<std::unique_ptr<container_process>> container_process::start(
    sandbox::spec spec,
    line_handler on_line,
    exit_handler on_exit
) {
    auto p = std::make_unique<container_process>();
    container_process* raw = p.get();
    auto shared_line = std::make_shared<line_handler>(std::move(on_line));
    spec.stdout_sink.callback = [raw, shared_line](std::string_view data) {
        const std::lock_guard lock(raw->lines_mutex_);
        raw->out_.feed(data, *shared_line);
    };
    spec.stderr_sink.callback = [raw, shared_line](std::string_view data) {
        const std::lock_guard lock(raw->lines_mutex_);
        raw->err_.feed(data, *shared_line);
    };
    auto c = sandbox::container::start(spec);
    if (!c) return c.error().wrap("starting the function's container");
    p->pid_ = c->pid();
    p->container_.emplace(std::move(*c));
    p->waiter_ = std::thread([raw, shared_line, on_exit = std::move(on_exit)] {
        auto out = raw->container_->wait();
        {
            const std::lock_guard lock(raw->lines_mutex_);
            raw->out_.flush(*shared_line);
            raw->err_.flush(*shared_line);
        }
        std::string reason = "Runtime exited without providing a reason";
        if (!out) {
            reason = "Runtime exited with error: " + out.error().message;
        } else if (out->how == sandbox::outcome::ending::out_of_memory) {
            reason = "Runtime exited with error: signal: killed (out of memory)";
        } else if (out->how == sandbox::outcome::ending::signaled) {
            reason = "Runtime exited with error: signal: " + std::string(strsignal(out->signal));
        } else if (out->exit_code != 0) {
            reason = "Runtime exited with error: exit status " + std::to_string(out->exit_code);
        }
        on_exit(reason);
    });
    return p;
}

void container_process::kill() noexcept {
    if (container_) container_->kill();
}

container_process::~container_process() {
    kill();
    if (waiter_.joinable()) {
        if (waiter_.get_id() == std::this_thread::get_id()) {
            waiter_.detach();  // destroyed from its own exit handler
        } else {
            waiter_.join();
        }
    }
}

}  // namespace scar::emulator::lambda
