#pragma once
// Whole-training-state checkpoints: one call saves the model, optimizer, scheduler,
// loss scaler, early-stopping counters, data-loader position, RNG state and the
// epoch/step counters into one safetensors file (PyTorch reads its tensors; numbers
// and strings live in its header), written atomically — a crash while saving leaves
// the previous checkpoint intact.
//
//   train::Progress progress;                       // epoch and step counters
//   train::save_checkpoint("ckpt/last.safetensors",
//                          {{"model", model}, {"optimizer", opt}, {"scheduler", sched},
//                           {"scaler", scaler}, {"progress", progress}});
//   train::load_checkpoint("ckpt/last.safetensors", {{"model", model}, ...});
//
// Each part is anything with `StateDict state_dict() const` and
// `load_state_dict(const StateDict&)`; its entries are stored under "<name>." (so the
// model's weights appear as "model.0.weight"). The default generator's state is always
// saved and restored ("rng."). Loading is all-or-nothing: the file must hold every
// part, and if any part rejects its state (another model, another optimizer, other
// shapes) every part is restored to what it was and the error names the part.
#include <descent/core/state_dict.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace descent::train {

template <class T>
concept Stateful = requires(T& t, const T& ct, const StateDict& s) {
  { ct.state_dict() } -> std::convertible_to<StateDict>;
  t.load_state_dict(s);
};

// One named piece of a checkpoint (holds a reference: the object must outlive it).
struct Part {
  template <Stateful T>
  Part(std::string name_, T& obj)
      : name(std::move(name_)),
        save([&obj] { return StateDict(obj.state_dict()); }),
        load([&obj](const StateDict& s) { obj.load_state_dict(s); }) {}

  std::string name;
  std::function<StateDict()> save;
  std::function<void(const StateDict&)> load;
};

// Epoch and step counters of a training loop, plus any numbers the program wants back
// on resume (best accuracy, ...).
struct Progress {
  int64_t epoch = 0;  // completed epochs
  int64_t step = 0;   // completed optimizer steps
  std::map<std::string, double> extra;

  StateDict state_dict() const;
  void load_state_dict(const StateDict& s);
};

void save_checkpoint(const std::string& path, const std::vector<Part>& parts);
void load_checkpoint(const std::string& path, const std::vector<Part>& parts);

// The whole state as one dict (what save_checkpoint writes), and its inverse.
StateDict collect_state(const std::vector<Part>& parts);
void restore_state(const StateDict& state, const std::vector<Part>& parts,
                   std::string_view source = "checkpoint");

}  // namespace descent::train
