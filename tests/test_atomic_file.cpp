// write_file_atomic: the new bytes land completely or not at all. Failures are made
// real — an exception from the writer callback midway, a write refused by the kernel
// (RLIMIT_FSIZE → EFBIG after a partial write), a rename onto a folder, a missing
// folder — and each leaves the previous file byte-for-byte and no temporary behind.
#include <descent/core/atomic_file.h>
#include <descent/core/safetensors.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>

#include "safetensors_testing.h"
#include "testing/gradcheck.h"

using namespace descent;
using descent::testing::ScratchDir;

namespace {

std::string read_text(const std::string& path) {
  return descent::testing::to_string(read_file_bytes(path, "test"));
}

std::string big_text(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = char('a' + i % 26);
  return s;
}

// Lowers the file-size limit for the test's duration; writes past it fail with EFBIG
// (SIGXFSZ ignored, so the process is not killed).
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    getrlimit(RLIMIT_FSIZE, &old_);
    old_handler_ = std::signal(SIGXFSZ, SIG_IGN);
    rlimit lim = old_;
    lim.rlim_cur = bytes;
    setrlimit(RLIMIT_FSIZE, &lim);
  }
  ~FileSizeLimit() {
    setrlimit(RLIMIT_FSIZE, &old_);
    std::signal(SIGXFSZ, old_handler_);
  }

 private:
  rlimit old_{};
  void (*old_handler_)(int) = nullptr;
};

}  // namespace

TEST(AtomicFile, WritesAndReplaces) {
  ScratchDir dir;
  const std::string path = dir.file("f.bin");
  write_file_atomic(path, std::string_view("first"));
  EXPECT_EQ(read_text(path), "first");
  const std::string big = big_text(300000);
  write_file_atomic(path, [&](AtomicWriter& w) {
    for (size_t i = 0; i < big.size(); i += 1000) w.write(big.data() + i, 1000);
    EXPECT_EQ(w.bytes_written(), big.size());
  });
  EXPECT_EQ(read_text(path), big);
  write_file_atomic(path, std::string_view(""));
  EXPECT_EQ(read_text(path), "");
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"f.bin"});
}

TEST(AtomicFile, ExceptionMidwayKeepsThePreviousFile) {
  ScratchDir dir;
  const std::string path = dir.file("f.bin");
  write_file_atomic(path, std::string_view("previous contents"));
  struct Boom {};
  EXPECT_THROW(write_file_atomic(path,
                                 [&](AtomicWriter& w) {
                                   w.write(big_text(100000));
                                   throw Boom{};  // exceptions propagate unchanged
                                 }),
               Boom);
  EXPECT_EQ(read_text(path), "previous contents");
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"f.bin"});
}

TEST(AtomicFile, RefusedWriteKeepsThePreviousFile) {
  ScratchDir dir;
  const std::string path = dir.file("model.safetensors");
  save_safetensors(path, {{"w", arange(10.0)}});
  const std::string before = read_text(path);
  {
    FileSizeLimit limit(4096);
    EXPECT_THROW_MSG(save_safetensors(path, {{"w", zeros({100000})}}),
                     fmt::format("write_file_atomic: cannot write '{}' (temporary file '{}/.{}",
                                 path, dir.path(), "model.safetensors.tmp."));
    EXPECT_THROW_MSG(write_file_atomic(path, std::string_view(big_text(10000))), "File too large");
  }
  EXPECT_EQ(read_text(path), before);
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"model.safetensors"});
  EXPECT_EQ(load_safetensors(path).tensors.at("w").to_vector<float>()[9], 9.0f);
}

TEST(AtomicFile, FailedRenameRemovesTheTemporary) {
  ScratchDir dir;
  const std::string path = dir.file("taken");
  std::filesystem::create_directory(path);
  write_file_atomic(path + "/inside", std::string_view("x"));  // a non-empty folder
  EXPECT_THROW_MSG(write_file_atomic(path, std::string_view("data")),
                   fmt::format("cannot replace '{}' with temporary file", path));
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"taken"});
  EXPECT_EQ(read_text(path + "/inside"), "x");
}

TEST(AtomicFile, MissingFolderAndBadPathsAreErrors) {
  ScratchDir dir;
  const std::string path = dir.file("no/such/dir/f.bin");
  EXPECT_THROW_MSG(write_file_atomic(path, std::string_view("x")),
                   fmt::format("write_file_atomic: cannot create a temporary file in '{}' to write "
                               "'{}': No such file or directory",
                               dir.file("no/such/dir"), path));
  EXPECT_THROW_MSG(write_file_atomic(dir.path() + "/", std::string_view("x")),
                   "names a folder, expected a file");
  EXPECT_THROW_MSG(
      read_file_bytes(dir.file("absent"), "reader"),
      fmt::format("reader: cannot open '{}': No such file or directory", dir.file("absent")));
  EXPECT_TRUE(dir.entries().empty());
}

TEST(AtomicFile, KeepsTheTargetsPermissions) {
  ScratchDir dir;
  const std::string path = dir.file("f.bin");
  write_file_atomic(path, std::string_view("a"));
  ASSERT_EQ(::chmod(path.c_str(), 0640), 0);
  write_file_atomic(path, std::string_view("b"));
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  EXPECT_EQ(read_text(path), "b");
}

TEST(AtomicFile, RelativePathInTheWorkingFolder) {
  ScratchDir dir;
  const auto old = std::filesystem::current_path();
  std::filesystem::current_path(dir.path());
  write_file_atomic("rel.bin", std::string_view("here"));
  std::filesystem::current_path(old);
  EXPECT_EQ(read_text(dir.file("rel.bin")), "here");
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"rel.bin"});
}

// A writer killed mid-save (SIGKILL: no cleanup runs) leaves its temporary behind; the
// next save to the same path removes it. A temporary another writer still holds stays.
TEST(AtomicFile, TheNextSaveRemovesTheTemporariesOfKilledWriters) {
  ScratchDir dir;
  const std::string path = dir.file("ckpt.safetensors");
  write_file_atomic(path, std::string_view("old"));
  for (int i = 0; i < 3; ++i) {
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      write_file_atomic(path, [](AtomicWriter& w) {
        w.write(std::string_view("half a checkpoint"));
        ::raise(SIGKILL);
      });
      ::_exit(0);  // not reached
    }
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  }
  // Each killed writer's save swept its predecessor's temporary: only the last remains.
  EXPECT_EQ(dir.entries().size(), 2u);
  EXPECT_EQ(read_text(path), "old");

  // A temporary that is being written (its writer holds the lock) is not debris.
  const std::string live = dir.file(".ckpt.safetensors.tmp.live");
  const int fd = ::open(live.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX), 0);

  write_file_atomic(path, std::string_view("new"));
  EXPECT_EQ(read_text(path), "new");
  EXPECT_EQ(dir.entries(),
            (std::vector<std::string>{".ckpt.safetensors.tmp.live", "ckpt.safetensors"}));
  ::close(fd);
  write_file_atomic(path, std::string_view("newer"));  // now unlocked: removed
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"ckpt.safetensors"});
}
