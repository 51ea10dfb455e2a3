// src/cli/init.cc — `encfsr init`: create a new random master key, wrap it with a password
// (Argon2id) into a new key file (mode 0600, written atomically, never over an existing file)
// and show the master key once as a paper key: written to --paper-key-file FILE (created, mode
// 0600, never over an existing file), else printed only when standard output is a terminal (a
// cron job's or a CI log's output is kept by others), else one line says it was not printed.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "config/key_file.h"
#include "crypto/keys.h"
#include "crypto/paper_key.h"
#include "crypto/password_wrap.h"
#include "src/cli/cli_error.h"
#include "src/cli/commands.h"
#include "src/cli/kdf_options.h"
#include "src/cli/key_source.h"
#include "src/util/exit_codes.h"
#include "src/util/unique_fd.h"
#include "src/util/write_all.h"

namespace encfsr::cli {
namespace {

struct InitOptions {
  std::string key;
  KeyOptions key_options;
  bool quiet = false;
  std::optional<std::string> paper_key_file;
  KdfOptions kdf;
};

// Refuses an existing key file (also a dangling symlink) and a missing parent directory before
// any password is asked for.
void check_new_key_path(const std::filesystem::path& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    throw CliError(util::kExitKeyFile,
                   "key file " + path.string() + " already exists; refusing to overwrite it");
  }
  if (errno != ENOENT) {
    throw CliError(util::kExitKeyFile,
                   "cannot check key file " + path.string() + ": " + std::strerror(errno));
  }
  std::filesystem::path parent = path.parent_path();
  if (parent.empty()) parent = ".";
  if (::stat(parent.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    throw CliError(util::kExitKeyFile, "cannot create key file " + path.string() + ": directory " +
                                           parent.string() + " does not exist");
  }
}

// The paper key text straight from secure memory to fd (no copy in stdio's buffer), then a
// newline. Returns 0 or an errno.
int write_paper_key(int fd, const crypto::MasterKey& master) {
  const crypto::SecureBuffer paper = crypto::format_paper_key(master);
  if (const int err = util::write_all(fd, paper.data(), paper.size()); err != 0) return err;
  return util::write_all(fd, "\n", 1);
}

void print_paper_key(const crypto::MasterKey& master, const std::filesystem::path& path) {
  std::printf("Created key file %s.\n", path.c_str());
  std::printf(
      "Paper key (the master key itself): write it down and keep it in a safe place, apart from "
      "the backups. With it, `encfsr ... --master-key-file FILE` unlocks the key file without "
      "the password:\n");
  std::fflush(stdout);
  if (const int err = write_paper_key(STDOUT_FILENO, master); err != 0) {
    throw CliError(util::kExitIo, "cannot print the paper key: " + std::string(std::strerror(err)));
  }
}

// Creates the paper key file before anything else is done, so that a name that exists (or a
// symlink planted there) stops init before a key is made.
util::UniqueFd create_paper_key_file(const std::string& file) {
  util::UniqueFd fd(
      ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600));
  if (!fd) {
    throw CliError(util::kExitKeyFile, "cannot create paper key file " + file + ": " +
                                           std::strerror(errno) +
                                           (errno == EEXIST ? " (it is never overwritten)" : ""));
  }
  return fd;
}

int run_init(const InitOptions& options) {
  const crypto::KdfParams kdf = options.kdf.params(crypto::KdfParams{});
  const std::filesystem::path path(options.key);
  check_new_key_path(path);
  util::UniqueFd paper_fd;
  if (options.paper_key_file) paper_fd = create_paper_key_file(*options.paper_key_file);
  // Removes the paper key file again if init fails before it is filled.
  struct RemoveOnFailure {
    const std::optional<std::string>* file;
    bool keep = false;
    ~RemoveOnFailure() {
      if (!keep && *file) ::unlink((*file)->c_str());
    }
  } remove_paper{&options.paper_key_file};

  const std::string prompt = "New password for " + path.string() + ": ";
  const crypto::SecureBuffer password =
      read_password(options.key_options, prompt.c_str(), /*confirm=*/true);

  const crypto::MasterKey master = crypto::MasterKey::generate();
  config::KeyFile key_file;
  if (config::make_key_file(master, password.view(), kdf, key_file) != crypto::Status::kOk) {
    throw CliError(util::kExitInternal,
                   "cannot wrap the master key (not enough memory for the key derivation?)");
  }
  try {
    config::write_key_file(path, config::serialize_key_file(key_file), /*must_not_exist=*/true);
  } catch (const config::KeyFileError& e) {
    throw CliError(util::kExitKeyFile, std::string("key file ") + e.what());
  }
  if (paper_fd) {
    int err = write_paper_key(paper_fd.get(), master);
    if (err == 0 && ::fsync(paper_fd.get()) != 0) err = errno;
    if (err == 0 && ::close(paper_fd.release()) != 0) err = errno;
    if (err != 0) {
      throw CliError(util::kExitIo, "key file " + path.string() +
                                        " was created, but writing the paper key file " +
                                        *options.paper_key_file + " failed: " + std::strerror(err));
    }
    remove_paper.keep = true;
    if (!options.quiet) {
      std::printf(
          "Created key file %s; its paper key is in %s: keep it in a safe place, apart "
          "from the backups, and delete that file.\n",
          path.c_str(), options.paper_key_file->c_str());
    }
  } else if (!options.quiet) {
    if (::isatty(STDOUT_FILENO) == 1) {
      print_paper_key(master, path);
    } else {
      std::printf(
          "Created key file %s. The paper key was not printed: standard output is not a "
          "terminal (a log keeps it). It is shown only once: run init on a terminal, or "
          "with --paper-key-file FILE, to get one for a new key.\n",
          path.c_str());
    }
  }
  std::fflush(stdout);
  return util::kExitOk;
}

}  // namespace

CommandRunner add_init(CLI::App& app) {
  auto options = std::make_shared<InitOptions>();
  CLI::App* sub = app.add_subcommand(
      "init",
      "Create a new master key in a password-protected key file and print it once as a paper "
      "key");
  sub->add_option("--key", options->key, "the key file to create (must not exist)")
      ->type_name("FILE")
      ->required();
  add_key_options(*sub, options->key_options, /*with_master_key=*/false);
  sub->add_flag("-q,--quiet", options->quiet, "print nothing (not the paper key either)");
  sub->add_option_function<std::string>(
         "--paper-key-file",
         [options](const std::string& value) { options->paper_key_file = value; },
         "write the paper key to FILE (created with mode 0600; must not exist) instead of "
         "printing it; without this option it is printed only on a terminal")
      ->type_name("FILE");
  add_kdf_options(*sub, options->kdf, /*keep_existing=*/false);
  return [options]() { return run_init(*options); };
}

}  // namespace encfsr::cli
