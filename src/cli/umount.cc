// src/cli/umount.cc — `encfsr umount [-z] MOUNTPOINT`: unmounts an encfsr (any FUSE) mount,
// also one whose daemon died ("transport endpoint is not connected"). Not a FUSE mount: exit 6.
#include <memory>
#include <string>

#include "src/cli/cli_error.h"
#include "src/cli/commands.h"
#include "src/cli/mountpoint.h"
#include "src/util/exit_codes.h"

namespace encfsr::cli {
namespace {

struct UmountArgs {
  std::string mountpoint;
  bool lazy = false;
  bool lazy_if_busy = false;
};

int run_umount(const UmountArgs& args) {
  const std::string mountpoint = absolute_mountpoint(args.mountpoint);
  if (!is_fuse_mount(mountpoint)) {
    throw CliError(util::kExitMountpoint, mountpoint + " is not a FUSE mount point");
  }
  std::string why = unmount(mountpoint, args.lazy);
  if (!why.empty() && !args.lazy && args.lazy_if_busy) why = unmount(mountpoint, true);
  if (!why.empty()) {
    throw CliError(util::kExitFuse, "cannot unmount " + mountpoint + ": " + why +
                                        (args.lazy ? "" : " (-z unmounts lazily)"));
  }
  return util::kExitOk;
}

}  // namespace

CommandRunner add_umount(CLI::App& app) {
  auto args = std::make_shared<UmountArgs>();
  CLI::App* command =
      app.add_subcommand("umount", "Unmount an encfsr view (also one whose daemon died).");
  command->add_option("MOUNTPOINT", args->mountpoint, "where the view is mounted")->required();
  command->add_flag("-z,--lazy", args->lazy,
                    "detach now, clean up when the mount is no longer busy");
  command->add_flag("--lazy-if-busy", args->lazy_if_busy,
                    "unmount, or if that fails (the view is busy) detach lazily as with -z "
                    "(for service managers: the daemon ends once the last file is closed)");
  return [args]() { return run_umount(*args); };
}

}  // namespace encfsr::cli
