#include <descent/core/atomic_file.h>
#include <descent/core/error.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <system_error>

namespace descent {
namespace {

constexpr std::string_view kOp = "write_file_atomic";

std::string errno_text(int err) { return std::error_code(err, std::generic_category()).message(); }

// "dir/name" → {"dir", "name"}; "name" → {".", "name"}.
std::pair<std::string, std::string> split_path(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return {".", path};
  return {slash == 0 ? "/" : path.substr(0, slash), path.substr(slash + 1)};
}

// Opens a fresh temporary file beside `path`; O_EXCL makes the name ours alone.
int open_temp(const std::string& dir, const std::string& name, std::string& tmp) {
  static std::atomic<uint64_t> counter{0};
  const auto now = uint64_t(std::chrono::steady_clock::now().time_since_epoch().count());
  for (int attempt = 0; attempt < 100; ++attempt) {
    const uint64_t tag = (now * 0x9e3779b97f4a7c15ull) ^ (uint64_t(::getpid()) << 32) ^
                         counter.fetch_add(1, std::memory_order_relaxed);
    tmp = fmt::format("{}/.{}.tmp.{:016x}", dir, name, tag);
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd >= 0) return fd;
    if (errno != EEXIST) return -1;
  }
  errno = EEXIST;
  return -1;
}

// Removes the temporaries of `name` that writers killed mid-save left behind. A writer
// holds an exclusive flock on its temporary until it has renamed it (the kernel drops
// the lock when the process dies, even by SIGKILL), so a temporary whose lock can be
// taken has no writer any more. Best effort: a save never fails over debris.
void remove_dead_temporaries(const std::string& dir, const std::string& name) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return;
  const std::string prefix = "." + name + ".tmp.";
  while (const dirent* e = ::readdir(d)) {
    const std::string_view entry(e->d_name);
    if (!entry.starts_with(prefix)) continue;
    const std::string tmp = dir + "/" + std::string(entry);
    const int fd = ::open(tmp.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) continue;
    struct stat st {};
    if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && ::flock(fd, LOCK_EX | LOCK_NB) == 0) {
      ::unlink(tmp.c_str());
    }
    ::close(fd);  // releases the lock, if taken
  }
  ::closedir(d);
}

void sync_folder(const std::string& dir, const std::string& path) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  check(fd >= 0, kOp, "replaced '{}' but cannot open its folder '{}' to sync it: {}", path, dir,
        errno_text(errno));
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  check(rc == 0, kOp, "replaced '{}' but cannot sync its folder '{}': {}", path, dir,
        errno_text(err));
}

}  // namespace

void AtomicWriter::write(const void* data, size_t n) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    const ssize_t w = ::write(fd_, p, n);
    if (w < 0 && errno == EINTR) continue;
    check(w > 0, kOp, "cannot write '{}' (temporary file '{}'): {}", path_, tmp_,
          errno_text(w < 0 ? errno : EIO));
    p += w;
    n -= size_t(w);
    written_ += size_t(w);
  }
}

void write_file_atomic(const std::string& path, const std::function<void(AtomicWriter&)>& fill) {
  const auto [dir, name] = split_path(path);
  check(!name.empty(), kOp, "path '{}' names a folder, expected a file", path);
  remove_dead_temporaries(dir, name);
  std::string tmp;
  const int fd = open_temp(dir, name, tmp);
  check(fd >= 0, kOp, "cannot create a temporary file in '{}' to write '{}': {}", dir, path,
        errno_text(errno));
  // From here on every exit path either renames the temporary or removes it. The lock
  // marks the temporary as being written until the rename (remove_dead_temporaries).
  bool is_open = true;
  try {
    check(::flock(fd, LOCK_EX | LOCK_NB) == 0, kOp, "cannot lock temporary file '{}': {}", tmp,
          errno_text(errno));
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
      ::fchmod(fd, st.st_mode & 07777);  // best effort: the data matters more than the mode
    }
    AtomicWriter writer(fd, path, tmp);
    fill(writer);
    check(::fsync(fd) == 0, kOp, "cannot sync '{}' (temporary file '{}'): {}", path, tmp,
          errno_text(errno));
    // Renamed while still open and locked, so no other writer's sweep can take it for
    // debris in between. After a successful fsync, close reports nothing new.
    check(::rename(tmp.c_str(), path.c_str()) == 0, kOp,
          "cannot replace '{}' with temporary file '{}': {}", path, tmp, errno_text(errno));
    is_open = false;
    ::close(fd);
  } catch (...) {
    if (is_open) {
      ::unlink(tmp.c_str());  // while still locked
      ::close(fd);
    }
    throw;
  }
  sync_folder(dir, path);
}

void write_file_atomic(const std::string& path, std::span<const std::byte> bytes) {
  write_file_atomic(path, [&](AtomicWriter& w) { w.write(bytes.data(), bytes.size()); });
}

void write_file_atomic(const std::string& path, std::string_view bytes) {
  write_file_atomic(path, [&](AtomicWriter& w) { w.write(bytes); });
}

std::vector<std::byte> read_file_bytes(const std::string& path, std::string_view who) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  check(fd >= 0, who, "cannot open '{}': {}", path, errno_text(errno));
  std::vector<std::byte> out;
  std::byte buf[1 << 16];
  for (;;) {
    const ssize_t r = ::read(fd, buf, sizeof buf);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      const int err = errno;
      ::close(fd);
      fail(who, fmt::format("cannot read '{}': {}", path, errno_text(err)));
    }
    if (r == 0) break;
    out.insert(out.end(), buf, buf + r);
  }
  ::close(fd);
  return out;
}

}  // namespace descent
