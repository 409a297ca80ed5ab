#pragma once
/// @file
/// scar-supervisor as a library: events, running the user's code, outputs, one
/// invocation end to end, and the program around it. See docs/supervisor.md.

#include <scar/supervisor/command.hpp>
#include <scar/supervisor/event.hpp>
#include <scar/supervisor/output.hpp>
#include <scar/supervisor/runtime.hpp>
#include <scar/supervisor/supervisor.hpp>
