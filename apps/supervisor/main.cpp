// scar-supervisor: the runtime inside every scar function (Lambda custom runtime) and Batch
// job (binary mode). Everything is in modules/supervisor; see docs/supervisor.md.

#include <scar/supervisor/runtime.hpp>

#include <exception>
#include <iostream>

int main(int argc, char** argv) {
    try {
        return scar::supervisor::run(argc, argv);
    } catch (const std::exception& e) {
        std::cerr << "scar-supervisor: " << e.what() << '\n';
        return 1;
    }
}
