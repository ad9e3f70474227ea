#pragma once
// A small command-line parser for the examples: typed flags bound to variables, with
// defaults and --help generated from the declarations.
//
//   int epochs = 10; std::string data = "data/fashion-mnist"; bool resume = false;
//   examples::Args args("mnist_mlp", "Trains a 784-512-256-10 MLP.");
//   args.add("--epochs", epochs, "passes over the training set");
//   args.add("--data", data, "folder with the idx files");
//   args.flag("--resume", resume, "continue from --checkpoint");
//   args.parse(argc, argv);   // exits 0 after --help, 2 after a bad flag
//
// Values are given as "--name value" or "--name=value". A flag restricted to a set of
// words (args.choice) rejects anything else, listing the allowed words.
#include <cstdlib>
#include <functional>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace examples {

class Args {
 public:
  Args(std::string program, std::string about)
      : program_(std::move(program)), about_(std::move(about)) {}

  void add(const std::string& name, int& v, const std::string& help) {
    add_value(name, std::to_string(v), help, [&v](const std::string& s) { v = std::stoi(s); });
  }
  void add(const std::string& name, long& v, const std::string& help) {
    add_value(name, std::to_string(v), help, [&v](const std::string& s) { v = std::stol(s); });
  }
  void add(const std::string& name, double& v, const std::string& help) {
    std::ostringstream d;
    d << v;
    add_value(name, d.str(), help, [&v](const std::string& s) { v = std::stod(s); });
  }
  void add(const std::string& name, std::string& v, const std::string& help) {
    add_value(name, v.empty() ? "\"\"" : v, help, [&v](const std::string& s) { v = s; });
  }
  // A string flag whose value must be one of `allowed`.
  void choice(const std::string& name, std::string& v, const std::vector<std::string>& allowed,
              const std::string& help) {
    std::string list;
    for (const auto& a : allowed) list += (list.empty() ? "" : "|") + a;
    add_value(name, v, help + " (" + list + ")", [&v, allowed, name, list](const std::string& s) {
      for (const auto& a : allowed) {
        if (a == s) {
          v = s;
          return;
        }
      }
      throw std::invalid_argument(name + " must be one of " + list + ", got '" + s + "'");
    });
  }
  // A switch without a value.
  void flag(const std::string& name, bool& v, const std::string& help) {
    specs_.push_back({name, "", help, false, [&v](const std::string&) { v = true; }});
  }

  void parse(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
      std::string a = argv[i], value;
      if (a == "--help" || a == "-h") {
        print_help(std::cout);
        std::exit(0);
      }
      const auto eq = a.find('=');
      if (eq != std::string::npos) {
        value = a.substr(eq + 1);
        a = a.substr(0, eq);
      }
      Spec* spec = find(a);
      if (!spec) die("unknown flag '" + a + "'");
      if (spec->takes_value && eq == std::string::npos) {
        if (i + 1 >= argc) die(a + " needs a value");
        value = argv[++i];
      }
      try {
        spec->set(value);
      } catch (const std::exception& e) {
        die("bad value '" + value + "' for " + a + ": " + e.what());
      }
    }
  }

  void print_help(std::ostream& out) const {
    out << "usage: " << program_ << " [flags]\n" << about_ << "\n\nflags:\n";
    for (const Spec& s : specs_) {
      std::string left = "  " + s.name + (s.takes_value ? " <" + s.default_value + ">" : "");
      if (left.size() < 34) left.resize(34, ' ');
      out << left << " " << s.help << "\n";
    }
    out << "  --help                             this text\n";
  }

 private:
  struct Spec {
    std::string name, default_value, help;
    bool takes_value = true;
    std::function<void(const std::string&)> set;
  };
  void add_value(const std::string& name, std::string def, const std::string& help,
                 std::function<void(const std::string&)> set) {
    specs_.push_back({name, std::move(def), help, true, std::move(set)});
  }
  Spec* find(const std::string& name) {
    for (Spec& s : specs_) {
      if (s.name == name) return &s;
    }
    return nullptr;
  }
  [[noreturn]] void die(const std::string& msg) const {
    std::cerr << program_ << ": " << msg << " (see --help)\n";
    std::exit(2);
  }

  std::string program_, about_;
  std::vector<Spec> specs_;
};

}  // namespace examples
