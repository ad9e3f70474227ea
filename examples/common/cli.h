#pragma once
// The examples' command lines, on CLI11 (Debian libcli11-dev): typed flags bound to
// variables, defaults shown in --help, and every value checked before training starts.
//
//   int epochs = 10; double lr = 0; bool resume = false;
//   examples::Cli cli("mnist_mlp", "Trains a 784-512-256-10 MLP.");
//   cli.add("--epochs", epochs, "passes over the training set")->check(examples::positive());
//   cli.add("--lr", lr, "learning rate")->check(examples::positive());
//   cli.flag("--resume", resume, "continue from --checkpoint");
//   cli.parse(argc, argv);   // exits 0 after --help, 2 after a bad flag
//
// What CLI11 refuses by itself: unknown flags, a missing value, integers with junk
// ("1abc", "2.5"), a choice outside its list. What the validators below add: numbers
// that are NaN, infinite or out of range ("--epochs -3", "--clip nan", "--lr -1").
// Switches take "--resume" or "--resume=true|false" (anything else is an error).
#include <CLI/CLI.hpp>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

namespace examples {

namespace detail {

// A validator accepting finite numbers v with lo < v (or lo <= v when `closed`),
// and v <= hi.
inline CLI::Validator number_range(double lo, bool closed, double hi, std::string what) {
  return CLI::Validator(
      [=](std::string& text) -> std::string {
        errno = 0;
        char* end = nullptr;
        const double v = std::strtod(text.c_str(), &end);
        if (text.empty() || end != text.c_str() + text.size() || errno == ERANGE ||
            !std::isfinite(v))
          return "got '" + text + "', expected a finite number " + what;
        if ((closed ? v < lo : v <= lo) || v > hi) return "got " + text + ", expected " + what;
        return {};
      },
      what);
}

}  // namespace detail

// Numbers > 0 (sizes, epochs, learning rates, temperatures).
inline CLI::Validator positive() { return detail::number_range(0, false, HUGE_VAL, "> 0"); }
// Numbers >= 0 (a 0 that means "off" or "all").
inline CLI::Validator non_negative() { return detail::number_range(0, true, HUGE_VAL, ">= 0"); }
// Probabilities that may be 0 but not 1 (dropout).
inline CLI::Validator probability() {
  return detail::number_range(0, true, std::nextafter(1.0, 0.0), "in [0, 1)");
}

class Cli {
 public:
  Cli(const std::string& program, const std::string& about) : app_(about, program) {
    app_.get_formatter()->column_width(36);
  }

  // A flag with a value: "--name value" or "--name=value".
  template <class T>
  CLI::Option* add(const std::string& name, T& v, const std::string& help) {
    return app_.add_option(name, v, help)->capture_default_str();
  }
  // A string flag whose value must be one of `allowed`.
  CLI::Option* choice(const std::string& name, std::string& v,
                      const std::vector<std::string>& allowed, const std::string& help) {
    return add(name, v, help)->check(CLI::IsMember(allowed));
  }
  // A switch: "--name" sets it, "--name=false" clears it.
  CLI::Option* flag(const std::string& name, bool& v, const std::string& help) {
    return app_.add_flag(name, v, help);
  }

  void parse(int argc, char** argv) {
    try {
      app_.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
      // --help prints the usage and exits 0; a bad flag prints why and exits 2.
      const int code = app_.exit(e);
      std::exit(code == 0 ? 0 : 2);
    }
  }

 private:
  CLI::App app_;
};

}  // namespace examples
