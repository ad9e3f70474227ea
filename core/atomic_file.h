#pragma once
// Atomic file replacement: readers of `path` see either the old file or the complete
// new one, never a torn write, even across a crash or power loss.
//
// write_file_atomic writes into a temporary file in the same folder (named
// ".<name>.tmp.<random>", locked with flock while it is written), fsyncs it, renames it
// over `path` and fsyncs the folder. It first removes the temporaries of `path` that no
// writer holds any more: those a writer killed mid-save (even by SIGKILL) left behind. An
// existing target keeps its permission bits; a new one gets 0666 minus the umask. On
// any failure — including an exception thrown by the `fill` callback — the temporary
// file is removed, `path` is left exactly as it was, and descent::Error names the path
// and the errno text ("write_file_atomic: cannot write 'ckpt/model.safetensors': No
// space left on device"). Exceptions from `fill` propagate unchanged.
#include <cstddef>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace descent {

// Receives the new file's bytes in order; write() throws descent::Error on failure.
class AtomicWriter {
 public:
  void write(const void* data, size_t n);
  void write(std::string_view s) { write(s.data(), s.size()); }
  size_t bytes_written() const { return written_; }

 private:
  friend void write_file_atomic(const std::string&, const std::function<void(AtomicWriter&)>&);
  AtomicWriter(int fd, const std::string& path, const std::string& tmp)
      : fd_(fd), path_(path), tmp_(tmp) {}
  int fd_;
  const std::string& path_;
  const std::string& tmp_;
  size_t written_ = 0;
};

// Streams the new contents through `fill`, which may call writer.write() any number
// of times (so large files need not be assembled in memory).
void write_file_atomic(const std::string& path, const std::function<void(AtomicWriter&)>& fill);

void write_file_atomic(const std::string& path, std::span<const std::byte> bytes);
void write_file_atomic(const std::string& path, std::string_view bytes);

// The whole file; throws descent::Error naming `who`, the path and the errno text.
std::vector<std::byte> read_file_bytes(const std::string& path, std::string_view who);

}  // namespace descent
